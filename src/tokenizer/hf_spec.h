// A Hugging Face `tokenizer.json` read into plain data (the parts the encoder and decoder in
// hf_bpe.h run), with every id checked before anything is sized by it. docs/tokenizer.md lists what
// is supported; anything else is refused with kUnsupported naming the component.
//
// The file's pipeline (the `tokenizers` library's, which hf_bpe.cc reproduces):
//   added tokens -> normalizer -> pre-tokenizer -> model (BPE) ; decoding: ids -> token strings ->
//   decoder.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx {

// A Split / Replace pattern: a literal string or an Oniguruma regular expression (the library's
// regex engine; hf_bpe.cc runs it in PCRE2 with the differences rewritten).
struct HfPattern {
  bool is_regex = false;
  std::string text;
};

struct HfNormalizerStep {
  enum Kind { kNfc, kNfd, kNfkc, kNfkd, kPrepend, kReplace };
  Kind kind = kNfc;
  HfPattern pattern;    // kReplace
  std::string content;  // kPrepend: the prefix; kReplace: the replacement
};

// How a Split keeps the pieces a pattern finds (the library's SplitDelimiterBehavior).
enum class HfSplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class HfPrependScheme { kFirst, kAlways, kNever };

struct HfPreTokenizerStep {
  enum Kind { kSplit, kMetaspace, kByteLevel };
  Kind kind = kSplit;
  // kSplit
  HfPattern pattern;
  HfSplitBehavior behavior = HfSplitBehavior::kIsolated;
  bool invert = false;
  // kMetaspace: spaces become `replacement`, which is prepended per `prepend_scheme`; with `split`
  // every replacement character starts a new piece.
  std::string replacement;
  HfPrependScheme prepend_scheme = HfPrependScheme::kAlways;
  bool split = true;
  // kByteLevel
  bool add_prefix_space = false;
  bool use_regex = true;
};

struct HfDecoderStep {
  enum Kind { kReplace, kByteFallback, kFuse, kStrip, kMetaspace, kByteLevel };
  Kind kind = kFuse;
  HfPattern pattern;    // kReplace
  std::string content;  // kReplace: replacement; kStrip: the character stripped
  uint32_t start = 0, stop = 0;  // kStrip: at most this many characters from each end
  std::string replacement;       // kMetaspace
  bool prepend_never = false;    // kMetaspace: prepend_scheme == never
};

struct HfAddedToken {
  std::string content;
  uint32_t id = 0;  // as the library assigns it on load (the file's ids are not used)
  bool special = false;
  bool normalized = false;  // matched after normalisation (its normalised form), else on raw text
};

struct HfSpec {
  std::vector<HfNormalizerStep> normalizers;  // a Sequence flattened; empty = none
  std::vector<HfPreTokenizerStep> pre_tokenizers;
  bool has_decoder = false;  // without one the library joins token strings with ' '
  std::vector<HfDecoderStep> decoders;
  std::string decoder_unsupported;  // non-empty: decode() fails with this reason (encode still works)
  // BPE model
  std::vector<std::string> vocab;  // [id] -> token string; ids without a token are empty
  std::vector<uint8_t> in_vocab;   // [id] -> 1 when the model vocabulary defines the id
  uint32_t vocab_entries = 0;      // number of model vocabulary entries (the library's vocab size)
  struct Merge {
    uint32_t left, right, result;
  };
  std::vector<Merge> merges;  // rank order; a later duplicate of a pair replaces the earlier one
  int64_t unk_id = -1;
  bool byte_fallback = false, fuse_unk = false, ignore_merges = false;
  std::vector<HfAddedToken> added;  // file order
  // One-line summaries for `longctx tokenizer info`.
  std::string normalizer_desc, pre_tokenizer_desc, decoder_desc, model_desc;
};

// Parses tokenizer.json bytes. Errors name the JSON path and what was expected; a vocabulary id is
// accepted only below (vocabulary entries + added tokens), the largest id a file that numbers its
// tokens without gaps can hold, so no id can make the loader allocate more than the file's size.
Result<HfSpec> parse_hf_tokenizer_json(std::string_view json);

}  // namespace longctx
