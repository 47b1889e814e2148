// Shared by the model benchmarks: best wall time of `reps` runs (the least disturbed run on a
// shared machine).
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>

inline double time_best(const std::function<void()>& f, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}
