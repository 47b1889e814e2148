#include "kernels/cpu/rope.h"

namespace longctx::cpu {

namespace {
// sign = +1: forward rotation by +angle; sign = -1: inverse (transpose) rotation.
void rope_apply(float* x, int64_t row_stride, const float* cos, const float* sin, int B, int T,
                int H, int hd, float sign) {
  const int half = hd / 2;
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      const float* c = cos + (int64_t)t * half;
      const float* s = sin + (int64_t)t * half;
      float* row = x + ((int64_t)b * T + t) * row_stride;
      for (int h = 0; h < H; h++) {
        float* x1 = row + (int64_t)h * hd;
        float* x2 = x1 + half;
#pragma omp simd
        for (int i = 0; i < half; i++) {
          const float a = x1[i], b2 = x2[i], si = sign * s[i];
          x1[i] = a * c[i] - b2 * si;
          x2[i] = b2 * c[i] + a * si;
        }
      }
    }
}
}  // namespace

void rope_forward(float* x, int64_t row_stride, const float* cos, const float* sin, int B, int T,
                  int H, int hd) {
  rope_apply(x, row_stride, cos, sin, B, T, H, hd, 1.0f);
}

void rope_backward(float* dx, int64_t row_stride, const float* cos, const float* sin, int B, int T,
                   int H, int hd) {
  rope_apply(dx, row_stride, cos, sin, B, T, H, hd, -1.0f);
}

}  // namespace longctx::cpu
