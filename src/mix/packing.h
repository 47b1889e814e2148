// Packing (paper.md "Packing"; docs/mixing.md "Packing"): the plan's selection as a list of
// pieces, shuffled by a seeded key, laid out into one stream cut into seq_len chunks, and the
// tokens and document spans of any chunk on demand (pack_chunk), so shards can be written in
// parallel, each a pure function of (store, configuration, chunk range).
//
// Shuffle. The piece order is a sort by a second hash of (id_hash, repeat, piece, seed), so the
// mixture is the same for any thread count or --task split; tasks differ only in which shards
// they write.
//
// Memory. sizeof(Piece) = 40 bytes per selected piece, allocated once at the exact count the plan
// gives, and checked before anything is built against MixConfig::max_memory (default: the memory
// available now), so an oversized budget is refused with the estimate instead of exhausting RAM.
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "mix/plan.h"
#include "store/document_store.h"
#include "store/packed_shards.h"
#include "store/token_reader.h"

namespace longctx {

// A run of document tokens packed as a unit.
struct Piece {
  uint64_t key;     // shuffle key
  uint64_t doc;     // index into the store's documents
  uint32_t start;   // first token in the document
  uint32_t len;     // document tokens (without BOS/EOS)
  uint32_t repeat;  // 0 = the document's first use in this mixture
  uint32_t pad_ = 0;
  uint64_t pos = 0;  // first position in the packed stream (after layout)
};
static_assert(sizeof(Piece) == 40);

struct Mixture {
  MixPlan plan;
  std::vector<Piece> pieces;  // in packed order
  uint64_t stream_end = 0;    // end of the laid-out stream (including no-split padding)
  uint64_t num_chunks = 0;    // chunks written (after the last-chunk rule)
};

// Bytes that building the mixture of `plan` takes: its pieces, and the selection's key histograms
// and boundary candidates (about 1.5 bytes per document of the store).
uint64_t mixture_memory_estimate(const MixPlan& plan, const DocumentStore& store);

// Plan (plan_mixture), memory check, selection into pieces, shuffle and layout (Piece::pos set).
// Also refuses BOS/EOS/padding ids that are not below the store's vocabulary size.
Result<Mixture> build_mixture(const DocumentStore& store, const MixConfig& cfg);

// Tokens (seq_len) and spans (in order, covering the chunk) of chunk c of a mixture. Every
// document token comes through `reader`, which checks it against the vocabulary.
Status pack_chunk(const Mixture& m, const DocumentStore& store, const TokenReader& reader, uint64_t c,
                  std::vector<uint32_t>* tokens, std::vector<PackedSpan>* spans);

}  // namespace longctx
