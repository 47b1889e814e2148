// MixConfig::validate(): every field range-checked before a plan is made (core/validate.h), so a
// caller outside the CLI gets the same checks and the same messages as `longctx mix`. Fields are
// named by their `longctx mix` flags.
#include "core/validate.h"
#include "mix/mixture.h"

namespace longctx {

Status MixConfig::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--tokens", total_tokens, uint64_t{1}, kMaxMixTokens));
  LONGCTX_RETURN_IF_ERROR(check_range("--seq-len", seq_len, uint64_t{1}, kMaxMixSeqLen));
  // Pieces and spans hold 32-bit token offsets (mixture.h Piece, docs/store.md).
  LONGCTX_RETURN_IF_ERROR(check_range("--at", cut_at, uint64_t{1}, uint64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range("--max-doc", max_doc, uint64_t{1}, uint64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range("--long-threshold", long_threshold, uint64_t{0}, uint64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range("--long-share", long_share, 0.0, 1.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--keep-short", keep_short, 0.0, 1.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--weight", upsample_weight, 0.0, 1.0));
  // 0 means exact lengths; real text has between 1 and 10 bytes per token.
  LONGCTX_RETURN_IF_ERROR(check_range("--chars-per-token", paper_chars_per_token, 0.0, 1024.0));
  if (!domain_shares.empty()) LONGCTX_RETURN_IF_ERROR(check_shares("--domain-shares", domain_shares));
  return Status::ok();
}

}  // namespace longctx
