// Token embedding lookup. Shapes: ids (N), wte (V,C), out (N,C). N = B*T flattened tokens.
#pragma once
#include <cstdint>

namespace longctx::cpu {

void embedding_forward(float* out, const int32_t* ids, const float* wte, int N, int C);
// dwte += scatter of dout by id (the backward convention of kernels/backend.h: adds). Deterministic for any thread count: threads split the channel
// axis, and each channel sums its rows in token order.
void embedding_backward(float* dwte, const float* dout, const int32_t* ids, int N, int C);

}  // namespace longctx::cpu
