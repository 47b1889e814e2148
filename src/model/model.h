// LLaMA model on CPU: parameters in one buffer in Hugging Face tensor order, forward to loss,
// full backward with optional per-layer activation checkpointing (design.md "Model engine",
// style.md llm.c: one allocation for parameters, one for activations, carved by a size table).
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
#include "model/config.h"

namespace longctx::model {

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

struct Batch {
  const int32_t* inputs = nullptr;     // (B,T) token ids
  const int32_t* targets = nullptr;    // (B,T), -1 = no loss at this position
  const int32_t* doc_start = nullptr;  // (B,T) or null: document mask (kernels/cpu/attention.h)
  int B = 1, T = 0;
};

struct StepOptions {
  bool checkpoint_layers = false;  // keep only each layer's input; recompute in backward
  int ce_chunk_rows = 256;         // rows per chunk of the fused classifier
  bool naive_attention = false;    // use the reference attention (tests only: O(T^2) memory)
};

class LlamaModel {
 public:
  static Result<LlamaModel> create(const LlamaConfig& c);
  const LlamaConfig& config() const { return cfg_; }
  const ParamLayout& layout() const { return layout_; }
  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  int64_t num_params() const { return layout_.total; }
  float* grads() { return grads_.data(); }  // allocated by forward_backward
  void zero_grads();

  // Mean loss over positions with a target; gradients (of that mean) are added to grads().
  double forward_backward(const Batch& batch, const StepOptions& opt);
  // Mean loss only (no gradients, constant activation memory per layer).
  double forward_loss(const Batch& batch, const StepOptions& opt);
  // logits (B*T, V) of the given tokens (for `model forward`, tests; O(T*V) memory).
  void forward_logits(const int32_t* inputs, int B, int T, float* logits);

  // Bytes of activation buffers the last call needed (benchmarks, memory planning).
  int64_t last_activation_bytes() const { return last_act_bytes_; }

 private:
  LlamaConfig cfg_;
  ParamLayout layout_;
  std::vector<float> params_;
  std::vector<float> grads_;
  std::vector<float> arena_;  // activation arena, kept between steps (no re-faulting pages)
  int64_t last_act_bytes_ = 0;
};

}  // namespace longctx::model
