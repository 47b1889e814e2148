// Text <-> token ids for building evaluation prompts (docs/evaluation.md "Protocol"): the model's
// own tokenizer, or, for a remote model whose tokenizer is not at hand, an approximation that
// counts words and punctuation marks as tokens.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace longctx::eval {

class TextCodec {
 public:
  virtual ~TextCodec() = default;
  // Appends the ids of `text` (no BOS/EOS) to *ids.
  virtual Status encode(std::string_view text, std::vector<int32_t>* ids) const = 0;
  virtual Result<std::string> decode(std::span<const int32_t> ids) const = 0;
  // A token that is a period: its text, leading whitespace and word-boundary markers ("\u2581",
  // "\u0120") removed, is exactly ".". The needle moves back to just after such a token
  // (paper.md "Insertion").
  virtual bool is_period(int32_t id) const = 0;
  virtual int32_t bos_id() const = 0;  // -1: none
  virtual int32_t eos_id() const = 0;  // -1: none
  // True when ids are the model's own tokens (lengths are exact).
  virtual bool exact() const = 0;
  virtual std::string describe() const = 0;
};

// The model's tokenizer. The period tokens are found once from every token's piece.
std::unique_ptr<TextCodec> tokenizer_codec(std::shared_ptr<const Tokenizer> tok);

// An approximation for models served remotely without --tokenizer: a token is optional leading
// whitespace followed by a run of letters/digits or by one other character. Ids are assigned on
// first sight (thread-safe); decode(encode(t)) == t.
std::unique_ptr<TextCodec> word_codec();

}  // namespace longctx::eval
