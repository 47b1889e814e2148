// Mixture strategies (paper.md "The mixture strategies compared"; docs/mixing.md "Strategies").
// A strategy decides two things, both from the store's document table only:
//  - targets(): the packed-token target of every cell (mix/cell.h) of the plan, and
//  - select(): which documents fill them (by default selection.h's select_by_key: repeats, then
//    the smallest selection keys; paper-script walks the corpus in order instead).
// It also says how documents are cut into pieces (piece_length) and whether its cells split
// domains by length. Its options are its own (typed in mix/strategies.h) and appear in the
// mixture configuration under the keys options_json() gives.
//
// Adding a strategy: docs/architecture.md "Checklist: adding a mixture strategy".
#pragma once
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "mix/cell.h"
#include "mix/mix_config.h"

namespace longctx {

// Piece length of strategies that never cut a document (the store's documents have fewer tokens).
inline constexpr uint64_t kWholeDocuments = std::numeric_limits<uint32_t>::max();

// What targets() sees.
struct TargetInputs {
  const std::vector<std::string>& domains;        // the store's domain names, in store order
  const CellTable<uint64_t>& available;           // packed-token cost of each cell's documents
  const std::vector<long double>& domain_weight;  // target domain shares, not normalised:
                                                  // --domain-shares, else the store's own tokens
  uint64_t total;                                 // packed tokens of the mixture: chunks x seq_len
};

struct CellTargets {
  CellTable<uint64_t> target;              // packed tokens per cell; must sum to `total`
  std::vector<double> long_share_target;   // per domain, for strategies that set one (else empty)
};

struct DomainPlan;
class Selection;

class MixStrategy {
 public:
  virtual ~MixStrategy() = default;
  virtual std::string name() const = 0;
  // The options as keys of the mixture configuration (e.g. {"long_share": 0.7}).
  virtual nlohmann::json options_json() const = 0;
  // Range checks of the options; the message names the flag and the valid range.
  virtual Status validate() const = 0;
  // Longest piece in tokens: longer documents are cut (cut, natural); kWholeDocuments otherwise.
  virtual uint64_t piece_length() const { return kWholeDocuments; }
  // True when the cells are (domain, short/long), false when they are whole domains.
  virtual bool splits_by_length() const { return false; }
  virtual Result<CellTargets> targets(const TargetInputs& in) const = 0;
  // Hands the selected documents to s's sink. Default: select_by_key (selection.h).
  virtual Status select(Selection& s) const;
  // An extra line for one domain in the plan table (plan_table), or "".
  virtual std::string plan_note(const DomainPlan& d, uint64_t long_threshold) const { return {}; }
};

// ---- the registry: every strategy by its --strategy name ----
// A factory reads the strategy's options from the keys options_json() writes (missing keys take
// the defaults) and validates them.
using StrategyFactory = Result<StrategyPtr> (*)(const nlohmann::json& options);
struct StrategyInfo {
  const char* name;             // the --strategy name
  int list_order;               // position in help texts and messages (smallest first)
  StrategyFactory from_options;
};
// Registering a strategy: its file src/mix/strategies/<stem>.cc defines
//   namespace mix_registry { extern const StrategyInfo <stem>{"<name>", <order>, <factory>}; }
// and the build generates the table of every file's registration (strategy_registry.cc.in).
std::span<const StrategyInfo* const> registered_mix_strategies();  // file order (generated)
// Every registered strategy, by list_order then name.
std::span<const StrategyInfo> mix_strategies();
// "original, cut, ... or paper-script", for help texts and messages.
std::string mix_strategy_names();
Result<StrategyPtr> make_strategy(const std::string& name, const nlohmann::json& options = nlohmann::json::object());

// Largest-remainder split of `total` in proportion to `w` (ties to the lower index): the parts sum
// to exactly `total` unless every weight is zero (then all parts are zero).
std::vector<uint64_t> split_largest_remainder(uint64_t total, const std::vector<long double>& w);

// Reads an option of a strategy's JSON options: the key's value when present, else `fallback`;
// an error names the key when the value has the wrong type.
template <typename T>
Result<T> strategy_option(const nlohmann::json& options, const char* key, T fallback) {
  if (!options.is_object() || !options.contains(key)) return fallback;
  try {
    return options.at(key).get<T>();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, "strategy option '{}': {}", key, e.what());
  }
}

// `s` when its options pass its validate(), else that error: the last step of every factory.
Result<StrategyPtr> validated(StrategyPtr s);

// Builds every registered strategy from `options` and returns the first error: the CLI passes all
// its strategy flags under their keys, and a flag is range-checked whether or not the chosen
// strategy uses it.
Status check_every_strategy_option(const nlohmann::json& options);

// Targets of the strategies that keep whole domains as cells: `total` split by domain weight.
CellTargets targets_by_domain_weight(const TargetInputs& in);

}  // namespace longctx
