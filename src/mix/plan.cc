#include "mix/plan.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "mix/selection.h"
#include "mix/strategy.h"
#include "stats/stats.h"

namespace longctx {
namespace {

// Counts the selection into the plan: packed tokens per domain x source-length bucket, repeats,
// document tokens, pieces. A document taken `count` times is counted once, times count.
class PlanCounter final : public SelectionSink {
 public:
  PlanCounter(const DocumentStore& store, const MixConfig& cfg, uint64_t overhead, MixPlan& plan)
      : store_(store), long_threshold_(cfg.long_threshold), overhead_(overhead), plan_(plan),
        doc_tokens_(store.domains().size(), 0), long_tokens_(store.domains().size(), 0),
        short_tokens_(store.domains().size(), 0) {}

  void take(uint64_t doc, uint64_t k, uint64_t p, uint32_t first_repeat, uint32_t count) override {
    const DocRecord& d = store_.doc(doc);
    DomainPlan& dp = plan_.domains[d.domain];
    dp.buckets[length_bucket_of(d.num_tokens)].selected += count * (k + p * overhead_);
    dp.max_repeat = std::max(dp.max_repeat, first_repeat + count - 1);
    doc_tokens_[d.domain] += count * k;
    (d.num_tokens > long_threshold_ ? long_tokens_ : short_tokens_)[d.domain] += count * k;
    plan_.pieces += count * p;
  }
  // Selected document tokens per domain: all, in long documents, in short ones.
  const std::vector<uint64_t>& doc_tokens() const { return doc_tokens_; }
  const std::vector<uint64_t>& long_tokens() const { return long_tokens_; }
  const std::vector<uint64_t>& short_tokens() const { return short_tokens_; }

 private:
  const DocumentStore& store_;
  uint64_t long_threshold_, overhead_;
  MixPlan& plan_;
  std::vector<uint64_t> doc_tokens_, long_tokens_, short_tokens_;
};

// Document tokens of the store per domain: all, in long documents, in short ones.
struct StoreTokens {
  std::vector<uint64_t> all, long_docs, short_docs;
};

// One pass over the document table: each cell's cost and document count, each domain's available
// cost (all, long, per bucket) and document tokens.
StoreTokens count_available(const DocumentStore& store, const MixConfig& cfg, const PieceCost& cost, MixPlan& plan) {
  const size_t nd = store.domains().size();
  StoreTokens t{std::vector<uint64_t>(nd, 0), std::vector<uint64_t>(nd, 0), std::vector<uint64_t>(nd, 0)};
  plan.cell_available = CellTable<uint64_t>(nd, 0);
  plan.cell_documents = CellTable<uint64_t>(nd, 0);
  for (const DocRecord& d : store.docs()) {
    if (d.num_tokens == 0) continue;
    const bool is_long = d.num_tokens > cfg.long_threshold;
    const Cell cell{d.domain, plan.by_length && is_long ? LengthClass::kLong : LengthClass::kShort};
    const uint64_t c = cost.cost(d.num_tokens);
    plan.cell_available[cell] += c;
    ++plan.cell_documents[cell];
    t.all[d.domain] += d.num_tokens;
    (is_long ? t.long_docs : t.short_docs)[d.domain] += d.num_tokens;
    DomainPlan& dp = plan.domains[d.domain];
    dp.available += c;
    if (is_long) dp.available_long += c;
    dp.buckets[length_bucket_of(d.num_tokens)].available += c;
  }
  return t;
}

// Target domain shares (not normalised): --domain-shares, else the store's own token counts.
Result<std::vector<long double>> domain_weights(const DocumentStore& store, const MixConfig& cfg, const StoreTokens& t) {
  const auto& names = store.domains();
  std::vector<long double> share(names.size(), 0);
  if (cfg.domain_shares.empty()) {
    for (size_t d = 0; d < names.size(); ++d) share[d] = static_cast<long double>(t.all[d]);
    return share;
  }
  for (const auto& [name, s] : cfg.domain_shares) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return make_error(ErrorCode::kInvalidArgument, "--domain-shares names '{}', which is not a domain of the store", name);
    share[it - names.begin()] = s;
  }
  return share;
}

double ratio(uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0; }

}  // namespace

