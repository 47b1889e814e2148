// longctx train (continual pretraining / training from scratch on a packed mixture) and
// longctx train plot. The loop is the src/train library (train/trainer.h); this file turns flags
// into a TrainConfig, picks the communicator (MPI under mpirun), installs the SIGINT/SIGTERM
// handlers and draws the progress line.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"
#include "train/train_config.h"

namespace longctx::cli {

struct TrainOptions {
  train::TrainConfig config;
  std::string resume;                                      // RUN: continue with its recorded flags
  std::string seq_len, batch_tokens, tokens;               // "16K", "4M", "5B"
  int threads = 0;
  // Set by the parser: a negative --lr or --warmup typed by the user is out of range, while the
  // configuration's negative values mean "the default" (train_config.h).
  const CLI::Option* lr_opt = nullptr;
  const CLI::Option* warmup_opt = nullptr;
  Status validate() const;
  // The library configuration: --resume reads RUN/run.json, otherwise the flags.
  Result<train::TrainConfig> to_config() const;
};
Status run_train(const TrainOptions& o);

struct TrainPlotOptions {
  std::string run;
  Status validate() const { return Status::ok(); }
};
Status run_train_plot(const TrainPlotOptions& o);

void register_train_commands(CLI::App& app);

}  // namespace longctx::cli
