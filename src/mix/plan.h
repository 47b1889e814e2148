// The plan of a mixture (docs/mixing.md "The plan"): budget -> chunks, per-cell targets from the
// strategy, and what the selection takes from every domain and length bucket. Made from the
// store's document table only (docs.bin), never its tokens.
//
// Budgets. A budget of T tokens at seq_len L is rounded down to C = floor(T / L) chunks; the
// per-cell targets sum to exactly C x L and the selection meets each exactly (selection.h), so
// with the paper's spill-over packing the stream fills exactly C chunks.
//
// Memory. The plan keeps counters, not pieces: a document used e times is counted once with
// multiplicity e. So planning costs O(domains + documents / 16) memory (selection.h), independent
// of the budget and of the number of repeats; --plan-only stays small for any --tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "mix/cell.h"
#include "mix/mix_config.h"
#include "store/document_store.h"

namespace longctx {

// Per domain x length bucket accounting of a plan or a mixture.
struct CellCount {
  uint64_t available = 0;  // packed-token cost of the store's documents (before)
  uint64_t selected = 0;   // packed tokens in the mixture
};

struct DomainPlan {
  std::string name;
  uint64_t target = 0;  // packed tokens
  uint64_t target_long = 0, target_short = 0;
  double long_share_target = 0;  // per-source-upsample: max(--long-share, the domain's own)
  uint64_t available = 0, available_long = 0;
  double epochs = 0;  // selected document tokens / available document tokens
  double epochs_long = 0, epochs_short = 0;
  uint32_t max_repeat = 0;          // largest repeat index used (0: no document used twice)
  std::vector<CellCount> buckets;   // by source-document length bucket (stats/stats.h edges)
};

struct MixPlan {
  MixConfig config;
  uint64_t chunks = 0;              // C
  uint64_t total = 0;               // C x seq_len (before padding)
  std::vector<DomainPlan> domains;  // store domain order
  uint64_t pieces = 0;              // pieces the mixture holds (sizes its memory)
  // The strategy's cells, as the selection uses them (not written to plan.json).
  bool by_length = false;
  CellTable<uint64_t> cell_target, cell_available, cell_documents;
};

// Fails with the domain and the numbers when a target needs repeats and no_repeat is set, more
// than max_epochs uses of a document, or cannot be met at all (a domain without long documents).
Result<MixPlan> plan_mixture(const DocumentStore& store, const MixConfig& cfg);

nlohmann::json plan_json(const MixPlan& p);
std::string plan_table(const MixPlan& p);

}  // namespace longctx
