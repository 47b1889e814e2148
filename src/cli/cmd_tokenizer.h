// longctx tokenizer train | encode | decode | info
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
  bool verbose = false, overwrite = false;
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
  bool skip_special = false;  // drop special tokens instead of printing them
  Status validate() const;
};
Status run_tokenizer_decode(const TokenizerDecodeOptions& o);

// Kind, vocabulary size, special ids, normaliser, pre-tokenizer, decoder, and the encoder that
// serves the file and why (Tokenizer::info, docs/tokenizer.md).
struct TokenizerInfoOptions {
  std::string tokenizer;
  Status validate() const { return Status::ok(); }
};
Status run_tokenizer_info(const TokenizerInfoOptions& o);

void register_tokenizer_commands(CLI::App& app);

}  // namespace longctx::cli
