// The Tokenizer interface every stage uses (design.md: tokenizer owns the model adapters, the fast
// exact encoder and the training wrapper). Implementations are immutable after load and their
// const methods are safe to call from many threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Appends the ids of `text` to *ids, without BOS/EOS (callers add those: the store records raw
  // document tokens; packing adds BOS per paper.md "Packing").
  virtual Status encode(std::string_view text, std::vector<uint32_t>* ids) const = 0;
  virtual Result<std::string> decode(std::span<const uint32_t> ids) const = 0;
  virtual uint32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when the model has none
  virtual int32_t eos_id() const = 0;
  virtual int32_t unk_id() const = 0;
  virtual int32_t pad_id() const = 0;
  virtual std::string id_to_piece(uint32_t id) const = 0;
  // "sentencepiece" (the library), "fast-bpe" (fast_spm_bpe.h), "hf-bpe" (hf_bpe.h): recorded in
  // manifests.
  virtual std::string impl_name() const = 0;
  // Why this implementation serves the model, when that is not the obvious choice (e.g. kAuto fell
  // back to the library because the fast encoder does not support a model feature); else empty.
  virtual std::string impl_note() const { return {}; }
  // xxh64 of the model file's bytes: a store records which tokenizer produced it.
  virtual uint64_t model_checksum() const = 0;
};

// kAuto: a SentencePiece model gets the fast exact encoder, or the library (with impl_note() saying
// why) when the model uses a feature the fast encoder does not support; a `tokenizer.json` gets the
// Hugging Face byte-level BPE encoder. kSentencePiece: always the library. kFast: the fast encoder
// or an error naming the unsupported feature. kHfBpe: `tokenizer.json` only.
enum class TokenizerImpl { kAuto, kSentencePiece, kFast, kHfBpe };

// Loads a tokenizer: a SentencePiece `*.model` file, a Hugging Face `tokenizer.json`, or a directory
// holding `tokenizer.model` (preferred) or `tokenizer.json`.
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path,
                                                  TokenizerImpl impl = TokenizerImpl::kAuto);
Result<TokenizerImpl> parse_tokenizer_impl(const std::string& name);

// SentencePiece BPE training with LLaMA-2-like settings (issue 2, item 6): byte fallback, split
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
