// Shared by the model benchmarks: best wall time of `reps` runs (the least disturbed run on a
// shared machine), and "--name value" integer flags.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

inline double time_best(const std::function<void()>& f, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// Sets *flags[name] from "--name value" pairs; false (after a message) on an unknown flag.
inline bool parse_int_flags(int argc, char** argv, const std::map<std::string, int*>& flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    auto it = flags.find(std::string(argv[i]).substr(2));
    if (std::string(argv[i]).rfind("--", 0) != 0 || it == flags.end()) {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return false;
    }
    *it->second = std::atoi(argv[i + 1]);
  }
  return true;
}
