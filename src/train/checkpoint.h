// The run directory and its checkpoints (docs/training.md "Run directory" and "Resume").
//
//   RUN/run.json              the run's configuration (TrainConfig) and identity, written first
//   RUN/metrics.jsonl         one JSON line per step and per validation pass (rank 0)
//   RUN/step-000100/          a checkpoint: a Hugging Face folder (config.json with the run's RoPE
//                             settings, model.safetensors in float32, the tokenizer's files) plus
//                             optimizer.bin (AdamW moments) and trainer_state.json (step, tokens,
//                             data position, the order's seed, checksums of the two weight files)
//   RUN/summary.json          written when the run has finished
//   RUN/loss.{png,svg}, RUN/val-loss.{png,svg}   figures (`longctx train plot RUN`)
//
// A checkpoint is written as step-NNNNNN.tmp/ (every file fsynced, trainer_state.json last) and
// renamed to step-NNNNNN/ only when complete, so a crash, a write error or a full disk never leaves
// a folder without the .tmp suffix that is not whole; leftovers are removed at the next start.
// Loading checks trainer_state.json's checksums of optimizer.bin and model.safetensors.
//
// optimizer.bin, little-endian: "LCTXOPT1", u32 version (1), u32 0, u64 step, u64 num_params, then
// m and v as float32[num_params] each.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/status.h"
#include "model/model.h"
#include "train/optimizer.h"
#include "train/train_config.h"

namespace longctx::train {

inline constexpr const char* kRunFormat = "longctx-train-run";

std::string checkpoint_name(int64_t step);  // "step-000100"

// What a checkpoint records beside the weights.
struct TrainerState {
  int64_t step = 0;
  uint64_t tokens = 0;     // tokens trained on (padding included)
  uint64_t sequences = 0;  // sequences consumed: the data position
  uint64_t seed = 0;       // the data order's seed
  int64_t metrics_lines = 0;
};

// Writes RUN/step-NNNNNN (see the header) for the model, optimizer and state; `tokenizer_files`
// are copied in. Removes older checkpoints beyond keep_last (0 = keep all).
Status save_training_checkpoint(const std::string& run, const model::LlamaModel& m, const AdamW& opt,
                                const TrainerState& st, const std::vector<std::string>& tokenizer_files,
                                int keep_last);

// Complete checkpoints of a run, by step (ascending).
std::vector<int64_t> list_checkpoints(const std::string& run);

// Loads step's checkpoint into m (same configuration) and opt, checking the checksums.
Status load_training_checkpoint(const std::string& run, int64_t step, model::LlamaModel* m, AdamW* opt,
                                TrainerState* st);

// The run directory's lifecycle (docs/training.md "Run directory"): the directory is created or
// must be empty or a training run; one of another identity is refused unless overwrite (which
// removes only a run's own files); an exclusive lock is held while the object lives; leftover
// step-*.tmp folders are removed.
class RunFiles {
 public:
  static Result<RunFiles> open(const TrainConfig& c);
  bool finished() const { return finished_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool finished_ = false;
  DirLock lock_;
};

// The configuration recorded in RUN/run.json (`longctx train --resume RUN`).
Result<TrainConfig> read_run_config(const std::string& run);

// The tokenizer files to copy into checkpoints: the --tokenizer file, else those the --model
// folder has (tokenizer.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
// generation_config.json).
std::vector<std::string> tokenizer_files(const TrainConfig& c);

}  // namespace longctx::train
