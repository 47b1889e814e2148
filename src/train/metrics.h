// Training metrics (docs/training.md "Metrics"): model FLOPs, the machine's measured sgemm
// ceiling, the JSON lines of RUN/metrics.jsonl, and the figures drawn from them.
//
// A step line: {"step", "tokens", "loss", "domain_loss": {domain: loss}, "lr", "grad_norm",
//   "tokens_per_s", "flops_per_s", "utilisation", "elapsed_s"}
// A validation line: {"step", "val_loss", "val_domain_loss": {domain: loss}, "val_tokens"}
// Losses are in nats per predicted token; per-domain losses average the positions whose span
// belongs to the domain (padding excluded).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "model/config.h"

namespace longctx::train {

// Model FLOPs of training one token in a sequence of T (forward + backward, no recomputation):
// 6 x the matrix-multiply parameters (layers' projections and the output head) + causal attention
// 6 x layers x q_dim x T (QK^T and PV over T/2 keys on average, times 3 for the backward).
double train_flops_per_token(const model::LlamaConfig& c, int64_t T);

// The best of a few rounds of single-precision matrix products (512^3, one per OpenMP thread at
// once), in FLOP/s: the ceiling the utilisation figure divides by.
double measure_sgemm_flops();

// Draws RUN/loss.{png,svg} (training loss per step and validation loss) and, when validation ran,
// RUN/val-loss.{png,svg} (validation loss per domain against step) from RUN/metrics.jsonl.
// Returns the paths written.
Result<std::vector<std::string>> plot_run(const std::string& run);

}  // namespace longctx::train
