#include "core/memory_info.h"

#include <cstdio>
#include <cstring>

namespace longctx {
namespace {

// The value of "<key> N kB" in a /proc file, in bytes (0 when absent).
uint64_t proc_kb(const char* path, const char* key) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return 0;
  char line[256];
  uint64_t v = 0;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long kb = 0;
    if (std::strncmp(line, key, n) == 0 && std::sscanf(line + n, " %llu", &kb) == 1) {
      v = static_cast<uint64_t>(kb) * 1024;
      break;
    }
  }
  std::fclose(f);
  return v;
}

}  // namespace

uint64_t available_memory_bytes() { return proc_kb("/proc/meminfo", "MemAvailable:"); }
uint64_t peak_rss_bytes() { return proc_kb("/proc/self/status", "VmHWM:"); }

}  // namespace longctx
