// The Tokenizer interface every stage uses (docs/architecture.md: tokenizer/ owns the model adapters,
// the fast exact encoder and the training wrapper). Implementations are immutable after load and their
// const methods are safe to call from many threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace longctx {

// What `longctx tokenizer info` shows: the file's kind and pipeline, in one line each.
struct TokenizerInfo {
  std::string format;         // "SentencePiece model" or "Hugging Face tokenizer.json"
  std::string model;          // e.g. "BPE, 32000 tokens, 61249 merges, byte_fallback"
  std::string normalizer;     // e.g. "Prepend(\"\u2581\"), Replace(String(\" \") -> \"\u2581\")"
  std::string pre_tokenizer;  // "none" when the model sees whole stretches of text
  std::string decoder;
  std::vector<std::pair<std::string, uint32_t>> special_tokens;  // content, id
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Appends the ids of `text` to *ids, without BOS/EOS (callers add those: the store records raw
  // document tokens; packing adds BOS per paper.md "Packing"). Ill-formed UTF-8 is replaced by
  // U+FFFD the way the reference library's own input path does (docs/tokenizer.md).
  virtual Status encode(std::string_view text, std::vector<uint32_t>* ids) const = 0;
  // The text of ids, as the reference library decodes them: SentencePiece's Decode, or the
  // `tokenizers` library's decode(ids, skip_special_tokens). With skip_special, special tokens
  // (control symbols, added special tokens) are dropped; without it they appear as their text.
  // An id >= vocab_size() is an error.
  virtual Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special) const = 0;
  virtual uint32_t vocab_size() const = 0;  // one more than the largest id
  virtual int32_t bos_id() const = 0;  // -1 when the model has none
  virtual int32_t eos_id() const = 0;
  virtual int32_t unk_id() const = 0;
  virtual int32_t pad_id() const = 0;
  // The token string of an id ("" when the id is not defined).
  virtual std::string piece(uint32_t id) const = 0;
  // "sentencepiece" (the library), "fast-bpe" (fast_spm_bpe.h), "hf-bpe" (hf_bpe.h): recorded in
  // manifests.
  virtual std::string impl_name() const = 0;
  // Why this implementation serves the model, when that is not the obvious choice (e.g. kAuto fell
  // back to the library because the fast encoder does not support a model feature); else empty.
  virtual std::string impl_note() const { return {}; }
  // xxh64 of the model file's bytes: a store records which tokenizer produced it.
  virtual uint64_t model_checksum() const = 0;
  virtual TokenizerInfo info() const = 0;
};

// kAuto: a SentencePiece model gets the fast exact encoder, or the library (with impl_note() saying
// why) when the model uses a feature the fast encoder does not support; a `tokenizer.json` gets the
// Hugging Face encoder (hf_bpe.h). kSentencePiece: always the library. kFast: the fast encoder
// or an error naming the unsupported feature. kHfBpe: `tokenizer.json` only.
enum class TokenizerImpl { kAuto, kSentencePiece, kFast, kHfBpe };

// Loads a tokenizer: a SentencePiece `*.model` file, a Hugging Face `tokenizer.json`, or a model
// folder holding `tokenizer.model` (preferred) or `tokenizer.json`.
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path,
                                                  TokenizerImpl impl = TokenizerImpl::kAuto);
Result<TokenizerImpl> parse_tokenizer_impl(const std::string& name);

// SentencePiece BPE training with LLaMA-2-like settings: byte fallback, split
// digits, whitespace kept, BOS=1 EOS=2 UNK=0, no normalisation beyond identity.
struct TokenizerTrainConfig {
  std::vector<std::string> input_files;   // text files, one sentence (line) per line
  std::string model_prefix;               // writes <prefix>.model and <prefix>.vocab
  uint32_t vocab_size = 8000;
  uint64_t input_sentence_size = 2000000;  // sentences sampled for training (0 = all)
  uint32_t max_sentence_length = 16384;    // bytes
  int num_threads = 2;
  uint64_t seed = 1;
  double character_coverage = 0.9995;
};
Status train_sentencepiece_bpe(const TokenizerTrainConfig& cfg);

}  // namespace longctx
