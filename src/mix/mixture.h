// Long-context mixtures (issue 3; paper.md "The mixture strategies compared", "Packing";
// docs/mixing.md): strategy -> plan -> selection of document pieces -> seeded shuffle -> packing
// into seq_len chunks with document spans -> native packed shards (store/packed_shards.h).
//
// Token accounting. A *piece* is a run of one document's tokens that is packed as a unit: the
// whole document, or one cut of it (strategies cut / natural), or a prefix (the last document a
// budget takes). A piece costs len + overhead tokens in the packed stream, overhead = BOS (1 when
// enabled) + EOS (1 when enabled). Budgets count packed tokens, so a budget of T tokens at seq_len
// L is rounded down to C = floor(T / L) chunks, and per-domain (and per-class) targets sum to
// exactly C x L; the selection hits every target exactly, so with the paper's spill-over packing
// the stream fills exactly C chunks (no partial chunk). Targets are split by largest remainder.
//
// Determinism. Plans depend only on the store's document table, the config and the seed. Every
// document has a selection key mix64(id_hash ^ mix64(seed ^ mix64(kMixSelectSalt))) (core/hash.h);
// inside a cell (domain x class: long = more than long_threshold tokens, for per-source-upsample
// and global-upsample; the whole domain otherwise) the
// documents with the smallest keys are taken until the cell's target is met (the last one is
// truncated). The piece order is a sort by a second hash of (id_hash, repeat, piece, seed). So
// the mixture is the same for any thread count or --task split; tasks differ only in which
// shards they write. Memory: O(pieces selected) (40 bytes each) plus a 65,536-bin histogram per
// cell -- independent of the store's size.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "core/status.h"
#include "store/document_store.h"

namespace longctx {

inline constexpr uint64_t kMixSelectSalt = 0x5E1EC7;

enum class MixStrategy { kOriginal, kCut, kNatural, kPerSourceUpsample, kGlobalUpsample, kUpsampleDomains, kPaperScript };
Result<MixStrategy> parse_mix_strategy(const std::string& s);
std::string mix_strategy_name(MixStrategy s);

enum class LastChunk { kDrop, kPad };

// One configuration struct shared by the CLI, the manifest and the tests (style.md point 5).
struct MixConfig {
  MixStrategy strategy = MixStrategy::kPerSourceUpsample;
  uint64_t total_tokens = 0;  // budget in packed tokens (rounded down to whole chunks)
  uint64_t seq_len = 81920;   // paper: 80K for 7B
  uint64_t seed = 1;
  // strategy parameters
  uint64_t cut_at = 4096;            // cut: piece length
  uint64_t max_doc = 131072;         // natural: longer documents are cut into pieces of this length
  uint64_t long_threshold = 4096;    // "long" = strictly more tokens than this
  double long_share = 0.7;           // per-source-upsample: share of each domain's tokens from long docs
                                     // (a domain whose own share is higher keeps its own; one
                                     // without long documents stays all short)
  double keep_short = 0.1;           // global-upsample / paper-script: keep probability of short docs
  std::vector<std::string> upsample_domains = {"RedPajamaBook", "RedPajamaArXiv", "RedPajamaGithub"};
  double upsample_weight = 0.6;      // upsample-domains: their joint token share
  std::map<std::string, double> domain_shares;  // empty: the store's own shares
  double paper_chars_per_token = 3.68;  // paper-script: length estimate from text bytes (0: exact)
  bool no_repeat = false;            // fail instead of repeating documents
  // packing
  bool bos = true, eos = false;
  uint32_t bos_id = 1, eos_id = 2, pad_id = 0;
  bool split = true;                 // spill a document into the next chunk (paper); false: --no-split
  LastChunk last = LastChunk::kDrop;
  // Range checks of every field, naming the `longctx mix` flag (mix_config_validate.cc).
  Status validate() const;
};
// Largest budget (10^15 tokens, over a thousand times SlimPajama) and sequence length (2^24
// tokens, 128 times the paper's longest context) a mixture accepts.
inline constexpr uint64_t kMaxMixTokens = 1000000000000000ull;
inline constexpr uint64_t kMaxMixSeqLen = 1ull << 24;
nlohmann::json mix_config_json(const MixConfig& c);

// A run of document tokens packed as a unit.
struct Piece {
  uint64_t key;     // shuffle key
  uint64_t doc;     // index into the store's documents
  uint32_t start;   // first token in the document
  uint32_t len;     // document tokens (without BOS/EOS)
  uint32_t repeat;  // 0 = the document's first use in this mixture
  uint32_t pad_ = 0;
  uint64_t pos = 0; // first position in the packed stream (after layout)
};

// Per domain x length bucket accounting of a plan or a mixture.
struct CellCount {
  uint64_t available = 0;  // packed-token cost of the store's documents (before)
  uint64_t selected = 0;   // packed tokens in the mixture
};

struct DomainPlan {
  std::string name;
  uint64_t target = 0;                 // packed tokens
  uint64_t target_long = 0, target_short = 0;
  double long_share_target = 0;        // per-source-upsample: max(--long-share, the domain's own)
  uint64_t available = 0, available_long = 0;
  double epochs = 0;                   // selected document tokens / available document tokens
  double epochs_long = 0, epochs_short = 0;
  uint32_t max_repeat = 0;             // largest repeat index used (0: no document used twice)
  std::vector<CellCount> buckets;      // by source-document length bucket (stats.h edges)
};

struct MixPlan {
  MixConfig config;
  uint64_t chunks = 0;        // C
  uint64_t total = 0;         // C x seq_len (before padding)
  std::vector<DomainPlan> domains;  // store domain order
  uint64_t pieces = 0;
};
nlohmann::json plan_json(const MixPlan& p);
std::string plan_table(const MixPlan& p);

// Computes the plan and the selected pieces (shuffled, laid out: Piece::pos set) from the store's
// document table only. Fails with the domain and the shortfall when a target needs repeats and
// no_repeat is set, or when a target cannot be met at all (a domain without long documents).
struct Mixture {
  MixPlan plan;
  std::vector<Piece> pieces;   // in packed order
  uint64_t stream_end = 0;     // end of the laid-out stream (including no-split padding)
  uint64_t num_chunks = 0;     // chunks written (after the last-chunk rule)
};
Result<Mixture> build_mixture(const DocumentStore& store, const MixConfig& cfg);

// Tokens and spans of chunk c of a mixture: tokens (seq_len), spans in order covering it.
struct PackedSpan;
class TokenReader;
Status pack_chunk(const Mixture& m, const DocumentStore& store, const TokenReader& reader, uint64_t c,
                  std::vector<uint32_t>* tokens, std::vector<PackedSpan>* spans);

// Reads runs of a store's token array with pread (thread-safe), not through a memory map, so the
// process's resident memory stays independent of the store's size (the page cache holds the file).
class TokenReader {
 public:
  static Result<TokenReader> open(const DocumentStore& store);
  // Writes tokens [offset, offset + n) of the store's token array, widened, to out[0, n).
  Status read(uint64_t offset, uint64_t n, uint32_t* out) const;

