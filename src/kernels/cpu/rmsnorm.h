// RMSNorm (LLaMA): out = inp / sqrt(mean(inp^2) + eps) * weight.
// Shapes: inp, out (N,C); weight (C); rstd (N) saved for the backward pass.
#pragma once

namespace longctx::cpu {

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N, int C,
                     float eps);
// dinp += ..., dweight += ... (the backward convention of kernels/backend.h: both add). The dweight reduction sums fixed blocks of rows and then the
// blocks in order, so results do not depend on the thread count.
void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                      const float* weight, const float* rstd, int N, int C);

}  // namespace longctx::cpu
