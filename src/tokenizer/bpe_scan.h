// The array-scan merge loop both BPE encoders use for short stretches (fast_spm_bpe.cc, hf_bpe.cc).
// Internal to src/tokenizer.
#pragma once
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace longctx::tok_detail {

constexpr int32_t kNoMerge = INT32_MAX;

// Symbols id[0..n) in text order; each round merges the adjacent pair with the lowest rank, ties to
// the leftmost (SentencePiece's highest score is our lowest rank; the tokenizers library's order is
// lowest rank then leftmost). merge_of(l, r, &merged, &rank) looks a pair up (rank kNoMerge: none);
// on_merge(best, tail) is called before symbol best + 1 is removed, with `tail` symbols after it,
// so the caller can fold its parallel arrays. pr and mg are scratch arrays of n entries. Returns the
// number of symbols left. Cost O(n * merges), for n up to a few dozen.
template <typename MergeOf, typename OnMerge>
size_t merge_scan_loop(int32_t* id, int32_t* pr, int32_t* mg, size_t n, const MergeOf& merge_of,
                       const OnMerge& on_merge) {
  for (size_t k = 0; k + 1 < n; ++k) merge_of(id[k], id[k + 1], &mg[k], &pr[k]);
  if (n) pr[n - 1] = kNoMerge;
  while (n > 1) {
    size_t best = 0;
    int32_t best_rank = pr[0];
    for (size_t k = 1; k + 1 < n; ++k)
      if (pr[k] < best_rank) best_rank = pr[k], best = k;
    if (best_rank == kNoMerge) break;
    id[best] = mg[best];
    const size_t tail = n - best - 2;
    on_merge(best, tail);
    std::memmove(id + best + 1, id + best + 2, tail * sizeof(int32_t));
    std::memmove(pr + best + 1, pr + best + 2, tail * sizeof(int32_t));
    std::memmove(mg + best + 1, mg + best + 2, tail * sizeof(int32_t));
    --n;
    if (best + 1 < n) {
      merge_of(id[best], id[best + 1], &mg[best], &pr[best]);
    } else {
      pr[best] = kNoMerge;
    }
    if (best > 0) merge_of(id[best - 1], id[best], &mg[best - 1], &pr[best - 1]);
  }
  return n;
}

}  // namespace longctx::tok_detail
