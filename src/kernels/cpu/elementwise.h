// Elementwise helpers the model needs between the ops: residual adds, zeroing gradient buffers
// before the first op that adds into them (kernels/backend.h), strided row copies (keys and values
// into the KV cache). No arithmetic beyond one add per element, so results never depend on the
// thread count.
#pragma once
#include <cstdint>

namespace longctx::cpu {

// y[i] += x[i] for i < n.
void add_inplace(float* y, const float* x, int64_t n);
// x[i] = 0 for i < n.
void zero_floats(float* x, int64_t n);
// rows x width floats: dst + r*dst_stride <- src + r*src_stride.
void copy_rows(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int rows,
               int width);

}  // namespace longctx::cpu