 private:
  std::shared_ptr<int> fd_;
  std::string path_;
  uint32_t token_bytes_ = 2;
};

// ---- the mixture report (issue 3 item 5) ----------------------------------------------------
struct MixSide {
  std::string name;
  double token_share = 0;      // of all tokens of this side
  double long_share = 0;       // share of the domain's tokens in documents (pieces) longer than the threshold
  uint64_t tokens = 0;
  std::vector<uint64_t> bucket_tokens;  // by piece length (after) / document length (before)
  double epochs = 0;           // after only: selected / available document tokens
  double epochs_long = 0;      // the same over documents longer than the threshold
  uint32_t max_repeat = 0;
};
struct MixReport {
  std::string title;
  uint64_t long_threshold = 4096;
  std::vector<std::string> bucket_labels;
  std::vector<MixSide> before, after;  // same domain order
  uint64_t total_before = 0, total_after = 0, pad_tokens = 0;
};
// Before: the store's documents as they are (tokens without BOS). After: the mixture's packed
// tokens (with BOS/EOS) in the written chunks, bucketed and called long by the nominal length of
// their piece: the cut piece (cut / natural) or the rest of the source document (so a prefix a
// budget truncated counts as the document it came from). Padding is counted apart.
MixReport mix_report(const DocumentStore& store, const Mixture& m);
nlohmann::json report_json(const MixReport& r);
Result<MixReport> report_from_json(const nlohmann::json& j);
std::string report_table(const MixReport& r);
std::string report_markdown(const MixReport& r);
// Grouped bars per domain: series = the given reports' "after" sides (and the first one's
// "before" when with_before). Writes `path` (long-token share) and `<stem>-domains<ext>` (domain
// token share). PNG or SVG by extension.
Status draw_mix_figure(const std::vector<MixReport>& reports, const std::vector<std::string>& names,
                       bool with_before, const std::string& path);

// ---- running a mix (issue 3 items 1, 4, 6) ---------------------------------------------------
struct MixRunConfig {
  MixConfig mix;
  std::string out_dir;
  int threads = 0;                // 0 = all cores
  uint32_t task = 0, num_tasks = 1;
  uint64_t shard_tokens = 1ull << 26;  // tokens per shard (rounded to whole chunks); shards are the unit of parallel work
  bool overwrite = false;
};
struct MixRunSummary {
  uint64_t chunks = 0, tokens = 0, shards_written = 0, shards_reused = 0;
  double seconds = 0;
};
// Writes the shards of this task (all when num_tasks == 1) to out_dir, then manifest.json with
// the plan and the report. Shards already complete from an interrupted run are kept (resume).
Result<MixRunSummary> run_mix(const DocumentStore& store, const MixRunConfig& cfg, const ProgressFn& progress);

// Joins `--task i/N` outputs (any order) into out_dir; fails unless they are the N tasks of one mix.
Status merge_mix_tasks(const std::vector<std::string>& inputs, const std::string& out_dir);

}  // namespace longctx
