// Native encoder for SentencePiece BPE models (LLaMA-2 family) that returns exactly the ids of
// SentencePieceProcessor::Encode (libsentencepiece 0.1.97).
//
// What the library does (and we reproduce):
//   1. normalise: the model's rule (identity, or a precompiled charsmap such as nmt_nfkc: longest
//      matching rule in a double-array trie), an invalid UTF-8 byte -> U+FFFD (one byte consumed),
//      optional removal of extra spaces, dummy-prefix space, ' ' -> U+2581;
//   2. split the normalised text into symbols: the longest user-defined symbol at each position
//      (frozen: never merged) or one UTF-8 character;
//   3. repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the highest
//      score, ties to the leftmost pair;
//   4. a symbol that is not a piece is unknown: with byte fallback it becomes the ids of <0xXX> for
//      each of its UTF-8 bytes, otherwise unk (consecutive unknowns collapse into one unk).
//
// Why it is faster, and why it is still exact:
//   * Boundaries. From the vocabulary we collect every pair of characters (a, b) that occur
//     adjacently inside some piece. Between two characters that form no such pair no merge can ever
//     happen (a merge result is always a piece), so step 3 on the whole text equals step 3 run on
//     each stretch between such boundaries: merges in one stretch never read or change another, and
//     within a stretch the (score, leftmost) order is unchanged. For LLaMA-style vocabularies
//     (split by whitespace, split digits) the stretches are words with their leading U+2581.
//   * Cache. The ids of a stretch are a pure function of its bytes, so frequent stretches are
//     cached (per thread, bounded).
//   * Merge loop. Pieces are integer ids; a merge is one lookup of (left id, right id) in a flat hash
//     table; short stretches use an O(n * merges) scan over arrays, long ones a binary heap with
//     lazy invalidation, so a long stretch (runs of spaces, base64) costs O(n log n).
//
// Unsupported model features are reported by compile() as kUnsupported with the reason (callers
// fall back to the library): non-BPE models, treat_whitespace_as_suffix, UNUSED pieces (the library re-splits those with state shared across
// the whole text), and vocabularies where a piece could be merged from a character that is not
// itself a piece.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/spm_model_proto.h"

namespace longctx {

struct FastSpmBpeModel;  // compiled tables (fast_spm_bpe.cc)

class FastSpmBpe {
 public:
  ~FastSpmBpe();
  static Result<std::unique_ptr<FastSpmBpe>> compile(const SpmModelProto& model);

  // Appends the ids of `text` (no BOS/EOS). Thread-safe: the segment cache is thread-local.
  void encode(std::string_view text, std::vector<uint32_t>* ids) const;
  // The same result without boundaries or cache: one merge loop over the whole normalised text,
  // in the library's order. A second, simpler implementation for tests and debugging.
  void encode_reference(std::string_view text, std::vector<uint32_t>* ids) const;
  // The normalised text (step 1), for tests.
  std::string normalize(std::string_view text) const;

 private:
  FastSpmBpe() = default;
  std::unique_ptr<FastSpmBpeModel> m_;
  uint64_t serial_ = 0;  // identifies this instance to the thread-local cache
};

}  // namespace longctx
