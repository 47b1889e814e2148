#include "kernels/cpu/embedding.h"

#include <cstring>

namespace longctx::cpu {

void embedding_forward(float* out, const int32_t* ids, const float* wte, int N, int C) {
#pragma omp parallel for schedule(static)
  for (int n = 0; n < N; n++) {
    std::memcpy(out + (int64_t)n * C, wte + (int64_t)ids[n] * C, sizeof(float) * C);
  }
}

void embedding_backward(float* dwte, const float* dout, const int32_t* ids, int N, int C) {
  constexpr int kBlock = 64;  // channels per task
  const int nblocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int cb = 0; cb < nblocks; cb++) {
    const int c0 = cb * kBlock, c1 = c0 + kBlock < C ? c0 + kBlock : C;
    for (int n = 0; n < N; n++) {
      float* dw = dwte + (int64_t)ids[n] * C;
      const float* d = dout + (int64_t)n * C;
      for (int c = c0; c < c1; c++) dw[c] += d[c];
    }
  }
}

}  // namespace longctx::cpu
