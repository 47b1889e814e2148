// Running the CLI as a child process whose peak memory is measured (wait4's rusage: ru_maxrss of
// that process alone), for tests that bound a command's memory.
#pragma once
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"

namespace longctx::testing {

struct MeasuredRun {
  int exit_code = -1;
  std::string output;  // stdout + stderr
  uint64_t peak_rss_bytes = 0;
};

// Runs the longctx binary with `args` (no shell), collecting its output and its peak resident
// set size.
inline MeasuredRun run_longctx_measured(const std::vector<std::string>& args) {
  MeasuredRun r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    std::string bin = LONGCTX_BINARY, quiet = "-q";
    argv.push_back(bin.data());
    argv.push_back(quiet.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  struct rusage ru {};
  if (::wait4(pid, &status, 0, &ru) == pid) {
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.peak_rss_bytes = static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux: kilobytes
  }
  return r;
}

// True when this program (and so the longctx binary of the same build tree) is built with
// AddressSanitizer (the asan preset): GCC defines __SANITIZE_ADDRESS__, clang has the feature.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// What a memory bound of `limit` bytes allows a measured run: `limit` itself, or under
// AddressSanitizer `limit` above the peak of a run that does no work (`longctx --version`). The
// sanitizer's runtime alone (shadow memory, its allocator's caches) takes about 130 MB of resident
// memory before main, so an absolute bound would only measure the sanitizer; bounding the growth
// keeps the test meaningful (a run that lists every repeat still needs gigabytes).
inline uint64_t memory_bound(uint64_t limit) {
  if (!kAddressSanitizer) return limit;
  static const uint64_t baseline = run_longctx_measured({"--version"}).peak_rss_bytes;
  return baseline + limit;
}

}  // namespace longctx::testing