Result<MixPlan> plan_mixture(const DocumentStore& store, const MixConfig& cfg) {
  LONGCTX_RETURN_IF_ERROR(cfg.validate());
  MixPlan plan;
  plan.config = cfg;
  plan.chunks = cfg.total_tokens / cfg.seq_len;
  plan.total = plan.chunks * cfg.seq_len;
  if (plan.chunks == 0)
    return make_error(ErrorCode::kInvalidArgument, "budget of {} tokens is less than one sequence of {}", cfg.total_tokens, cfg.seq_len);
  const MixStrategy& strategy = *cfg.strategy;
  const size_t nd = store.domains().size();
  const PieceCost cost{strategy.piece_length(), uint64_t{cfg.bos} + uint64_t{cfg.eos}};
  plan.by_length = strategy.splits_by_length();
  plan.domains.resize(nd);
  for (size_t d = 0; d < nd; ++d) {
    plan.domains[d].name = store.domains()[d];
    plan.domains[d].buckets.assign(length_bucket_edges().size() + 1, {});
  }
  const StoreTokens have = count_available(store, cfg, cost, plan);
  LONGCTX_ASSIGN_OR_RETURN(std::vector<long double> weights, domain_weights(store, cfg, have));

  LONGCTX_ASSIGN_OR_RETURN(CellTargets targets, strategy.targets({store.domains(), plan.cell_available, weights, plan.total}));
  const auto& t = targets.target.values();
  if (t.size() != 2 * nd || std::accumulate(t.begin(), t.end(), uint64_t{0}) != plan.total)
    return make_error(ErrorCode::kInvalidArgument, "strategy {} selects no documents from this store (all domain weights are zero)", strategy.name());
  plan.cell_target = std::move(targets.target);
  for (size_t d = 0; d < nd; ++d) {
    DomainPlan& dp = plan.domains[d];
    dp.target = plan.cell_target.domain_total(d);
    dp.target_long = plan.by_length ? plan.cell_target[Cell::long_of(d)] : 0;
    dp.target_short = plan.by_length ? plan.cell_target[Cell::short_of(d)] : 0;
    if (d < targets.long_share_target.size()) dp.long_share_target = targets.long_share_target[d];
  }

  PlanCounter counter(store, cfg, cost.overhead, plan);
  Selection sel(store, cfg, cost, plan.by_length, plan.cell_target, plan.cell_available, plan.cell_documents, counter);
  LONGCTX_RETURN_IF_ERROR(strategy.select(sel));
  for (size_t d = 0; d < nd; ++d) {
    DomainPlan& dp = plan.domains[d];
    dp.epochs = ratio(counter.doc_tokens()[d], have.all[d]);
    dp.epochs_long = ratio(counter.long_tokens()[d], have.long_docs[d]);
    dp.epochs_short = ratio(counter.short_tokens()[d], have.short_docs[d]);
  }
  return plan;
}

nlohmann::json plan_json(const MixPlan& p) {
  nlohmann::json j;
  j["config"] = mix_config_json(p.config);
  j["chunks"] = p.chunks;
  j["total_tokens"] = p.total;
  j["pieces"] = p.pieces;
  j["bucket_labels"] = length_bucket_labels();
  nlohmann::json ds = nlohmann::json::array();
  for (const auto& d : p.domains) {
    nlohmann::json b = nlohmann::json::array();
    for (const auto& c : d.buckets)
      b.push_back({{"available", c.available}, {"target", c.selected}, {"rate", ratio(c.selected, c.available)}});
    ds.push_back({{"name", d.name}, {"target", d.target}, {"target_long", d.target_long}, {"target_short", d.target_short},
                  {"available", d.available}, {"available_long", d.available_long},
                  {"long_share_target", d.long_share_target}, {"epochs", d.epochs},
                  {"epochs_long", d.epochs_long}, {"epochs_short", d.epochs_short}, {"max_repeat", d.max_repeat},
                  {"expected_repeats", std::max(0.0, d.epochs - 1.0)}, {"buckets", b}});
  }
  j["domains"] = ds;
  return j;
}

std::string plan_table(const MixPlan& p) {
  std::string s = fmt::format("plan: {} tokens = {} chunks x {} (strategy {}, seed {})\n", p.total, p.chunks,
                              p.config.seq_len, p.config.strategy->name(), p.config.seed);
  auto labels = length_bucket_labels();
  for (const auto& d : p.domains) {
    s += fmt::format("\n{}: target {} tokens ({:.2f}% of the mix), available {}, epochs {:.3f} (long {:.3f}, short {:.3f}), max repeat {}\n",
                     d.name, d.target, p.total ? 100.0 * d.target / p.total : 0.0, d.available, d.epochs, d.epochs_long,
                     d.epochs_short, d.max_repeat);
    s += p.config.strategy->plan_note(d, p.config.long_threshold);
    s += fmt::format("  {:<8} {:>14} {:>14} {:>9} {:>9}\n", "bucket", "available", "target", "rate", "repeats");
    for (size_t b = 0; b < d.buckets.size(); ++b) {
      const auto& c = d.buckets[b];
      if (!c.available && !c.selected) continue;
      double rate = ratio(c.selected, c.available);
      s += fmt::format("  {:<8} {:>14} {:>14} {:>9.4f} {:>9.3f}\n", labels[b], c.available, c.selected, rate, std::max(0.0, rate - 1.0));
    }
  }
  return s;
}

}  // namespace longctx
