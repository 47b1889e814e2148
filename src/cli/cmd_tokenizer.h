// longctx tokenizer train | encode | decode
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/status.h"

namespace longctx::cli {

struct TokenizerTrainOptions {
  std::vector<std::string> inputs;
  std::string out = "tokenizer.model";
  uint32_t vocab = 8000;
  std::string max_bytes = "40MB";
  uint32_t per_doc_bytes = 32768;
  int threads = 0;
  std::string text_field = "text";
  bool verbose = false;
  Status validate() const;
};
Status run_tokenizer_train(const TokenizerTrainOptions& o);

struct TokenizerEncodeOptions {
  std::string tokenizer, text, file;
  bool pieces = false, bos = false;
  Status validate() const { return Status::ok(); }
};
Status run_tokenizer_encode(const TokenizerEncodeOptions& o);

struct TokenizerDecodeOptions {
  std::string tokenizer, ids;
  Status validate() const;
};
Status run_tokenizer_decode(const TokenizerDecodeOptions& o);

void register_tokenizer_commands(CLI::App& app);

}  // namespace longctx::cli
