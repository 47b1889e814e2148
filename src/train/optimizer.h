// Learning-rate schedule, AdamW and gradient clipping (docs/training.md "Optimizer").
//
// Schedule, for the s-th optimizer step (s = 1 .. S, W warmup steps, peak lr, floor min_lr):
//   s <= W           lr * s / W                               (linear warmup; none when W = 0)
//   constant         lr
//   cosine           min_lr + (lr - min_lr) * (1 + cos(pi * p)) / 2,  p = (s - W) / (S - W)
//   linear           lr + (min_lr - lr) * p
// Unlike transformers' LambdaLR, the first step of a warmup already moves (lr / W, not 0).
//
// AdamW as torch.optim.AdamW (decoupled weight decay, bias correction), per element, for the t-th
// step with learning rate a:
//   p <- p * (1 - a * wd)                (only parameters in the decay group)
//   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2
//   p <- p - a * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// computed in double from float32 parameters and moments, stored back as float32. Element-wise, so
// the result does not depend on the thread count.
//
// Weight decay grouping follows the Hugging Face Trainer (get_decay_parameter_names): every
// parameter decays except the weights of normalisation layers and biases; token embeddings and
// the output head decay. LLaMA has no biases, so the excluded ones are the RMSNorm weights
// (input_layernorm, post_attention_layernorm, model.norm).
#pragma once
#include <cstdint>
#include <vector>

#include "model/model.h"
#include "train/train_config.h"

namespace longctx::train {

struct ScheduleParams {
  Schedule kind = Schedule::kConstant;
  double lr = 2e-5, min_lr = 0;
  int64_t warmup = 0, total_steps = 1;
};
// Learning rate of step s (1-based).
double learning_rate(const ScheduleParams& p, int64_t s);

// Whether an HF tensor name decays (see the grouping above).
bool decays(const std::string& tensor_name);
// One byte per parameter: 1 where weight decay applies (the layout's tensors cover the buffer).
std::vector<uint8_t> decay_mask(const model::ParamLayout& layout);

struct AdamWParams {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
};

class AdamW {
 public:
  AdamW(int64_t num_params, const AdamWParams& p, std::vector<uint8_t> decay_mask);
  // One update with gradient g of the t-th step (t = step() + 1 afterwards).
  void update(float* params, const float* g, double lr);
  int64_t step() const { return step_; }
  // Moments, for checkpoints (num_params floats each) and the step count.
  std::vector<float>& m() { return m_; }
  std::vector<float>& v() { return v_; }
  const std::vector<float>& m() const { return m_; }
  const std::vector<float>& v() const { return v_; }
  void set_step(int64_t t) { step_ = t; }

 private:
  AdamWParams p_;
  std::vector<uint8_t> decay_;
  std::vector<float> m_, v_;
  int64_t step_ = 0;
};

// Global L2 norm of g (n floats), summed in double over fixed blocks in a fixed order, so the same
// bits at any thread count.
double global_norm(const float* g, int64_t n);
// torch.nn.utils.clip_grad_norm_: when norm > max_norm, g *= max_norm / (norm + 1e-6).
void clip_gradient(float* g, int64_t n, double norm, double max_norm);
// g *= s.
void scale_floats(float* g, int64_t n, float s);

}  // namespace longctx::train
