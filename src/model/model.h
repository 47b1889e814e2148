// LLaMA model engine, the API training and evaluation build on (docs/architecture.md "Model
// engine"): LlamaModel holds the parameters in one buffer in Hugging Face tensor order;
// TrainSession runs a training step (forward, loss, full backward with optional per-layer
// activation checkpointing); ScoreSession runs forward passes for per-position losses and
// logits; InferenceSession (model/generate.h) generates with a KV cache. All three run the same
// layer function over one activation table (model/forward.h) and call every op through a
// kernels::Backend, in the style of llm.c: one allocation for parameters, one for activations,
// carved by a table of sizes.
//
// Parameter layout. Every HF tensor is one contiguous range of the buffer, so loading and saving
// are plain copies. Within a layer q_proj, k_proj, v_proj are adjacent ([out,in] rows stacked),
// forming one (q_dim + 2 kv_dim, C) matrix for a single matrix product; gate_proj and up_proj
// likewise form one (2I, C) matrix.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "kernels/backend.h"
#include "model/config.h"
#include "model/arena.h"

namespace longctx::model {
namespace detail {
struct Activations;
}

struct ParamTensor {
  std::string name;            // HF name, e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<int64_t> shape;  // HF shape ([out, in] for linear weights)
  int64_t offset = 0;          // in floats, into the parameter buffer
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// Offsets of one layer's tensors (floats), relative to the parameter buffer.
struct LayerOffsets {
  int64_t ln1, wqkv, wo, ln2, wgu, wdown;
};

struct ParamLayout {
  std::vector<ParamTensor> tensors;  // HF order
  int64_t wte = 0, lnf = 0, lm_head = 0;  // lm_head == wte when tied
  std::vector<LayerOffsets> layers;
  int64_t total = 0;
};

ParamLayout param_layout(const LlamaConfig& c);

// Seeded init as in HF's LlamaPreTrainedModel: normal(0, std) for matrices, 1 for norm weights.
void init_params(const LlamaConfig& c, uint64_t seed, float std, float* params);

// doc_start rows of a Batch from document lengths: doc_starts_from_lengths({3, 5}) = 0,0,0,3,3,3,3,3.
using kernels::doc_starts_from_lengths;

// One batch of B sequences of T tokens, row-major (B,T). Training and scoring take the same type.
struct Batch {
  const int32_t* inputs = nullptr;     // (B,T) token ids in [0, vocab_size)
  const int32_t* targets = nullptr;    // (B,T) next-token ids, -1 = no loss at this position
  const int32_t* doc_start = nullptr;  // (B,T) or null: document mask (kernels/attn_shape.h):
                                       // position t attends to [doc_start[t], t]
  int B = 1, T = 0;
};

// Options of a forward pass (scoring, logits).
struct ForwardOptions {
  int ce_chunk_rows = 256;       // rows per chunk of the fused classifier
  bool naive_attention = false;  // the reference attention (tests only: O(T^2) memory)
};

// Options of a training step.
struct StepOptions : ForwardOptions {
  bool checkpoint_layers = false;  // keep only each layer's input; recompute in backward
};

// Parameters only: config, layout and one float32 buffer. Sessions (below, and InferenceSession
// in model/generate.h) hold every piece of scratch state, so one model can be shared read-only
// by any number of them; params() is writable for loading and for the optimizer. A session keeps
// a pointer to its model: the model must outlive it and not move.
class LlamaModel {
 public:
  // Refuses a configuration whose parameters would not fit in memory (model/memory.h).
  static Result<LlamaModel> create(const LlamaConfig& c);
  const LlamaConfig& config() const { return cfg_; }
  const ParamLayout& layout() const { return layout_; }
  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  int64_t num_params() const { return layout_.total; }

 private:
  LlamaConfig cfg_;
  ParamLayout layout_;
  std::vector<float> params_;
};

// A training step's state: the parameter gradients and the activation arena (kept between steps).
// Memory: gradients (num_params floats) + activations linear in B*T (per-layer checkpointing keeps
// one layer's activations plus every layer's input; bench/model/results.md has the figures).
class TrainSession {
 public:
  static Result<TrainSession> create(const LlamaModel& m,
                                     const kernels::Backend& be = kernels::default_backend());
  // Mean cross-entropy over the positions with a target (0 when there are none); the gradient of
  // that mean is ADDED to grads() (call zero_grads() between optimizer steps; accumulating k
  // micro-batches is k calls, which sums their means: scale by 1/k for the mean of means).
  // Errors: a bad batch (ids, targets or document starts out of range), activations that would
  // not fit in memory.
  // losses (B,T), may be null: each position's loss (nats, 0 where the target is -1), as
  // ScoreSession::score writes them (per-domain training loss without a second forward pass).
  Result<double> forward_backward(const Batch& batch, const StepOptions& opt = {},
                                  float* losses = nullptr);
  float* grads() { return grads_.data(); }  // (num_params), same layout as the parameters
  const float* grads() const { return grads_.data(); }
  void zero_grads();
  // Bytes of the activation buffers the last call needed (benchmarks, memory planning).
  int64_t activation_bytes() const { return act_bytes_; }

 private:
  TrainSession(const LlamaModel& m, const kernels::Backend& be);
  const LlamaModel* m_;
  const kernels::Backend* be_;
  Arena grads_;  // num_params floats
  Arena arena_;
  int64_t act_bytes_ = 0;
};

// Sum and count of the losses of a scored batch.
struct LossSum {
  double sum = 0;     // sum of per-position losses (nats)
  int64_t count = 0;  // positions with a target
  double mean() const { return count > 0 ? sum / (double)count : 0.0; }
};

// Forward passes without gradients: per-position losses (evaluation: loss against position,
// per-domain loss) and logits. Memory linear in B*T: two residual buffers, one layer's
// activations and one classifier chunk (ce_chunk_rows x vocab), whatever the sequence length.
class ScoreSession {
 public:
  static Result<ScoreSession> create(const LlamaModel& m,
                                     const kernels::Backend& be = kernels::default_backend());
  // losses (B,T), may be null: losses[b*T + t] = -log p(targets[b,t] | inputs[b, <= t]) in nats
  // under the document mask, 0 where the target is -1. Same numbers as TrainSession's loss.
  Result<LossSum> score(const Batch& batch, float* losses, const ForwardOptions& opt = {});
  // logits (B,T,V) of batch.inputs under batch.doc_start (targets are not used).
  Status logits(const Batch& batch, float* logits, const ForwardOptions& opt = {});
  int64_t activation_bytes() const { return act_bytes_; }

 private:
  ScoreSession(const LlamaModel& m, const kernels::Backend& be);
  Status forward(const Batch& batch, const ForwardOptions& opt, int classifier_rows,
                 detail::Activations* a);
  const LlamaModel* m_;
  const kernels::Backend* be_;
  Arena arena_;
  int64_t act_bytes_ = 0;
};

}  // namespace longctx::model
