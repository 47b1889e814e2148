// A stand-in for libFuzzer where there is none (GCC builds): runs a fuzz target on every file of
// its seed corpus, then on random mutations of them for a fixed time. It is what ctest runs
// (fuzz.<target>), so the test suite exercises every target's code in every build, sanitizer
// builds included. Coverage-guided fuzzing proper is `./run.sh fuzz` (clang + libFuzzer).
//
//   fuzz_<target>_replay [--seconds S] [--seed N] [--max-len BYTES] PATH...
// PATH: files or directories of inputs. A target that finds a bug crashes (sanitizer report or
// abort); the signal handler below first saves the input to ./replay-crash.bin, so that it can be
// added to the seed corpus. Runs are reproducible: same corpus and seed, same inputs.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_util.h"

namespace {

std::vector<std::string> g_inputs;
std::string g_current;  // the input being run, saved by the crash handler

void on_crash(int sig) {
  std::FILE* f = std::fopen("replay-crash.bin", "wb");
  if (f) {
    std::fwrite(g_current.data(), 1, g_current.size(), f);
    std::fclose(f);
    std::fprintf(stderr, "replay: signal %d; the input (%zu bytes) is in replay-crash.bin\n", sig, g_current.size());
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void add_path(const std::string& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: cannot read '%s'\n", p.c_str());
    std::exit(2);
  }
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> names;
    DIR* d = ::opendir(p.c_str());
    while (dirent* e = d ? ::readdir(d) : nullptr)
      if (e->d_name[0] != '.') names.push_back(p + "/" + e->d_name);
    if (d) ::closedir(d);
    std::sort(names.begin(), names.end());  // a fixed order: runs are reproducible
    for (const auto& n : names) add_path(n);
    return;
  }
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  g_inputs.push_back(ss.str());
}

void run_one(const std::string& input) {
  g_current = input;
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(g_current.data()), g_current.size());
}

// One to four random edits of the kinds libFuzzer's mutator makes most often.
std::string mutate(std::string s, std::mt19937_64& rng, size_t max_len) {
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  static const uint64_t kInteresting[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0xffffffff,
                                          0x8000000000000000ull, ~0ull};
  int edits = 1 + static_cast<int>(below(4));
  for (int e = 0; e < edits; ++e) {
    switch (below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // a random byte
        if (!s.empty()) s[below(s.size())] = static_cast<char>(rng());
        break;
      case 2:  // insert bytes
        s.insert(below(s.size() + 1), std::string(1 + below(8), static_cast<char>(rng())));
        break;
      case 3:  // erase a range
        if (!s.empty()) {
          size_t at = below(s.size());
          s.erase(at, 1 + below(std::min<size_t>(64, s.size() - at)));
        }
        break;
      case 4: {  // an interesting little-endian integer of 1, 2, 4 or 8 bytes
        size_t w = size_t{1} << below(4);
        if (s.size() >= w) {
          uint64_t v = kInteresting[below(std::size(kInteresting))];
          std::memcpy(&s[below(s.size() - w + 1)], &v, w);
        }
        break;
      }
      case 5: {  // copy a range of another input over a range of this one (splice)
        const std::string& o = g_inputs[below(g_inputs.size())];
        if (!o.empty()) {
          size_t from = below(o.size()), n = 1 + below(std::min<size_t>(256, o.size() - from));
          s.insert(below(s.size() + 1), o, from, n);
        }
        break;
      }
      default:  // truncate
        if (!s.empty()) s.resize(below(s.size()));
        break;
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  uint64_t seed = 1;
  size_t max_len = 1 << 16;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--max-len" && i + 1 < argc) max_len = std::strtoull(argv[++i], nullptr, 10);
    else add_path(a);
  }
  if (g_inputs.empty()) {
    std::fprintf(stderr, "usage: %s [--seconds S] [--seed N] [--max-len BYTES] CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_crash);
  for (const auto& in : g_inputs) run_one(in);
  std::mt19937_64 rng(seed);
  uint64_t runs = g_inputs.size();
  auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds) {
    run_one(mutate(g_inputs[rng() % g_inputs.size()], rng, max_len));
    ++runs;
  }
  std::printf("replay: %zu seed inputs and %llu runs in all, no crash\n", g_inputs.size(),
              static_cast<unsigned long long>(runs));
  return 0;
}
