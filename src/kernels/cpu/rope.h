// Rotary position embedding in Hugging Face's "rotate half" layout (pairs are i and i + hd/2,
// not adjacent; GGUF export permutes Q and K rows to llama.cpp's interleaved pairs).
// For token t and pair i < hd/2:
//   y[i]        = x[i] cos[t,i] - x[i+hd/2] sin[t,i]
//   y[i+hd/2]   = x[i+hd/2] cos[t,i] + x[i] sin[t,i]
// The tables cos/sin (T, hd/2) carry the scaling variant (src/model/rope.h builds them, including
// YaRN's attention factor), so this kernel is the same for every variant.
// x holds B*T token rows of `row_stride` floats; head h of token (b,t) starts at
// x + (b*T+t)*row_stride + h*hd. Rotation is done in place.
#pragma once
#include <cstdint>

namespace longctx::cpu {

void rope_forward(float* x, int64_t row_stride, const float* cos, const float* sin, int B, int T,
                  int H, int hd);
// The transpose of the rotation, applied in place to the gradient dx (RoPE is linear in x): on
// entry dx holds d loss / d(rotated x), on exit d loss / d x. The one exception to the add
// convention of kernels/backend.h: the forward overwrites its input, so the gradient is converted
// where it lies (an adding version would need a second (B*T, row_stride) buffer per layer).
void rope_backward(float* dx, int64_t row_stride, const float* cos, const float* sin, int B, int T,
                   int H, int hd);

}  // namespace longctx::cpu
