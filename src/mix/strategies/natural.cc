// natural (paper.md "The mixture strategies compared"): whole documents up to max_doc tokens,
// longer ones cut into pieces of max_doc; domain shares kept.
#include "core/validate.h"
#include "mix/strategies.h"

namespace longctx {
namespace {

class Natural final : public MixStrategy {
 public:
  explicit Natural(NaturalOptions o) : o_(o) {}
  std::string name() const override { return "natural"; }
  nlohmann::json options_json() const override { return {{"max_doc", o_.max_doc}}; }
  Status validate() const override { return check_range("--max-doc", o_.max_doc, uint64_t{1}, kWholeDocuments); }
  uint64_t piece_length() const override { return o_.max_doc; }
  Result<CellTargets> targets(const TargetInputs& in) const override { return targets_by_domain_weight(in); }

 private:
  NaturalOptions o_;
};

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> natural_from_options(const nlohmann::json& j) {
  NaturalOptions o;
  LONGCTX_ASSIGN_OR_RETURN(o.max_doc, strategy_option(j, "max_doc", o.max_doc));
  return validated(natural_strategy(o));
}

}  // namespace

StrategyPtr natural_strategy(NaturalOptions o) { return std::make_shared<Natural>(o); }

namespace mix_registry {
extern const StrategyInfo natural{"natural", 30, natural_from_options};
}  // namespace mix_registry

}  // namespace longctx
