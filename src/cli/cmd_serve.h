// longctx serve: an OpenAI-compatible completions server for one checkpoint (docs/evaluation.md
// "Serving").
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"

namespace longctx::cli {

struct ServeOptions {
  std::string model, tokenizer, host = "127.0.0.1", name;
  int port = 8000, queue = 16, threads = 0, prefill_chunk = 512, default_max_tokens = 16;
  Status validate() const;
};
Status run_serve(const ServeOptions& o);

void register_serve_commands(CLI::App& app);

}  // namespace longctx::cli
