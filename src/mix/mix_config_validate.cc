// MixConfig::validate(): every field range-checked before a plan is made (core/validate.h), so a
// caller outside the CLI gets the same checks and the same messages as `longctx mix`. Fields are
// named by their `longctx mix` flags; the strategy checks its own options (MixStrategy::validate).
#include "core/validate.h"
#include "mix/mix_config.h"
#include "mix/strategy.h"

namespace longctx {

Status MixConfig::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--tokens", total_tokens, uint64_t{1}, kMaxMixTokens));
  LONGCTX_RETURN_IF_ERROR(check_range("--seq-len", seq_len, uint64_t{1}, kMaxMixSeqLen));
  if (!strategy) return make_error(ErrorCode::kInvalidArgument, "mixture configuration without a strategy");
  LONGCTX_RETURN_IF_ERROR(strategy->validate());
  // Pieces and spans hold 32-bit token offsets (mix/packing.h Piece, docs/formats.md).
  LONGCTX_RETURN_IF_ERROR(check_range("--long-threshold", long_threshold, uint64_t{0}, uint64_t{UINT32_MAX}));
  if (!domain_shares.empty()) LONGCTX_RETURN_IF_ERROR(check_shares("--domain-shares", domain_shares));
  LONGCTX_RETURN_IF_ERROR(check_range("--max-epochs", max_epochs, uint32_t{1}, kMaxEpochsLimit));
  return Status::ok();
}

}  // namespace longctx
