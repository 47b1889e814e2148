// Linear layer without bias (LLaMA has none), weights in HF layout [out_features, in_features].
// Shapes: inp (N,C), weight (OC,C), out (N,OC). Matrix products go through OpenBLAS sgemm
// (docs/architecture.md "Model engine"); linear_forward_naive is the reference the tests compare against.
#pragma once

namespace longctx::cpu {

// Row-major C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C, like cblas_sgemm, but with
// results that do not depend on the thread count: C is cut into fixed blocks of rows and columns
// (independent of the number of threads), each block one single-threaded sgemm on an OpenMP
// thread. Multi-threaded OpenBLAS splits work by thread count and changes the rounding.
void sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float* A, int lda,
           const float* B, int ldb, float beta, float* C, int ldc);

void linear_forward(float* out, const float* inp, const float* weight, int N, int C, int OC);
void linear_forward_naive(float* out, const float* inp, const float* weight, int N, int C, int OC);
// dinp += dout @ weight (skipped when dinp is null); dweight += dout^T @ inp (the backward
// convention of kernels/backend.h: both add).
void linear_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                     const float* weight, int N, int C, int OC);
void linear_backward_naive(float* dinp, float* dweight, const float* dout, const float* inp,
                           const float* weight, int N, int C, int OC);

}  // namespace longctx::cpu
