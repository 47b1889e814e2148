#include "kernels/cpu/linear.h"

#include <cblas.h>

#include <cstdint>

namespace longctx::cpu {

void linear_forward(float* out, const float* inp, const float* weight, int N, int C, int OC) {
  // out (N,OC) = inp (N,C) * weight^T (C,OC)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C, 1.0f, inp, C, weight, C, 0.0f,
              out, OC);
}

void linear_forward_naive(float* out, const float* inp, const float* weight, int N, int C,
                          int OC) {
  for (int n = 0; n < N; n++)
    for (int o = 0; o < OC; o++) {
      double s = 0.0;
      for (int c = 0; c < C; c++) s += (double)inp[(int64_t)n * C + c] * weight[(int64_t)o * C + c];
      out[(int64_t)n * OC + o] = (float)s;
    }
}

void linear_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                     const float* weight, int N, int C, int OC) {
  if (dinp) {
    // dinp (N,C) += dout (N,OC) * weight (OC,C)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC, 1.0f, dout, OC, weight, C,
                1.0f, dinp, C);
  }
  // dweight (OC,C) += dout^T (OC,N) * inp (N,C)
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f,
              dweight, C);
}

void linear_backward_naive(float* dinp, float* dweight, const float* dout, const float* inp,
                           const float* weight, int N, int C, int OC) {
  if (dinp)
    for (int n = 0; n < N; n++)
      for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int o = 0; o < OC; o++) s += (double)dout[(int64_t)n * OC + o] * weight[(int64_t)o * C + c];
        dinp[(int64_t)n * C + c] += (float)s;
      }
  for (int o = 0; o < OC; o++)
    for (int c = 0; c < C; c++) {
      double s = 0.0;
      for (int n = 0; n < N; n++) s += (double)dout[(int64_t)n * OC + o] * inp[(int64_t)n * C + c];
      dweight[(int64_t)o * C + c] += (float)s;
    }
}

}  // namespace longctx::cpu
