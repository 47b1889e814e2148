#include "kernels/cpu/linear.h"

#include <cblas.h>

#include <cstdint>

extern "C" void openblas_set_num_threads(int num_threads);

namespace longctx::cpu {

void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc) {
  static const bool blas_single_threaded = (openblas_set_num_threads(1), true);
  (void)blas_single_threaded;
  constexpr int kBlockM = 128, kBlockN = 1024;
  const int bm = (M + kBlockM - 1) / kBlockM, bn = (N + kBlockN - 1) / kBlockN;
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
  for (int i = 0; i < bm; i++)
    for (int j = 0; j < bn; j++) {
      const int m0 = i * kBlockM, n0 = j * kBlockN;
      const int mm = M - m0 < kBlockM ? M - m0 : kBlockM, nn = N - n0 < kBlockN ? N - n0 : kBlockN;
      // op(A) rows m0.. : A + m0*lda (no trans) or A + m0 (trans); op(B) cols n0.. likewise
      const float* a = trans_a ? A + m0 : A + (int64_t)m0 * lda;
      const float* b = trans_b ? B + (int64_t)n0 * ldb : B + n0;
      cblas_sgemm(CblasRowMajor, ta, tb, mm, nn, K, alpha, a, lda, b, ldb, beta,
                  C + (int64_t)m0 * ldc + n0, ldc);
    }
}

void linear_forward(float* out, const float* inp, const float* weight, int N, int C, int OC) {
  // out (N,OC) = inp (N,C) * weight^T (C,OC)
  sgemm(false, true, N, OC, C, 1.0f, inp, C, weight, C, 0.0f, out, OC);
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
    sgemm(false, false, N, C, OC, 1.0f, dout, OC, weight, C, 1.0f, dinp, C);
  }
  // dweight (OC,C) += dout^T (OC,N) * inp (N,C)
  sgemm(true, false, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
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
