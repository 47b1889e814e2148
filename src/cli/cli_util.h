// Shared CLI plumbing: error reporting, exit codes, the progress bar, option helpers.
// Only src/cli prints or exits (design.md).
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/progress.h"
#include "core/status.h"

namespace longctx::cli {

// Exit status of the subcommand that ran (set by its callback).
int& exit_code();

// Prints "longctx: error: ..." and returns 1.
int fail(const Status& st);
int fail(const std::string& message);

// A terminal progress bar with rate and ETA on stderr. On a TTY it redraws one line ~5x/s;
// otherwise (logs, CI) it prints a line every 10 s. Quiet mode prints nothing.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label, bool quiet = false);
  ProgressFn fn();
  void render(const ProgressSnapshot& s);
  void finish();

 private:
  std::string label_;
  bool quiet_, tty_;
  double last_draw_ = -1e9;
  bool drawn_ = false;
};

bool& global_quiet();

// Parses "i/N" for --task.
Status parse_task(const std::string& s, uint32_t* task, uint32_t* num_tasks);

// Registers a subcommand group's commands. Each lives in its own cmd_*.cc file.
void register_corpus_commands(CLI::App& app);
void register_tokenizer_commands(CLI::App& app);
void register_tokenize_commands(CLI::App& app);
void register_stats_commands(CLI::App& app);
void register_mix_commands(CLI::App& app);

}  // namespace longctx::cli
