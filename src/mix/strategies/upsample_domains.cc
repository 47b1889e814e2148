// upsample-domains (paper.md "The mixture strategies compared": upsampling Book, ArXiv and GitHub):
// the named domains share `weight` of the tokens, split among them by their own shares; the other
// domains share the rest the same way.
#include <algorithm>

#include "core/validate.h"
#include "mix/strategies.h"

namespace longctx {
namespace {

class UpsampleDomains final : public MixStrategy {
 public:
  explicit UpsampleDomains(UpsampleDomainsOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "upsample-domains"; }
  nlohmann::json options_json() const override { return {{"domains", o_.domains}, {"weight", o_.weight}}; }
  Status validate() const override {
    if (o_.domains.empty()) return make_error(ErrorCode::kInvalidArgument, "--domains: name at least one domain to upsample");
    return check_range("--weight", o_.weight, 0.0, 1.0);
  }

  Result<CellTargets> targets(const TargetInputs& in) const override {
    const auto& names = in.domains;
    const size_t nd = names.size();
    std::vector<bool> up(nd, false);
    for (const auto& n : o_.domains) {
      auto it = std::find(names.begin(), names.end(), n);
      if (it == names.end()) return make_error(ErrorCode::kInvalidArgument, "--domains names '{}', which is not a domain of the store", n);
      up[it - names.begin()] = true;
    }
    const auto& share = in.domain_weight;
    long double su = 0, so = 0;
    for (size_t d = 0; d < nd; ++d) (up[d] ? su : so) += share[d];
    std::vector<long double> w(nd);
    for (size_t d = 0; d < nd; ++d)
      w[d] = up[d] ? (su > 0 ? o_.weight * share[d] / su : 0) : (so > 0 ? (1 - o_.weight) * share[d] / so : 0);
    return targets_by_domain_weight({in.domains, in.available, w, in.total});
  }

 private:
  UpsampleDomainsOptions o_;
};

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> upsample_domains_from_options(const nlohmann::json& j) {
  UpsampleDomainsOptions o;
  LONGCTX_ASSIGN_OR_RETURN(o.domains, strategy_option(j, "domains", o.domains));
  LONGCTX_ASSIGN_OR_RETURN(o.weight, strategy_option(j, "weight", o.weight));
  return validated(upsample_domains_strategy(std::move(o)));
}

}  // namespace

StrategyPtr upsample_domains_strategy(UpsampleDomainsOptions o) { return std::make_shared<UpsampleDomains>(std::move(o)); }

namespace mix_registry {
extern const StrategyInfo upsample_domains{"upsample-domains", 60, upsample_domains_from_options};
}  // namespace mix_registry

}  // namespace longctx
