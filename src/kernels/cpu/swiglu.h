// SwiGLU gate of the LLaMA MLP: out = silu(gate) * up, silu(x) = x * sigmoid(x).
// Shapes: gu (N, 2I) holds each row's gate (first I) and up (last I) values, because the model
// computes gate_proj and up_proj with one matrix product over their stacked weights; out (N,I).
#pragma once

namespace longctx::cpu {

void swiglu_forward(float* out, const float* gu, int N, int I);
// dgu += d(out)/d(gu) * dout (the backward convention of kernels/backend.h: adds, never overwrites).
void swiglu_backward(float* dgu, const float* dout, const float* gu, int N, int I);

}  // namespace longctx::cpu
