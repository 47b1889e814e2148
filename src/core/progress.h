// Progress reporting without printing: long-running library functions call a ProgressFn with a
// snapshot; the CLI renders it (bar, rate, ETA). Calls are throttled by the caller of report().
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace longctx {

struct ProgressSnapshot {
  std::string phase;       // "tokenize", "write", ...
  uint64_t docs = 0;
  uint64_t bytes = 0;      // input bytes consumed (uncompressed text or compressed, per stage)
  uint64_t bytes_total = 0;  // 0 when unknown
  uint64_t tokens = 0;
  // Already done when this run started (a resumed run): rates and ETA count only this run's work.
  uint64_t bytes_at_start = 0;
  uint64_t tokens_at_start = 0;
  double elapsed_s = 0;
  bool final = false;
  uint64_t checkpoints = 0;  // resume checkpoints recorded by this run so far (reported unthrottled)
};
using ProgressFn = std::function<void(const ProgressSnapshot&)>;

// Rate-limits progress callbacks to about `hz` per second.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(ProgressFn fn, double hz = 5)
      : fn_(std::move(fn)), period_(1.0 / hz), start_(std::chrono::steady_clock::now()) {}
  void report(ProgressSnapshot s, bool force = false) {
    if (!fn_) return;
    double t = elapsed();
    if (!force && t - last_ < period_) return;
    last_ = t;
    s.elapsed_s = t;
    fn_(s);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  ProgressFn fn_;
  double period_;
  double last_ = -1e9;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace longctx
