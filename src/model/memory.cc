#include "model/memory.h"

#include <sys/sysinfo.h>

#include <limits>

namespace longctx::model {

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::string gib(int64_t bytes) {
  if (bytes == kMax) return "more than 8 EiB (overflow)";
  return fmt::format("{:.2f} GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
}
}  // namespace

int64_t sat_mul(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return kMax;
  return r;
}

int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r)) return kMax;
  return r;
}

Result<int64_t> checked_bytes(std::initializer_list<int64_t> dims, int64_t elem_size,
                              std::string_view what) {
  int64_t n = elem_size;
  for (int64_t d : dims) {
    if (d < 0) return make_error(ErrorCode::kInvalidArgument, "{}: negative size {}", what, d);
    if (__builtin_mul_overflow(n, d, &n))
      return make_error(ErrorCode::kInvalidArgument, "{}: size overflows 64 bits", what);
  }
  return n;
}

int64_t machine_memory_bytes() {
  struct sysinfo si;
  if (sysinfo(&si) != 0) return kMax;  // unknown: let the allocator decide
  return sat_mul(sat_add((int64_t)si.totalram, (int64_t)si.totalswap), (int64_t)si.mem_unit);
}

Status check_allocation(int64_t bytes, std::string_view what) {
  const int64_t have = machine_memory_bytes();
  if (bytes < 0 || bytes == kMax || (have != kMax && bytes > have))
    return make_error(ErrorCode::kInvalidArgument,
                      "{} would need {} but this machine has {} of memory (RAM + swap)", what,
                      gib(bytes), gib(have));
  return Status::ok();
}

}  // namespace longctx::model
