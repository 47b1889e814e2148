// Shared CLI plumbing: the progress bar, -q, --task. The command dialect itself (options,
// validation, running, error reporting) is in cli/command.h.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

 private:
  std::string label_;
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

// Parses "i/N" for --task.
Status parse_task(const std::string& s, uint32_t* task, uint32_t* num_tasks);

}  // namespace longctx::cli
