#include "kernels/cpu/rmsnorm.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace longctx::cpu {

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N, int C,
                     float eps) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    const float* x = inp + (int64_t)n * C;
    float* o = out + (int64_t)n * C;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int c = 0; c < C; c++) ss += x[c] * x[c];
    const float r = 1.0f / std::sqrt(ss / C + eps);
    if (rstd) rstd[n] = r;
#pragma omp simd
    for (int c = 0; c < C; c++) o[c] = x[c] * r * weight[c];
  }
}

void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C) {
  // y_c = x_c r w_c, r = (mean(x^2)+eps)^-1/2, dr/dx_c = -r^3 x_c / C
  // dx_c = r w_c dy_c - r^3 x_c / C * sum_k(dy_k w_k x_k)
  constexpr int kRows = 128;  // rows per dweight partial
  const int nblocks = (N + kRows - 1) / kRows;
  std::vector<float> partial((size_t)nblocks * C, 0.0f);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < nblocks; b++) {
    float* pw = partial.data() + (size_t)b * C;
    const int n1 = (b + 1) * kRows < N ? (b + 1) * kRows : N;
    for (int n = b * kRows; n < n1; n++) {
      const float* x = inp + (int64_t)n * C;
      const float* dy = dout + (int64_t)n * C;
      float* dx = dinp + (int64_t)n * C;
      const float r = rstd[n];
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int c = 0; c < C; c++) dot += dy[c] * weight[c] * x[c];
      const float k = r * r * r * dot / C;
#pragma omp simd
      for (int c = 0; c < C; c++) {
        dx[c] += r * weight[c] * dy[c] - k * x[c];
        pw[c] += dy[c] * x[c] * r;
      }
    }
  }
  for (int b = 0; b < nblocks; b++) {
    const float* pw = partial.data() + (size_t)b * C;
    for (int c = 0; c < C; c++) dweight[c] += pw[c];
  }
}

}  // namespace longctx::cpu
