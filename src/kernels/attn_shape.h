// Shape and layout of one causal attention call, shared by the backend interface and every
// backend (kernels/backend.h).
//
// Layout: token rows. Query head h of sequence b, query i lives at
//   q + (b*Tq + i)*q_stride + h*hd,
// key/value head g of key j at k + (b*Tk + j)*kv_stride + g*hd (same for v), output at
//   out + (b*Tq + i)*o_stride + h*hd.
// Query head h reads key/value head h / (Hq/Hkv). Query i sits at absolute position
// (Tk - Tq) + i, so Tq < Tk is a chunk of queries against a KV cache holding Tk - Tq earlier
// positions (the KV offset); training and scoring have Tq == Tk.
// Causal mask: query at position p sees keys j <= p. Optional document mask (packed sequences,
// paper.md "Packing"): doc_start (B,Tq) gives the first key position of the query's document, and
// keys j < doc_start are masked. Scale is 1/sqrt(hd).
#pragma once
#include <cstdint>
#include <vector>

namespace longctx::kernels {

struct AttnShape {
  int B = 1, Tq = 0, Tk = 0, Hq = 1, Hkv = 1, hd = 0;
  int64_t q_stride = 0, kv_stride = 0, o_stride = 0;  // floats between consecutive token rows
};

// Document starts for one packed sequence of T tokens from its document lengths (sum = T):
// doc_start[t] = first position of the document holding t.
inline std::vector<int32_t> doc_starts_from_lengths(const std::vector<int32_t>& lengths) {
  std::vector<int32_t> out;
  int32_t pos = 0;
  for (int32_t len : lengths) {
    for (int32_t t = 0; t < len; t++) out.push_back(pos);
    pos += len;
  }
  return out;
}

}  // namespace longctx::kernels
