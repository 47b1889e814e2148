#include "mix/strategy.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "mix/selection.h"
#include "mix/strategies.h"

namespace longctx {

Status MixStrategy::select(Selection& s) const { return select_by_key(s); }

StrategyPtr default_mix_strategy() { return per_source_upsample_strategy(); }

std::span<const StrategyInfo> mix_strategies() {
  static const std::vector<StrategyInfo> kAll = [] {
    auto reg = registered_mix_strategies();
    std::vector<StrategyInfo> v;
    for (const StrategyInfo* s : reg) v.push_back(*s);
    std::sort(v.begin(), v.end(), [](const StrategyInfo& a, const StrategyInfo& b) {
      return a.list_order != b.list_order ? a.list_order < b.list_order : std::string_view(a.name) < std::string_view(b.name);
    });
    return v;
  }();
  return kAll;
}

std::string mix_strategy_names() {
  std::string s;
  auto all = mix_strategies();
  for (size_t i = 0; i < all.size(); ++i) s += (i == 0 ? "" : i + 1 == all.size() ? " or " : ", ") + std::string(all[i].name);
  return s;
}

Result<StrategyPtr> make_strategy(const std::string& name, const nlohmann::json& options) {
  for (const auto& info : mix_strategies())
    if (name == info.name) return info.from_options(options);
  return make_error(ErrorCode::kInvalidArgument, "unknown strategy '{}': expected {}", name, mix_strategy_names());
}

std::vector<uint64_t> split_largest_remainder(uint64_t total, const std::vector<long double>& w) {
  long double sum = 0;
  // Weights are validated non-negative and finite before they get here (MixConfig::validate).
  for (auto x : w) sum += x;
  std::vector<uint64_t> out(w.size(), 0);
  if (sum <= 0) return out;
  std::vector<std::pair<long double, size_t>> frac;
  uint64_t used = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    long double exact = static_cast<long double>(total) * w[i] / sum;
    out[i] = static_cast<uint64_t>(std::floor(exact));
    used += out[i];
    frac.push_back({exact - std::floor(exact), i});
  }
  std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; used < total && k < frac.size(); ++k, ++used) ++out[frac[k].second];
  return out;
}

Result<StrategyPtr> validated(StrategyPtr s) {
  LONGCTX_RETURN_IF_ERROR(s->validate());
  return s;
}

Status check_every_strategy_option(const nlohmann::json& options) {
  for (const auto& info : mix_strategies()) LONGCTX_RETURN_IF_ERROR(info.from_options(options).status());
  return Status::ok();
}

CellTargets targets_by_domain_weight(const TargetInputs& in) {
  CellTargets t{CellTable<uint64_t>(in.domains.size(), 0), {}};
  auto parts = split_largest_remainder(in.total, in.domain_weight);
  for (size_t d = 0; d < parts.size(); ++d) t.target[Cell::whole(d)] = parts[d];
  return t;
}

}  // namespace longctx
