// The backend interface: every numeric op the model engine (src/model) calls, behind one abstract
// class with a "supports this op" check, in the way llama.cpp keeps its backends as sibling
// folders. src/kernels/cpu/ is the one implementation today (OpenBLAS + OpenMP); a CUDA backend
// becomes src/kernels/cuda/ implementing the same class. docs/architecture.md "Model engine" and
// "Checklist: adding an op" describe how the pieces fit.
//
// Conventions shared by every op (each kernel header repeats what applies to it):
// - Plain pointers to float32 buffers with explicit shapes; N = B*T token rows, row-major.
// - Every backward ADDS into its gradient outputs (d inputs and d weights alike): callers zero a
//   gradient buffer once before the first op that adds into it. The one exception is RoPE, which
//   works in place in both directions (see kernels/cpu/rope.h).
// - Results never depend on the thread count (fixed work blocks, ordered reductions).
// - Memory is the backend's: the pointers the model passes are host memory for the CPU backend;
//   a device backend also owns parameter and activation buffers (alloc_floats below).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernels/attn_shape.h"

namespace longctx::kernels {

// One entry per op the model calls. Adding an op: docs/architecture.md "Checklist: adding an op"
// (enum here, name in kOpNames, a Backend method, the CPU kernel and its entry in the CPU
// backend's support list, a kernel test with a finite-difference check).
enum class Op : int {
  kEmbedding,           // token rows of the embedding table; backward scatters by id
  kRmsNorm,             // LLaMA RMSNorm with a per-channel weight
  kLinear,              // y = x W^T without bias (HF [out, in] weights), matrix products
  kRope,                // rotary position embedding, in place
  kAttention,           // causal GQA attention, tiled with an online softmax (memory linear in T)
  kAttentionReference,  // the same with the (B,Hq,Tq,Tk) probabilities materialised (tests only)
  kSwiglu,              // silu(gate) * up
  kClassifier,          // output head + softmax cross-entropy, fused and chunked over rows
  kAdd,                 // y += x (residual connections)
  kZero,                // x = 0 (gradient buffers before the first op that adds into them)
  kCopyRows,            // strided row copy (keys/values into the KV cache)
  kCount
};

inline constexpr std::array<std::string_view, (size_t)Op::kCount> kOpNames = {
    "embedding", "rmsnorm", "linear",     "rope", "attention", "attention_reference",
    "swiglu",    "classifier", "add",     "zero", "copy_rows"};
constexpr bool every_op_named() {
  for (std::string_view n : kOpNames)
    if (n.empty()) return false;
  return true;
}
// A new enum entry without a name fails to build here (its slot would be an empty name), and so
// does a name too many (the array initialiser would overflow).
static_assert(every_op_named(), "every Op needs a name in kOpNames");

inline std::string_view op_name(Op op) { return kOpNames[(size_t)op]; }

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  // Whether this backend implements op (forward and backward). Sessions check every op they use
  // before the first call and report the missing one as an error.
  virtual bool supports(Op op) const = 0;

  // Memory for parameters and activations (host memory on the CPU backend), 64-byte aligned and
  // zero-filled; null when n floats cannot be allocated.
  virtual float* alloc_floats(int64_t n) const = 0;
  virtual void free_floats(float* p) const = 0;

  // kEmbedding. ids (N), wte (V,C), out (N,C); backward: dwte += scatter of dout by id.
  virtual void embedding_forward(float* out, const int32_t* ids, const float* wte, int N,
                                 int C) const = 0;
  virtual void embedding_backward(float* dwte, const float* dout, const int32_t* ids, int N,
                                  int C) const = 0;

  // kRmsNorm. inp, out (N,C); weight (C); rstd (N) saved for backward (may be null in forward).
  virtual void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight,
                               int N, int C, float eps) const = 0;
  virtual void rmsnorm_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                                const float* weight, const float* rstd, int N, int C) const = 0;

  // kLinear. inp (N,C), weight (OC,C), out (N,OC); backward: dinp += (skipped when null),
  // dweight +=.
  virtual void linear_forward(float* out, const float* inp, const float* weight, int N, int C,
                              int OC) const = 0;
  virtual void linear_backward(float* dinp, float* dweight, const float* dout, const float* inp,
                               const float* weight, int N, int C, int OC) const = 0;

  // kRope. x: B*T rows of row_stride floats, H heads of hd at the start of each row; cos/sin
  // (T, hd/2). Forward rotates in place; backward turns d(rotated) into d(unrotated) in place.
  virtual void rope_forward(float* x, int64_t row_stride, const float* cos, const float* sin,
                            int B, int T, int H, int hd) const = 0;
  virtual void rope_backward(float* dx, int64_t row_stride, const float* cos, const float* sin,
                             int B, int T, int H, int hd) const = 0;

  // kAttention. Layouts, causal/document mask and the KV offset (Tk - Tq) in attn_shape.h.
  // lse (B,Hq,Tq) saved for backward (may be null in forward); backward: dq, dk, dv +=.
  virtual void attention_forward(float* out, float* lse, const float* q, const float* k,
                                 const float* v, const int32_t* doc_start,
                                 const AttnShape& s) const = 0;
  virtual void attention_backward(float* dq, float* dk, float* dv, const float* dout,
                                  const float* out, const float* lse, const float* q,
                                  const float* k, const float* v, const int32_t* doc_start,
                                  const AttnShape& s) const = 0;
  // kAttentionReference. att (B,Hq,Tq,Tk) probabilities, zero where masked; backward: +=.
  virtual void attention_reference_forward(float* out, float* att, const float* q, const float* k,
                                           const float* v, const int32_t* doc_start,
                                           const AttnShape& s) const = 0;
  virtual void attention_reference_backward(float* dq, float* dk, float* dv, const float* dout,
                                            const float* att, const float* q, const float* k,
                                            const float* v, const AttnShape& s) const = 0;

  // kSwiglu. gu (N,2I): gate then up per row; out (N,I); backward: dgu +=.
  virtual void swiglu_forward(float* out, const float* gu, int N, int I) const = 0;
  virtual void swiglu_backward(float* dgu, const float* dout, const float* gu, int N,
                               int I) const = 0;

  // kClassifier. h (N,C), W (V,C), targets (N) with -1 = no loss, losses (N) per position (0 where
  // ignored); returns the sum of losses. With dh non-null also the backward of
  // grad_scale * sum(losses): dh (N,C) +=, dW (V,C) +=. scratch: chunk_rows * V floats.
  virtual double classifier(float* losses, float* dh, float* dW, const float* h, const float* W,
                            const int32_t* targets, int N, int C, int V, float grad_scale,
                            int chunk_rows, float* scratch) const = 0;

  // kAdd: y[i] += x[i], i < n.  kZero: x[i] = 0, i < n.
  virtual void add(float* y, const float* x, int64_t n) const = 0;
  virtual void zero(float* x, int64_t n) const = 0;
  // kCopyRows: rows x width floats from src (row stride src_stride) to dst (row stride dst_stride).
  virtual void copy_rows(float* dst, int64_t dst_stride, const float* src, int64_t src_stride,
                         int rows, int width) const = 0;
};

// The backend sessions use unless given another: the CPU backend today.
const Backend& default_backend();

}  // namespace longctx::kernels
