// paper-script: the authors' data script as the paper describes it (paper.md "The mixture
// strategies compared"). Every domain gets total x its share; the documents are walked in corpus
// order, a long one always kept, a short one with probability keep_short, the length estimated
// from characters (text bytes / chars_per_token) when chars_per_token > 0; a domain stops taking
// documents once its budget is full. We truncate the document that crosses a budget so budgets are
// exact, and walk again (a repeat, salted by the pass) while a budget is not full.
#include "core/hash.h"
#include "mix/selection.h"
#include "core/validate.h"
#include "mix/strategies.h"

namespace longctx {
namespace {

constexpr uint64_t kSaltPaper = 0x9A9E5;

class PaperScript final : public MixStrategy {
 public:
  explicit PaperScript(PaperScriptOptions o) : o_(o) {}
  std::string name() const override { return "paper-script"; }
  nlohmann::json options_json() const override { return {{"keep_short", o_.keep_short}, {"chars_per_token", o_.chars_per_token}}; }
  Status validate() const override {
    LONGCTX_RETURN_IF_ERROR(check_range("--keep-short", o_.keep_short, 0.0, 1.0));
    // 0 means exact lengths; real text has between 1 and 10 bytes per token.
    return check_range("--chars-per-token", o_.chars_per_token, 0.0, 1024.0);
  }
  Result<CellTargets> targets(const TargetInputs& in) const override { return targets_by_domain_weight(in); }
  Status select(Selection& s) const override;

 private:
  bool keep(const DocRecord& d, const MixConfig& cfg, uint32_t pass) const {
    double est = o_.chars_per_token > 0 && d.text_bytes > 0 ? d.text_bytes / o_.chars_per_token : d.num_tokens;
    return est >= static_cast<double>(cfg.long_threshold) || unit_hash(d.id_hash, cfg.seed, kSaltPaper + pass) < o_.keep_short;
  }
  Status check_pass(const Selection& s, const std::vector<uint64_t>& filled, uint32_t pass) const;

  PaperScriptOptions o_;
};

// Before pass `pass` over the store (pass >= 1 repeats documents): refused with --no-repeat, or
// beyond --max-epochs passes.
Status PaperScript::check_pass(const Selection& s, const std::vector<uint64_t>& filled, uint32_t pass) const {
  const MixConfig& cfg = s.config();
  const auto& names = s.store().domains();
  for (size_t d = 0; d < filled.size(); ++d) {
    const uint64_t target = s.target()[Cell::whole(d)];
    if (filled[d] >= target) continue;
    if (pass > 0 && cfg.no_repeat)
      return make_error(ErrorCode::kInvalidArgument,
                        "domain {}: paper-script needs {} tokens but one pass over the store yields {} (shortfall {}); drop --no-repeat to repeat documents",
                        names[d], target, filled[d], target - filled[d]);
    if (pass >= cfg.max_epochs)
      return make_error(ErrorCode::kInvalidArgument,
                        "domain {}: paper-script needs more than --max-epochs {} passes over the store (budget {} tokens, {} filled); "
                        "lower --tokens or raise --max-epochs",
                        names[d], cfg.max_epochs, target, filled[d]);
  }
  return Status::ok();
}

Status PaperScript::select(Selection& s) const {
  const DocumentStore& store = s.store();
  const MixConfig& cfg = s.config();
  const size_t nd = store.domains().size();
  auto target = [&](size_t d) { return s.target()[Cell::whole(d)]; };
  std::vector<uint64_t> filled(nd, 0);
  for (uint32_t pass = 0;; ++pass) {
    bool open = false;
    for (size_t d = 0; d < nd; ++d) open |= filled[d] < target(d);
    if (!open) return Status::ok();
    LONGCTX_RETURN_IF_ERROR(check_pass(s, filled, pass));
    std::vector<bool> took(nd, false);
    for (uint64_t i = 0; i < store.num_docs(); ++i) {
      const DocRecord& d = store.doc(i);
      if (d.num_tokens == 0 || filled[d.domain] >= target(d.domain) || !keep(d, cfg, pass)) continue;
      uint64_t cost = s.cost().cost(d.num_tokens), room = target(d.domain) - filled[d.domain];
      if (cost <= room) {
        s.take_whole(i, pass);
        filled[d.domain] += cost;
      } else {
        filled[d.domain] += s.take_prefix(i, room, pass);
        if (filled[d.domain] < target(d.domain)) filled[d.domain] = target(d.domain);  // unreachable remainder
      }
      took[d.domain] = true;
    }
    // A domain that is still open but kept nothing in a whole pass never will (no document, or
    // none long with --keep-short 0).
    for (size_t d = 0; d < nd; ++d)
      if (filled[d] < target(d) && !took[d])
        return make_error(ErrorCode::kInvalidArgument, "domain {}: paper-script keeps no document of it (budget {} tokens, {} filled)",
                          store.domains()[d], target(d), filled[d]);
  }
}

// Options from the mixture configuration's keys (strategy.h "the registry").
Result<StrategyPtr> paper_script_from_options(const nlohmann::json& j) {
  PaperScriptOptions o;
  LONGCTX_ASSIGN_OR_RETURN(o.keep_short, strategy_option(j, "keep_short", o.keep_short));
  LONGCTX_ASSIGN_OR_RETURN(o.chars_per_token, strategy_option(j, "chars_per_token", o.chars_per_token));
  return validated(paper_script_strategy(o));
}

}  // namespace

StrategyPtr paper_script_strategy(PaperScriptOptions o) { return std::make_shared<PaperScript>(o); }

namespace mix_registry {
extern const StrategyInfo paper_script{"paper-script", 70, paper_script_from_options};
}  // namespace mix_registry

}  // namespace longctx
