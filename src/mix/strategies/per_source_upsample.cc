// per-source-upsample, the paper's recipe (paper.md section 3, "per-source length upsampling"):
// every domain keeps its token share, and inside it long_share of its tokens come from documents
// longer than the long threshold. Two rules the paper leaves open (docs/mixing.md "Strategies"):
// a domain whose own long share is higher keeps its own (upsampling never lowers it, and it has
// no short documents to spare), and a domain without long documents stays all short.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mix/plan.h"
#include "core/validate.h"
#include "mix/strategies.h"

namespace longctx {
namespace {

class PerSourceUpsample final : public MixStrategy {
 public:
  explicit PerSourceUpsample(PerSourceUpsampleOptions o) : o_(o) {}
  std::string name() const override { return "per-source-upsample"; }
  nlohmann::json options_json() const override { return {{"long_share", o_.long_share}}; }
  Status validate() const override { return check_range("--long-share", o_.long_share, 0.0, 1.0); }
  bool splits_by_length() const override { return true; }

  Result<CellTargets> targets(const TargetInputs& in) const override {
    const size_t nd = in.domains.size();
    CellTargets out{CellTable<uint64_t>(nd, 0), std::vector<double>(nd, 0.0)};
    auto t = split_largest_remainder(in.total, in.domain_weight);
    for (size_t d = 0; d < nd; ++d) {
      const uint64_t all = in.available.domain_total(d), lng = in.available[Cell::long_of(d)];
      long double natural = all ? static_cast<long double>(lng) / all : 0;
      long double share_long = lng == 0 ? 0 : std::max<long double>(o_.long_share, natural);
      out.long_share_target[d] = static_cast<double>(share_long);
      out.target[Cell::long_of(d)] = static_cast<uint64_t>(std::llround(static_cast<long double>(t[d]) * share_long));
      out.target[Cell::short_of(d)] = t[d] - out.target[Cell::long_of(d)];
    }
    return out;
  }

  std::string plan_note(const DomainPlan& d, uint64_t long_threshold) const override {
    return fmt::format("  long (>{} tokens) share target {:.2f}%{}\n", long_threshold, 100 * d.long_share_target,
                       d.available_long == 0 ? " (the store has no long documents in this domain)"
                       : d.long_share_target > o_.long_share ? " (the domain's own share, above --long-share)" : "");
  }

 private:
  PerSourceUpsampleOptions o_;
};

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> per_source_upsample_from_options(const nlohmann::json& j) {
  PerSourceUpsampleOptions o;
  LONGCTX_ASSIGN_OR_RETURN(o.long_share, strategy_option(j, "long_share", o.long_share));
  return validated(per_source_upsample_strategy(o));
}

}  // namespace

StrategyPtr per_source_upsample_strategy(PerSourceUpsampleOptions o) { return std::make_shared<PerSourceUpsample>(o); }

namespace mix_registry {
extern const StrategyInfo per_source_upsample{"per-source-upsample", 40, per_source_upsample_from_options};
}  // namespace mix_registry

}  // namespace longctx
