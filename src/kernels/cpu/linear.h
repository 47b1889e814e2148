// Linear layer without bias (LLaMA has none), weights in HF layout [out_features, in_features].
// Shapes: inp (N,C), weight (OC,C), out (N,OC). Matrix products go through OpenBLAS sgemm
// (design.md "Model engine"); linear_forward_naive is the reference the tests compare against.
#pragma once

namespace longctx::cpu {

void linear_forward(float* out, const float* inp, const float* weight, int N, int C, int OC);
void linear_forward_naive(float* out, const float* inp, const float* weight, int N, int C, int OC);
// dinp += dout @ weight (skipped when dinp is null); dweight += dout^T @ inp.
void linear_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                     const float* weight, int N, int C, int OC);
void linear_backward_naive(float* dinp, float* dweight, const float* dout, const float* inp,
                           const float* weight, int N, int C, int OC);

}  // namespace longctx::cpu
