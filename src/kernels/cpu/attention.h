// Causal scaled-dot-product attention with grouped-query heads (design.md "Model engine").
//
// Layout: token rows. Query head h of sequence b, query i lives at
//   q + (b*Tq + i)*q_stride + h*hd,
// key/value head g of key j at k + (b*Tk + j)*kv_stride + g*hd (same for v), output at
//   out + (b*Tq + i)*o_stride + h*hd.
// Query head h reads key/value head h / (Hq/Hkv). Query i sits at absolute position
// (Tk - Tq) + i, so Tq < Tk is a decode step against a KV cache; training has Tq == Tk.
// Causal mask: query at position p sees keys j <= p. Optional document mask (packed sequences,
// paper.md "Packing"): doc_start (B,Tq) gives the first key position of the query's document, and
// keys j < doc_start are masked. Scale is 1/sqrt(hd).
//
// Two implementations:
// - naive: materialises the (B,Hq,Tq,Tk) probability matrix; the reference for tests.
// - flash: tiles of kTileQ queries x kTileK keys with an online softmax; saves only the
//   log-sum-exp lse (B,Hq,Tq) and recomputes probabilities in the backward pass, so extra memory
//   is linear in sequence length.
#pragma once
#include <cstdint>
#include <vector>

namespace longctx::cpu {

struct AttnShape {
  int B = 1, Tq = 0, Tk = 0, Hq = 1, Hkv = 1, hd = 0;
  int64_t q_stride = 0, kv_stride = 0, o_stride = 0;  // floats between consecutive token rows
};

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

// Document starts for one packed sequence of T tokens from its document lengths (sum = T):
// doc_start[t] = first position of the document holding t.
std::vector<int32_t> doc_starts_from_lengths(const std::vector<int32_t>& lengths);

}  // namespace longctx::cpu
