// global-upsample (paper.md "The mixture strategies compared"): one sampling rate r for every long
// document and keep_short x r for every short one, whatever its domain, so domains rich in long
// documents grow.
#include "core/validate.h"
#include "mix/strategies.h"

namespace longctx {
namespace {

class GlobalUpsample final : public MixStrategy {
 public:
  explicit GlobalUpsample(GlobalUpsampleOptions o) : o_(o) {}
  std::string name() const override { return "global-upsample"; }
  nlohmann::json options_json() const override { return {{"keep_short", o_.keep_short}}; }
  Status validate() const override { return check_range("--keep-short", o_.keep_short, 0.0, 1.0); }
  bool splits_by_length() const override { return true; }

  // Cell weights in CellTable order: short cost x keep_short, long cost.
  Result<CellTargets> targets(const TargetInputs& in) const override {
    const size_t nd = in.domains.size();
    std::vector<long double> w(2 * nd);
    for (size_t d = 0; d < nd; ++d) {
      w[Cell::short_of(d).index()] = static_cast<long double>(in.available[Cell::short_of(d)]) * o_.keep_short;
      w[Cell::long_of(d).index()] = static_cast<long double>(in.available[Cell::long_of(d)]);
    }
    CellTargets out{CellTable<uint64_t>(nd, 0), {}};
    out.target.values() = split_largest_remainder(in.total, w);
    return out;
  }

 private:
  GlobalUpsampleOptions o_;
};

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> global_upsample_from_options(const nlohmann::json& j) {
  GlobalUpsampleOptions o;
  LONGCTX_ASSIGN_OR_RETURN(o.keep_short, strategy_option(j, "keep_short", o.keep_short));
  return validated(global_upsample_strategy(o));
}

}  // namespace

StrategyPtr global_upsample_strategy(GlobalUpsampleOptions o) { return std::make_shared<GlobalUpsample>(o); }

namespace mix_registry {
extern const StrategyInfo global_upsample{"global-upsample", 50, global_upsample_from_options};
}  // namespace mix_registry

}  // namespace longctx
