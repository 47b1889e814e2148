// Selection (docs/mixing.md "Budgets, exactly"): which documents fill each cell's target, whole,
// cut into pieces, or as a prefix, and how many times. The same selection runs twice over the
// document table: once into the plan's counters (plan.h, memory independent of the budget) and
// once into the list of pieces (packing.h), so the plan always describes the mixture exactly.
//
// Token accounting. A *piece* is a run of one document's tokens packed as a unit: the whole
// document, one cut of it (cut / natural), or a prefix (the last document a target takes). A
// piece of len tokens costs len + overhead packed tokens, overhead = BOS (1 when enabled) + EOS
// (1 when enabled). Targets count packed tokens and are met exactly.
//
// Determinism. Every document has a selection key mix64(id_hash ^ mix64(seed ^
// mix64(kMixSelectSalt))) (core/hash.h), so the selection is a pure function of the document
// table, the configuration and the seed: the same for any thread count or --task split.
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "mix/cell.h"
#include "mix/mix_config.h"
#include "store/document_store.h"

namespace longctx {

inline constexpr uint64_t kMixSelectSalt = 0x5E1EC7;

// The selection key of a document (smallest first).
uint64_t selection_key(const DocRecord& d, uint64_t seed);

// Packed cost of documents cut into pieces of at most `cut` tokens, `overhead` tokens each.
struct PieceCost {
  uint64_t cut = 0;
  uint64_t overhead = 1;
  uint64_t pieces(uint64_t n) const { return n == 0 ? 0 : (n + cut - 1) / cut; }  // ceil(n / cut)
  uint64_t cost(uint64_t n) const { return n + pieces(n) * overhead; }
  // The prefix of a document of n tokens that costs exactly r: k tokens in p pieces, k + p x
  // overhead == r, k as large as possible (k <= n). False when none exists (only possible with
  // overhead 2 and r == 1).
  bool truncate_to(uint64_t r, uint64_t n, uint64_t* k, uint64_t* p) const;
  // p piece lengths summing to k, each in [min(1, k), cut]: full pieces first.
  std::vector<uint64_t> lengths(uint64_t k, uint64_t p) const;
};

// Receives the selection: document `doc` (index into the store) used `count` times, as repeats
// first_repeat .. first_repeat + count - 1, each time as its first k tokens in p pieces.
class SelectionSink {
 public:
  virtual ~SelectionSink() = default;
  virtual void take(uint64_t doc, uint64_t k, uint64_t p, uint32_t first_repeat, uint32_t count) = 0;
};

// What a strategy's select() works with: the store, the configuration, the cells' targets and
// availability, and the operations that hand documents to the sink.
class Selection {
 public:
  Selection(const DocumentStore& store, const MixConfig& cfg, const PieceCost& cost, bool by_length,
            const CellTable<uint64_t>& target, const CellTable<uint64_t>& available,
            const CellTable<uint64_t>& documents, SelectionSink& sink)
      : store_(store), cfg_(cfg), cost_(cost), by_length_(by_length), target_(target), available_(available),
        documents_(documents), sink_(sink) {}

  const DocumentStore& store() const { return store_; }
  const MixConfig& config() const { return cfg_; }
  const PieceCost& cost() const { return cost_; }
  const CellTable<uint64_t>& target() const { return target_; }
  const CellTable<uint64_t>& available() const { return available_; }  // packed-token cost per cell
  const CellTable<uint64_t>& documents() const { return documents_; }  // non-empty documents per cell
  bool is_long(const DocRecord& d) const { return d.num_tokens > cfg_.long_threshold; }
  Cell cell_of(const DocRecord& d) const {
    return {d.domain, by_length_ && is_long(d) ? LengthClass::kLong : LengthClass::kShort};
  }
  // " long (>4096 tokens)" / " short" for messages about a cell ("" when cells are domains).
  std::string cell_words(Cell c) const;

  // Document `doc` whole, `count` times from repeat index `repeat` on.
  void take_whole(uint64_t doc, uint32_t repeat, uint32_t count = 1);
  // The prefix of document `doc` that costs exactly r (or as close below as the overhead allows);
  // returns the cost taken.
  uint64_t take_prefix(uint64_t doc, uint64_t r, uint32_t repeat);

 private:
  const DocumentStore& store_;
  const MixConfig& cfg_;
  const PieceCost& cost_;
  bool by_length_;
  const CellTable<uint64_t>& target_;
  const CellTable<uint64_t>& available_;
  const CellTable<uint64_t>& documents_;
  SelectionSink& sink_;
};

// The default selection (every strategy but paper-script). Per cell: every document
// floor(target / available) times (refused beyond --max-epochs uses, or at all with
// --no-repeat), then the documents with the smallest selection keys until the rest of the target
// is met, the last one as a prefix. Two passes over the document table: a histogram of selection
// keys per cell with a remainder finds the boundary bin, the second pass takes the bins below it
// and sorts the boundary bin's few documents. The histograms have about one bin per 16 of the
// cell's documents (at most 65,536), so memory is O(documents / 16) whatever the budget.
Status select_by_key(Selection& s);

}  // namespace longctx
