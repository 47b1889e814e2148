// longctx model init | info | export-gguf | forward, and longctx generate.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx::cli {

struct ModelInitOptions {
  std::string config, out, dtype = "f32";
  uint64_t seed = 0;
  float std = 0.02f;
  bool overwrite = false;
  Status validate() const;
};
Status run_model_init(const ModelInitOptions& o);

struct ModelInfoOptions {
  std::string dir;
  Status validate() const { return Status::ok(); }
};
Status run_model_info(const ModelInfoOptions& o);

struct ModelExportGgufOptions {
  std::string dir, out, type = "f16", name = "longctx", tokenizer;
  bool no_tokenizer = false, overwrite = false;
  Status validate() const;
};
Status run_model_export_gguf(const ModelExportGgufOptions& o);

struct ModelForwardOptions {
  std::string model, ids, out;  // out may be "-" (standard output)
  int threads = 0;
  bool overwrite = false;
  Status validate() const;
};
Status run_model_forward(const ModelForwardOptions& o);

struct GenerateOptions {
  std::string model, prompt, prompt_ids, tokenizer;
  std::vector<std::string> stop;
  int max_new = 64, threads = 0, prefill_chunk = 512;
  float temperature = 0.0f, top_p = 1.0f;
  uint64_t seed = 0;
  bool print_ids = false, no_bos = false, ignore_eos = false, allow_beyond_context = false;
  Status validate() const;
};
Status run_generate(const GenerateOptions& o);

// Adds the "model" command group and "generate" to app.
void register_model_commands(CLI::App& app);

}  // namespace longctx::cli
