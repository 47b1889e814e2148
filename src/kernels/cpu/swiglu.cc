#include "kernels/cpu/swiglu.h"

#include <cmath>
#include <cstdint>

namespace longctx::cpu {

void swiglu_forward(float* out, const float* gu, int N, int I) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    const float* g = gu + (int64_t)n * 2 * I;
    const float* u = g + I;
    float* o = out + (int64_t)n * I;
#pragma omp simd
    for (int i = 0; i < I; i++) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
  }
}

void swiglu_backward(float* dgu, const float* dout, const float* gu, int N, int I) {
  // d silu(g)/dg = s + g s (1 - s), s = sigmoid(g)
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    const float* g = gu + (int64_t)n * 2 * I;
    const float* u = g + I;
    const float* d = dout + (int64_t)n * I;
    float* dg = dgu + (int64_t)n * 2 * I;
    float* du = dg + I;
#pragma omp simd
    for (int i = 0; i < I; i++) {
      const float s = 1.0f / (1.0f + std::exp(-g[i]));
      du[i] += d[i] * g[i] * s;
      dg[i] += d[i] * u[i] * (s + g[i] * s * (1.0f - s));
    }
  }
}

}  // namespace longctx::cpu
