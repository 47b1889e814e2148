// What the machine and the process have in memory, for limits checked before big allocations
// (a mixture refuses a budget whose pieces would not fit) and for tests that bound memory.
#pragma once
#include <cstdint>

namespace longctx {

// MemAvailable of /proc/meminfo in bytes: what can be allocated without swapping; 0 if unknown.
uint64_t available_memory_bytes();
// The process's peak resident set (VmHWM of /proc/self/status) in bytes; 0 if unknown.
uint64_t peak_rss_bytes();

}  // namespace longctx
