#include "kernels/cpu/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/rmsnorm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"

namespace longctx::cpu {

namespace {

using kernels::AttnShape;
using kernels::Op;

// Which ops this backend implements; one entry per Op (a missing entry fails to build).
constexpr bool kSupported[] = {
    true,  // kEmbedding
    true,  // kRmsNorm
    true,  // kLinear
    true,  // kRope
    true,  // kAttention
    true,  // kAttentionReference
    true,  // kSwiglu
    true,  // kClassifier
    true,  // kAdd
    true,  // kZero
    true,  // kCopyRows
};
static_assert(sizeof(kSupported) / sizeof(kSupported[0]) == (size_t)Op::kCount,
              "the CPU backend's support list needs one entry per Op");

class CpuBackend final : public kernels::Backend {
 public:
  std::string_view name() const override { return "cpu"; }
  bool supports(Op op) const override { return op < Op::kCount && kSupported[(int)op]; }

  float* alloc_floats(int64_t n) const override {
    if (n < 0) return nullptr;
    const size_t bytes = ((size_t)(n > 0 ? n : 1) * sizeof(float) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p) std::memset(p, 0, bytes);
    return static_cast<float*>(p);
  }
  void free_floats(float* p) const override { std::free(p); }

  void embedding_forward(float* out, const int32_t* ids, const float* wte, int N,
                         int C) const override {
    cpu::embedding_forward(out, ids, wte, N, C);
  }
  void embedding_backward(float* dwte, const float* dout, const int32_t* ids, int N,
                          int C) const override {
    cpu::embedding_backward(dwte, dout, ids, N, C);
  }
  void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int N,
                       int C, float eps) const override {
    cpu::rmsnorm_forward(out, rstd, inp, weight, N, C, eps);
  }
  void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                        const float* weight, const float* rstd, int N, int C) const override {
    cpu::rmsnorm_backward(dinp, dweight, dout, inp, weight, rstd, N, C);
  }
  void linear_forward(float* out, const float* inp, const float* weight, int N, int C,
                      int OC) const override {
    cpu::linear_forward(out, inp, weight, N, C, OC);
  }
  void linear_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                       const float* weight, int N, int C, int OC) const override {
    cpu::linear_backward(dinp, dweight, dout, inp, weight, N, C, OC);
  }
  void rope_forward(float* x, int64_t row_stride, const float* cos, const float* sin, int B,
                    int T, int H, int hd) const override {
    cpu::rope_forward(x, row_stride, cos, sin, B, T, H, hd);
  }
  void rope_backward(float* dx, int64_t row_stride, const float* cos, const float* sin, int B,
                     int T, int H, int hd) const override {
    cpu::rope_backward(dx, row_stride, cos, sin, B, T, H, hd);
  }
  void attention_forward(float* out, float* lse, const float* q, const float* k, const float* v,
                         const int32_t* doc_start, const AttnShape& s) const override {
    attention_forward_flash(out, lse, q, k, v, doc_start, s);
  }
  void attention_backward(float* dq, float* dk, float* dv, const float* dout, const float* out,
                          const float* lse, const float* q, const float* k, const float* v,
                          const int32_t* doc_start, const AttnShape& s) const override {
    attention_backward_flash(dq, dk, dv, dout, out, lse, q, k, v, doc_start, s);
  }
  void attention_reference_forward(float* out, float* att, const float* q, const float* k,
                                   const float* v, const int32_t* doc_start,
                                   const AttnShape& s) const override {
    attention_forward_naive(out, att, q, k, v, doc_start, s);
  }
  void attention_reference_backward(float* dq, float* dk, float* dv, const float* dout,
                                    const float* att, const float* q, const float* k,
                                    const float* v, const AttnShape& s) const override {
    attention_backward_naive(dq, dk, dv, dout, att, q, k, v, s);
  }
  void swiglu_forward(float* out, const float* gu, int N, int I) const override {
    cpu::swiglu_forward(out, gu, N, I);
  }
  void swiglu_backward(float* dgu, const float* dout, const float* gu, int N,
                       int I) const override {
    cpu::swiglu_backward(dgu, dout, gu, N, I);
  }
  double classifier(float* losses, float* dh, float* dW, const float* h, const float* W,
                    const int32_t* targets, int N, int C, int V, float grad_scale, int chunk_rows,
                    float* scratch) const override {
    return fused_classifier(losses, dh, dW, h, W, targets, N, C, V, grad_scale, chunk_rows,
                            scratch);
  }
  void add(float* y, const float* x, int64_t n) const override { add_inplace(y, x, n); }
  void zero(float* x, int64_t n) const override { zero_floats(x, n); }
  void copy_rows(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int rows,
                 int width) const override {
    cpu::copy_rows(dst, dst_stride, src, src_stride, rows, width);
  }
};

}  // namespace

const kernels::Backend& backend() {
  static const CpuBackend instance;
  return instance;
}

}  // namespace longctx::cpu
