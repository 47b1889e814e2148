// Shared CLI plumbing: the progress bar, -q, --task. The command dialect itself (options,
// validation, running, error reporting) is in cli/command.h.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/outputs.h"
#include "core/progress.h"
#include "core/status.h"

namespace longctx::cli {

// A terminal progress bar with rate and ETA on stderr. On a TTY it redraws one line ~5x/s;
// otherwise (logs, CI) it prints a line every 10 s. Quiet mode prints nothing.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label, bool quiet = false);
  ProgressFn fn();
  void render(const ProgressSnapshot& s);
  void finish();
  // For stages whose units are not documents and bytes: `items` replaces "docs"; with `work`
  // set, the snapshot's bytes/bytes_total count that work (e.g. "tok" of prompts) instead.
  void set_units(std::string items, std::string work) {
    items_ = std::move(items);
    work_ = std::move(work);
  }

 private:
  std::string label_;
  std::string items_ = "docs", work_;
  bool quiet_, tty_;
  double last_draw_ = -1e9;
  bool drawn_ = false;
};

bool& global_quiet();

// Runs `fn` with the process's stderr sent to /dev/null: for libraries that log to the terminal
// themselves (the SentencePiece trainer).
Status with_quiet_stderr(const std::function<Status()>& fn);

// Token ids given as text (--ids, --prompt-ids): decimal integers in [0, max] separated by commas
// or spaces. Fails naming the flag and the first item that is not a token id, or when there are
// none and !allow_empty.
Result<std::vector<uint32_t>> parse_token_ids(std::string_view flag, std::string_view text, uint32_t max, bool allow_empty);

// One output of a command: its path, its kind and the flag that named it (for the hint).
struct OutputSpec {
  std::string path;
  const OutputKind* kind;
  std::string_view flag;
};
// The output policy (core/outputs.h) for every output of a command, checked before any work: a
// link, device, FIFO or socket is refused, an existing output needs --overwrite and must be of
// the same kind. Empty paths (an output not asked for) are skipped.
Status check_outputs(const std::vector<OutputSpec>& outputs, bool overwrite);

// Prints what a run lifecycle did (core/run_dir.h notes: resumed, started over and why) on stderr.
void print_notes(const std::vector<std::string>& notes);

// Test hooks of the kill/resume tests, around a progress function: the process sends itself
// SIGKILL (exactly `kill -9`: no clean-up, no flush; a shell reports status 137) once
// LONGCTX_TEST_KILL_AFTER_DOCS documents or LONGCTX_TEST_KILL_AFTER_CHECKPOINTS resume
// checkpoints have been reported. Unset: `fn` itself.
ProgressFn with_test_kill_hooks(ProgressFn fn);

// Parses "i/N" for --task.
Status parse_task(const std::string& s, uint32_t* task, uint32_t* num_tasks);

}  // namespace longctx::cli
