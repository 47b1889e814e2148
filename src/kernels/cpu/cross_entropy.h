// Output head + softmax cross-entropy, fused and chunked so the (N,V) logits of a long sequence
// never sit in memory at once: rows are processed kChunk at a time, each chunk's logits
// (chunk,V) are formed by one sgemm, turned into losses and (optionally) into gradients
// dlogits = (softmax - onehot) * grad_scale, which are pushed back through the head at once.
// Shapes: h (N,C) final normed hidden states, W (V,C) head weights, targets (N) with -1 meaning
// "no loss at this position", losses (N) per-position loss (0 where ignored).
#pragma once
#include <cstdint>

namespace longctx::cpu {

// Returns the sum of losses. When dh is non-null: dh (N,C) += d(grad_scale * sum loss)/dh and
// dW (V,C) += the head's gradient (the backward convention of kernels/backend.h: both add).
// scratch holds chunk_rows*V floats.
double fused_classifier(float* losses, float* dh, float* dW, const float* h, const float* W,
                        const int32_t* targets, int N, int C, int V, float grad_scale,
                        int chunk_rows, float* scratch);

// Reference: full logits (N,V), same outputs.
double fused_classifier_naive(float* losses, float* dh, float* dW, const float* h, const float* W,
                              const int32_t* targets, int N, int C, int V, float grad_scale);

}  // namespace longctx::cpu
