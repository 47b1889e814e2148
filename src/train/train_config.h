// Configuration of a training run (docs/training.md): one struct shared by the CLI
// (`longctx train`), the run directory's run.json (so `--resume RUN` needs no flags) and library
// callers such as the study driver. Defaults are the paper's continual-pretraining recipe
// (paper.md "Training recipe": constant learning rate 2e-5, 4M-token batches, full attention,
// per-layer activation checkpointing) and, for runs from scratch (`--init`), a cosine schedule.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "model/config.h"

namespace longctx::train {

enum class Schedule { kConstant, kCosine, kLinear };
const char* schedule_name(Schedule s);
Result<Schedule> parse_schedule(const std::string& name);

// The paper's batch (4M tokens) and learning rate; the from-scratch defaults (docs/training.md).
inline constexpr uint64_t kPaperBatchTokens = 4ull << 20;
inline constexpr double kPaperLr = 2e-5;
inline constexpr uint64_t kInitBatchTokens = 64ull << 10;
inline constexpr double kInitLr = 1e-3;

struct TrainConfig {
  // ---- inputs and outputs ----
  std::string data;            // packed mixture directory (manifest.json + .lcpk) or Megatron PREFIX[.idx]
  std::string val_data;        // held-out mixture ("" = none, or --val-share)
  double val_share = 0;        // share of the data's sequences held out for validation (0..0.5)
  std::string model;           // Hugging Face folder to continue from (exclusive with init)
  std::string init;            // config.json of a model trained from scratch
  uint64_t init_seed = 1;      // parameters of an --init model (HF's normal(0, init_std))
  double init_std = 0.02;
  std::string tokenizer;       // copied into every checkpoint ("" = the --model folder's files)
  std::string out;             // the run directory
  bool overwrite = false;      // replace another run in `out`

  // ---- model and RoPE ----
  int64_t seq_len = 0;         // 0 = the mixture's
  double rope_theta = 0;       // 0 = keep the model's
  std::string rope_scaling;    // "" = keep; "none", "linear:F", "dynamic:F", "yarn:F[,ORIG]", "llama3:F[,ORIG[,LOW,HIGH]]"

  // ---- optimisation ----
  double lr = -1;              // < 0: kPaperLr with --model, kInitLr with --init
  std::string schedule;        // "" = constant with --model, cosine with --init
  int64_t warmup = -1;         // steps; < 0: 0 with --model, 5% of the steps with --init
  double min_lr = 0;           // end of cosine/linear decay
  uint64_t batch_tokens = 0;   // 0: kPaperBatchTokens with --model, kInitBatchTokens with --init
  int micro_batch = 1;         // sequences per forward/backward
  int64_t steps = 0;           // optimizer steps (0: from tokens, else one epoch)
  uint64_t tokens = 0;         // token budget (0: from steps, else one epoch)
  double grad_clip = 1.0;      // global L2 norm; 0 = off
  double weight_decay = 0.0;   // Hugging Face Trainer's default
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // torch.optim.AdamW / HF defaults
  uint64_t seed = 1;           // data order
  bool doc_mask = false;       // attention within documents only (ProLong); default: full causal
  bool checkpointing = true;   // per-layer activation checkpointing

  // ---- bookkeeping (not part of the run's identity) ----
  int64_t save_every = 0;      // steps between checkpoints (0 = only at the end / on a signal)
  int keep_last = 3;           // checkpoints kept (0 = all)
  int64_t eval_every = 0;      // steps between validation passes (0 = at the end only)
  int64_t eval_sequences = 64; // validation sequences per pass (0 = all)
  bool measure_ceiling = true; // time an sgemm at start for the utilisation figure
  // Tests only (never recorded, no flag): makes the gradient of this step NaN, so the refusal of a
  // non-finite step can be checked after earlier checkpoints exist.
  int64_t test_nan_at_step = 0;

  // Range and consistency checks that need no file (every number, NaN and infinities too).
  Status validate() const;
};

// Resolved defaults (those that depend on --model vs --init).
double effective_lr(const TrainConfig& c);
Schedule effective_schedule(const TrainConfig& c);
uint64_t effective_batch_tokens(const TrainConfig& c);
int64_t effective_warmup(const TrainConfig& c, int64_t steps);

// run.json round trip: every field above.
nlohmann::json config_to_json(const TrainConfig& c);
Result<TrainConfig> config_from_json(const nlohmann::json& j);
// The fields that decide the run's weights (bookkeeping and paths of outputs left out): two
// commands with the same identity continue each other.
nlohmann::json run_identity(const TrainConfig& c);

// Applies --rope-theta / --rope-scaling to a model configuration for training at `seq_len`
// (docs/training.md "RoPE"): a new rope_theta raises max_position_embeddings to seq_len when it
// is below; linear and dynamic scaling keep max_position_embeddings (HF: the reach is factor x
// that); yarn and llama3 record the old value as original_max_position_embeddings and multiply
// max_position_embeddings by the factor.
Status apply_rope_flags(const TrainConfig& c, int64_t seq_len, model::LlamaConfig* cfg);

}  // namespace longctx::train
