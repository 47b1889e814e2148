// The training loop (docs/training.md): continual pretraining of a Hugging Face LLaMA-family
// checkpoint, or training from scratch, on a packed mixture, in the paper's recipe (paper.md
// "Training recipe"). The library entry point for the CLI (`longctx train`) and other drivers:
//
//   TrainConfig c;  c.data = "mix"; c.model = "llama"; c.out = "run"; c.rope_theta = 5e5; ...
//   SingleProcess comm;                       // or make_mpi_communicator() under mpirun
//   Result<TrainSummary> r = run_training(c, progress_fn, comm);
//
// One step: every rank runs forward + backward on its micro-batches (data.h: a pure function of
// seed, step and rank), gradients are summed across ranks in rank order (communicator.h) and
// divided by the number of micro-batches, clipped by global norm, and AdamW updates the
// parameters identically on every rank. Rank 0 writes metrics and checkpoints.
//
// Stopping: request_stop() (the CLI calls it on SIGINT/SIGTERM) ends the run after the current
// step with a checkpoint; a NaN or infinite loss or gradient norm ends it with an error naming the
// step, keeping the last good checkpoint. A rerun of the same configuration resumes from the last
// checkpoint and ends with the same bytes as an uninterrupted run.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/communicator.h"
#include "train/train_config.h"

namespace longctx::train {

struct TrainProgress {
  enum class Kind { kNote, kStep, kEval, kSaved };
  Kind kind = Kind::kNote;
  std::string message;  // kNote: the plan, resume decisions; kSaved: the checkpoint's path
  int64_t step = 0, steps = 0;
  uint64_t tokens = 0;
  double loss = 0, lr = 0, grad_norm = 0, tokens_per_s = 0, elapsed_s = 0;
  std::map<std::string, double> domain_loss;  // kEval: validation loss per domain
};
using TrainProgressFn = std::function<void(const TrainProgress&)>;

struct TrainSummary {
  int64_t step = 0, steps = 0;  // reached, planned
  uint64_t tokens = 0;
  double loss = 0;              // the last step's
  double val_loss = -1;         // the last validation pass's (-1: none)
  std::string checkpoint;       // the last checkpoint folder
  bool interrupted = false;     // stopped by request_stop()
  bool already_done = false;    // the run had finished before: nothing trained
  std::vector<std::string> figures;
};

Result<TrainSummary> run_training(const TrainConfig& config, const TrainProgressFn& progress, Communicator& comm);

// Asks a running run_training to save and stop after the current step (async-signal-safe).
void request_stop();
void clear_stop_request();

}  // namespace longctx::train
