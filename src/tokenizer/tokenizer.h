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
  // "sentencepiece" (the library), later "fast-bpe", "hf-bpe": recorded in manifests.
  virtual std::string impl_name() const = 0;
  // xxh64 of the model file's bytes: a store records which tokenizer produced it.
  virtual uint64_t model_checksum() const = 0;
};

enum class TokenizerImpl { kAuto, kSentencePiece };

// Loads a tokenizer model file (a SentencePiece `tokenizer.model`; a directory is searched for
// `tokenizer.model`).
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
