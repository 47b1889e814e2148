// The text stages of a Hugging Face tokenizer.json around its BPE model (hf_bpe.cc): added-token
// matching, normalisers, pre-tokenizers and decoders, each reproducing the `tokenizers` library's
// rule (docs/tokenizer.md). Internal to src/tokenizer. Inputs are valid UTF-8 (hf_bpe.cc replaces
// ill-formed bytes first).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/flat_map.h"
#include "tokenizer/hf_spec.h"

namespace longctx::tok_detail {

// An Oniguruma pattern (the library's engine) run in PCRE2 (JIT): `\s` and `\S` are rewritten to
// Unicode White_Space, which Oniguruma's mean; constructs whose meaning differs (\w, \b, \h, ...)
// and patterns that can match the empty string are refused at compile time.
class HfRegex {
 public:
  ~HfRegex();
  static Result<std::unique_ptr<HfRegex>> compile(const std::string& pattern);
  // The leftmost match at or after `pos`: true with [*a, *b), or false when there is none.
  Result<bool> find(std::string_view text, size_t pos, size_t* a, size_t* b) const;

 private:
  HfRegex() = default;
  void* code_ = nullptr;  // pcre2_code*
};

// A Split/Replace pattern: a literal string or an HfRegex.
class HfMatcher {
 public:
  static Result<HfMatcher> make(const HfPattern& p);
  Result<bool> find(std::string_view text, size_t pos, size_t* a, size_t* b) const;

 private:
  std::string literal_;
  std::shared_ptr<HfRegex> regex_;
};

// Leftmost-longest matching of added-token contents (a byte trie), as the library's Aho-Corasick
// automaton with MatchKind::LeftmostLongest finds them.
class HfAddedMatcher {
 public:
  void build(const std::vector<std::pair<std::string, uint32_t>>& tokens);
  bool empty() const { return nodes_ == 1; }
  // The leftmost-longest token at or after pos: true with its [*at, *at + *len) and *id.
  bool find(std::string_view text, size_t pos, size_t* at, size_t* len, uint32_t* id) const;

 private:
  U64Map child_;                 // (node << 8 | byte) -> child node
  std::vector<int64_t> value_;   // [node] -> token id, or -1
  bool first_[256] = {};         // bytes that start some token
  uint32_t nodes_ = 1;
};

class HfNormalizer {
 public:
  static Result<HfNormalizer> make(const std::vector<HfNormalizerStep>& steps);
  bool empty() const { return steps_.empty(); }
  // True when only Unicode normal forms run (characters keep their place at the start).
  bool keeps_start() const { return keeps_start_; }
  // *out = normalised `in`; *tmp is working space.
  Status apply(std::string_view in, std::string* out, std::string* tmp) const;

 private:
  struct Step {
    HfNormalizerStep::Kind kind;
    const void* icu = nullptr;  // const icu::Normalizer2*
    std::shared_ptr<HfMatcher> matcher;
    std::string content;
  };
  std::vector<Step> steps_;
  bool keeps_start_ = true;
};

// One piece of pre-tokenized text: bytes [p, p + len), and whether it starts where the text given to
// encode() started (Metaspace's prepend_scheme "first").
struct HfPiece {
  const char* p;
  uint32_t len;
  bool origin;
};

// Working memory of one pre-tokenization (per thread).
struct HfPreScratch {
  std::vector<HfPiece> a, b;
  std::string arena[2];
  std::vector<std::pair<size_t, size_t>> ranges;
  std::vector<uint8_t> is_match;
};

class HfPreTokenizer {
 public:
  static Result<HfPreTokenizer> make(const std::vector<HfPreTokenizerStep>& steps);
  bool byte_level() const { return byte_level_; }
  bool empty() const { return steps_.empty(); }
  // Splits `in` into pieces (*out points into `in` or into s's arenas, valid until the next call).
  Status run(HfPiece in, HfPreScratch& s, std::vector<HfPiece>** out) const;

 private:
  struct Step {
    HfPreTokenizerStep spec;
    std::shared_ptr<HfMatcher> matcher;  // kSplit, and kByteLevel with use_regex
  };
  Status split(const Step& st, const std::vector<HfPiece>& in, HfPreScratch& s, std::vector<HfPiece>* out) const;
  void metaspace(const Step& st, const std::vector<HfPiece>& in, std::string* arena, std::vector<HfPiece>* out) const;
  std::vector<Step> steps_;
  bool byte_level_ = false;
};

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100.. in byte order.
void byte_level_alphabet(uint32_t cps[256]);

// The decoder chain over token strings. Steps that act on each token alone (leading Replace steps)
// are applied to the vocabulary once at load.
class HfDecoder {
 public:
  // token[id] = the string the library hands to its decoder for id (empty when the id is unknown);
  // skip[id] = 1 when skip_special drops it; known[id] = 1 for ids the tokenizer defines.
  static Result<HfDecoder> make(const HfSpec& spec, const std::vector<std::string>& token,
                                std::vector<uint8_t> skip, std::vector<uint8_t> known);
  Result<std::string> decode(const uint32_t* ids, size_t n, bool skip_special) const;

 private:
  struct TokList {  // token i is buf[end[i-1], end[i])
    std::string buf;
    std::vector<uint32_t> end;
    size_t size() const { return end.size(); }
    std::string_view at(size_t i) const {
      size_t a = i ? end[i - 1] : 0;
      return std::string_view(buf).substr(a, end[i] - a);
    }
    void push(std::string_view s) {
      buf.append(s);
      end.push_back(static_cast<uint32_t>(buf.size()));
    }
    void clear() {
      buf.clear();
      end.clear();
    }
  };
  Status run_step(const HfDecoderStep& st, const HfMatcher* m, TokList& in, TokList& out) const;
  size_t first_tokens(const uint32_t* ids, size_t n, bool skip_special, TokList& a) const;
  void byte_level_token(std::string_view t, std::string* out) const;
  void metaspace_token(const HfDecoderStep& st, std::string_view t, bool first, std::string* out) const;
  static void flush_bytes(std::string* bytes, TokList& out);
  std::vector<HfDecoderStep> steps_;  // after the pre-applied ones
  std::vector<std::shared_ptr<HfMatcher>> matchers_;
  bool has_decoder_ = false;
  std::string unsupported_;
  std::vector<std::string> piece_;  // [id] -> token string with the pre-applied steps
  std::vector<int16_t> byte_;       // [id] -> byte of a <0xXX> token (after pre-applied steps), else -1
  std::vector<std::string> first_step_;  // [id] -> token after a first ByteLevel / Metaspace step
  std::vector<uint8_t> skip_, known_;
  uint32_t byte_level_cp_to_byte_[0x144];  // byte-level character -> byte (0xffffffff: not one)
};

}  // namespace longctx::tok_detail
