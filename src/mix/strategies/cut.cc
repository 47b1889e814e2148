// cut (paper.md "The mixture strategies compared": "cut at 4K"): every document cut into pieces of
// at most `at` tokens, each piece packed with its own BOS; domain shares kept.
#include "core/validate.h"
#include "mix/strategies.h"

namespace longctx {
namespace {

class Cut final : public MixStrategy {
 public:
  explicit Cut(CutOptions o) : o_(o) {}
  std::string name() const override { return "cut"; }
  nlohmann::json options_json() const override { return {{"cut_at", o_.at}}; }
  Status validate() const override { return check_range("--at", o_.at, uint64_t{1}, kWholeDocuments); }
  uint64_t piece_length() const override { return o_.at; }
  Result<CellTargets> targets(const TargetInputs& in) const override { return targets_by_domain_weight(in); }

 private:
  CutOptions o_;
};

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> cut_from_options(const nlohmann::json& j) {
  CutOptions o;
  LONGCTX_ASSIGN_OR_RETURN(o.at, strategy_option(j, "cut_at", o.at));
  return validated(cut_strategy(o));
}

}  // namespace

StrategyPtr cut_strategy(CutOptions o) { return std::make_shared<Cut>(o); }

namespace mix_registry {
extern const StrategyInfo cut{"cut", 20, cut_from_options};
}  // namespace mix_registry

}  // namespace longctx
