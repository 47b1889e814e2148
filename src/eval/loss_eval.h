// Per-domain and per-position validation loss (paper.md "Other evaluations"; docs/evaluation.md
// "Loss"): the mean next-token loss of each domain split at a token position (0-4K and 4K-N by
// default), the difference from a baseline model with the paper's 0.01 rule (Table 5), and the
// loss against context position in buckets.
//
// Library entry points (also used by the study report): evaluate_loss() -> LossEvalResult,
// loss_difference() -> LossDiffTable, and their JSON forms.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "core/status.h"
#include "model/model.h"

namespace longctx::eval {

struct LossEvalConfig {
  std::string data;             // a packed mixture directory (manifest.json + shards) or a document store
  int64_t split = 4096;         // positions [0, split) and [split, N)
  // Tokens per scored sequence. Mixture: its chunk length, or the chunk's first seq_len tokens
  // when smaller. Store: each sampled document's first seq_len tokens (BOS first). 0: the model's
  // context for a store, the chunk length for a mixture.
  int64_t seq_len = 0;
  uint64_t max_tokens = 1 << 20;  // scored positions per domain (sampling stops when each has this many)
  // Upper edges of the position buckets (ascending; the last bucket ends at seq_len). Empty: 1K,
  // 2K, 4K, ... below seq_len, or 64, 128, ... when seq_len < 2K (small models).
  std::vector<int64_t> bucket_edges;
  uint64_t seed = 0;            // order in which chunks or documents are sampled
  Status validate() const;
};

struct DomainLoss {
  std::string domain;
  double sum_before = 0, sum_after = 0;      // nats, positions < split and >= split
  int64_t count_before = 0, count_after = 0;
  double mean_before() const;  // NaN when there is no position
  double mean_after() const;
};

struct PositionBucket {
  int64_t lo = 0, hi = 0;  // positions [lo, hi)
  double sum = 0;
  int64_t count = 0;
  double mean() const;  // NaN when empty
};

struct LossEvalResult {
  std::string data, model;
  int64_t split = 0, seq_len = 0;
  uint64_t sequences = 0, positions = 0;
  std::vector<DomainLoss> domains;      // in the data's domain order; domains without tokens left out
  std::vector<PositionBucket> buckets;  // over all domains
};

// Position of a loss: the index of the input token in its document's part of the sequence (the
// model has seen position+1 tokens of the document). The document mask keeps packed documents
// apart (each span of a mixture chunk is scored as if alone); a document's last token in a
// sequence predicts nothing. Sampling: chunks (or documents) in the order of
// xxh64-based hashes of their index (or document id) under `seed`, until every domain has
// max_tokens positions or the data ends; so a run is deterministic and reads a bounded amount.
Result<LossEvalResult> evaluate_loss(const model::LlamaModel& m, const LossEvalConfig& cfg, const ProgressFn& progress);

std::vector<int64_t> default_bucket_edges(int64_t seq_len);

nlohmann::json loss_result_json(const LossEvalResult& r);
Result<LossEvalResult> loss_result_from_json(const nlohmann::json& j);

// The paper's marks (Table 5): worse when d > threshold, better when d < -threshold, else none.
enum class LossMark { kBetter, kWorse, kNone, kMissing };
LossMark loss_mark(double difference, double threshold = 0.01);
const char* loss_mark_name(LossMark m);  // "better", "worse", "no difference", "missing"

struct LossDiffRow {
  std::string domain;
  double model_before = 0, model_after = 0, base_before = 0, base_after = 0;  // NaN: no positions
  double diff_before = 0, diff_after = 0;  // model - baseline
  LossMark mark_before = LossMark::kMissing, mark_after = LossMark::kMissing;
};
struct LossDiffTable {
  std::string model, baseline;
  int64_t split = 0;
  double threshold = 0.01;
  std::vector<LossDiffRow> rows;  // domains of either result, the model's order first
};
LossDiffTable loss_difference(const LossEvalResult& model, const LossEvalResult& baseline, double threshold = 0.01);

// Renderings of the table. Terminal: aligned columns, marks as words, ANSI colour when `color`.
std::string diff_table_text(const LossDiffTable& t, bool color);
std::string diff_table_markdown(const LossDiffTable& t);
nlohmann::json diff_table_json(const LossDiffTable& t);
// A result's own table (no baseline).
std::string loss_table_text(const LossEvalResult& r);
std::string loss_table_markdown(const LossEvalResult& r);

}  // namespace longctx::eval
