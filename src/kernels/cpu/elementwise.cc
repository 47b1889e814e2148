#include "kernels/cpu/elementwise.h"

#include <cstring>

namespace longctx::cpu {

namespace {
// Below this many floats a parallel region costs more than it saves (decode steps).
constexpr int64_t kParallelFrom = 1 << 15;
}  // namespace

void add_inplace(float* y, const float* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelFrom)
  for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

void zero_floats(float* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelFrom)
  for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
}

void copy_rows(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int rows,
               int width) {
  for (int r = 0; r < rows; r++)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, sizeof(float) * width);
}

}  // namespace longctx::cpu
