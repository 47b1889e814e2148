// original (paper.md "The mixture strategies compared"): the store's documents as they are, every
// domain at its share (the store's own, or --domain-shares).
#include "mix/strategies.h"

namespace longctx {
namespace {

class Original final : public MixStrategy {
 public:
  std::string name() const override { return "original"; }
  nlohmann::json options_json() const override { return nlohmann::json::object(); }
  Status validate() const override { return Status::ok(); }
  Result<CellTargets> targets(const TargetInputs& in) const override { return targets_by_domain_weight(in); }
};

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> original_from_options(const nlohmann::json&) { return original_strategy(); }

}  // namespace

StrategyPtr original_strategy() { return std::make_shared<Original>(); }

namespace mix_registry {
extern const StrategyInfo original{"original", 10, original_from_options};
}  // namespace mix_registry

}  // namespace longctx
