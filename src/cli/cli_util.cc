#include "cli/cli_util.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>

#include "core/units.h"
#include "core/validate.h"

namespace longctx::cli {

Status check_outputs(const std::vector<OutputSpec>& outputs, bool overwrite) {
  for (const OutputSpec& o : outputs)
    if (!o.path.empty()) LONGCTX_RETURN_IF_ERROR(check_output(o.path, *o.kind, overwrite, o.flag));
  return Status::ok();
}

void print_notes(const std::vector<std::string>& notes) {
  for (const auto& n : notes) fmt::print(stderr, "note: {}\n", n);
}

ProgressFn with_test_kill_hooks(ProgressFn fn) {
  auto limit = [](const char* name) -> uint64_t {
    const char* v = std::getenv(name);
    return v ? std::strtoull(v, nullptr, 10) : 0;
  };
  const uint64_t docs = limit("LONGCTX_TEST_KILL_AFTER_DOCS"), checkpoints = limit("LONGCTX_TEST_KILL_AFTER_CHECKPOINTS");
  if (!docs && !checkpoints) return fn;
  return [fn, docs, checkpoints](const ProgressSnapshot& s) {
    if (fn) fn(s);
    if ((docs && s.docs >= docs) || (checkpoints && s.checkpoints >= checkpoints))
      ::kill(::getpid(), SIGKILL);  // kill -9: no clean-up, no flush
  };
}

bool& global_quiet() {
  static bool q = false;
  return q;
}

Status with_quiet_stderr(const std::function<Status()>& fn) {
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0) {
    ::dup2(devnull, 2);
    ::close(devnull);
  }
  Status st = fn();
  if (saved >= 0) {
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
  }
  return st;
}

ProgressBar::ProgressBar(std::string label, bool quiet)
    : label_(std::move(label)), quiet_(quiet || global_quiet()), tty_(::isatty(2) != 0) {}

ProgressFn ProgressBar::fn() {
  return [this](const ProgressSnapshot& s) { render(s); };
}

void ProgressBar::render(const ProgressSnapshot& s) {
  if (quiet_) return;
  double period = tty_ ? 0.2 : 10.0;
  if (!s.final && s.elapsed_s - last_draw_ < period) return;
  last_draw_ = s.elapsed_s;
  double frac = s.bytes_total ? std::min(1.0, static_cast<double>(s.bytes) / static_cast<double>(s.bytes_total)) : -1;
  const double done_here = static_cast<double>(s.bytes - std::min(s.bytes, s.bytes_at_start));
  const double tokens_here = static_cast<double>(s.tokens - std::min(s.tokens, s.tokens_at_start));
  double rate = s.elapsed_s > 0 ? done_here / s.elapsed_s : 0;
  std::string bar;
  if (frac >= 0) {
    int w = 24, full = static_cast<int>(frac * w);
    bar = "[" + std::string(full, '=') + (full < w ? ">" : "") + std::string(std::max(0, w - full - 1), ' ') + "]";
    bar += fmt::format(" {:5.1f}%", 100 * frac);
  }
  auto amount = [&](double v) { return work_.empty() ? format_bytes(v) : format_count(v) + " " + work_; };
  std::string line = fmt::format("{} {} {} {}", label_, bar, format_count(static_cast<double>(s.docs)), items_);
  if (s.bytes) line += fmt::format(" | {}", amount(static_cast<double>(s.bytes)));
  if (s.tokens) line += fmt::format(" | {} tok", format_count(static_cast<double>(s.tokens)));
  if (rate > 0) line += fmt::format(" | {}/s", amount(rate));
  if (s.tokens && s.elapsed_s > 0) line += fmt::format(" {} tok/s", format_count(tokens_here / s.elapsed_s));
  if (frac > 0 && frac < 1 && rate > 0)
    line += fmt::format(" | ETA {}", format_duration((static_cast<double>(s.bytes_total) - static_cast<double>(s.bytes)) / rate));
  line += fmt::format(" | {}", format_duration(s.elapsed_s));
  if (tty_) {
    fmt::print(stderr, "\r\033[2K{}", line);
    drawn_ = true;
    if (s.final) {
      fmt::print(stderr, "\n");
      drawn_ = false;
    }
  } else {
    fmt::print(stderr, "{}\n", line);
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (drawn_ && !quiet_) fmt::print(stderr, "\n");
  drawn_ = false;
}

Result<std::vector<uint32_t>> parse_token_ids(std::string_view flag, std::string_view text, uint32_t max, bool allow_empty) {
  std::vector<uint32_t> ids;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find_first_of(", ", pos);
    if (e == std::string_view::npos) e = text.size();
    const std::string_view item = text.substr(pos, e - pos);
    pos = e + 1;
    if (item.empty()) continue;
    auto v = parse_integer_unsigned("", item, max);
    if (!v.is_ok()) return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a token id (expected an integer in [0, {}])", flag, item, max);
    ids.push_back(static_cast<uint32_t>(*v));
  }
  if (ids.empty() && !allow_empty) return make_error(ErrorCode::kInvalidArgument, "{}: no token ids given", flag);
  return ids;
}

Status parse_task(const std::string& s, uint32_t* task, uint32_t* num_tasks) {
  const auto slash = s.find('/');
  auto i = parse_integer_unsigned("", std::string_view(s).substr(0, slash), UINT32_MAX);
  auto n = parse_integer_unsigned("", slash == std::string::npos ? std::string_view() : std::string_view(s).substr(slash + 1), UINT32_MAX);
  if (!i.is_ok() || !n.is_ok()) return make_error(ErrorCode::kInvalidArgument, "--task '{}': expected i/N, e.g. 0/4", s);
  if (*n == 0 || *i >= *n) return make_error(ErrorCode::kInvalidArgument, "--task '{}': expected 0 <= i < N", s);
  *task = static_cast<uint32_t>(*i);
  *num_tasks = static_cast<uint32_t>(*n);
  return Status::ok();
}

}  // namespace longctx::cli
