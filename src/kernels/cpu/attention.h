// Causal scaled-dot-product attention with grouped-query heads (docs/architecture.md "Model
// engine").
//
// Shapes, layout, causal and document masks and the KV offset: kernels/attn_shape.h.
//
// Two implementations:
// - naive: materialises the (B,Hq,Tq,Tk) probability matrix; the reference for tests.
// - flash: tiles of kTileQ queries x kTileK keys with an online softmax; saves only the
//   log-sum-exp lse (B,Hq,Tq) and recomputes probabilities in the backward pass, so extra memory
//   is linear in sequence length.
// Backward convention (kernels/backend.h): dq, dk and dv are ADDED to; zero them before the
// first call.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/attn_shape.h"

namespace longctx::cpu {

using kernels::AttnShape;

constexpr int kTileQ = 64;
constexpr int kTileK = 64;

// att: (B,Hq,Tq,Tk) softmax probabilities (zero where masked).
void attention_forward_naive(float* out, float* att, const float* q, const float* k,
                             const float* v, const int32_t* doc_start, const AttnShape& s);
// dq, dk, dv += gradients (same layouts as q, k, v).
void attention_backward_naive(float* dq, float* dk, float* dv, const float* dout, const float* att,
                              const float* q, const float* k, const float* v, const AttnShape& s);

// lse: (B,Hq,Tq) log-sum-exp of the scaled scores of each query row (may be null for inference).
void attention_forward_flash(float* out, float* lse, const float* q, const float* k,
                             const float* v, const int32_t* doc_start, const AttnShape& s);
// dq, dk, dv += gradients. Deterministic for any thread count: each (b, query head) is one task,
// and grouped heads' key/value gradients are summed in head order afterwards.
void attention_backward_flash(float* dq, float* dk, float* dv, const float* dout, const float* out,
                              const float* lse, const float* q, const float* k, const float* v,
                              const int32_t* doc_start, const AttnShape& s);

using kernels::doc_starts_from_lengths;

}  // namespace longctx::cpu
