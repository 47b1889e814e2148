#include "train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace longctx::train {

double learning_rate(const ScheduleParams& p, int64_t s) {
  if (p.warmup > 0 && s <= p.warmup) return p.lr * (double)s / (double)p.warmup;
  if (p.kind == Schedule::kConstant) return p.lr;
  const int64_t span = std::max<int64_t>(p.total_steps - p.warmup, 1);
  const double x = std::clamp((double)(s - p.warmup) / (double)span, 0.0, 1.0);
  if (p.kind == Schedule::kCosine) return p.min_lr + (p.lr - p.min_lr) * 0.5 * (1 + std::cos(std::numbers::pi * x));
  return p.lr + (p.min_lr - p.lr) * x;
}

bool decays(const std::string& name) {
  const bool bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
  return !bias && name.find("norm") == std::string::npos;
}

std::vector<uint8_t> decay_mask(const model::ParamLayout& layout) {
  std::vector<uint8_t> mask((size_t)layout.total, 1);
  for (const model::ParamTensor& t : layout.tensors)
    if (!decays(t.name)) std::fill_n(mask.begin() + t.offset, t.numel(), uint8_t{0});
  return mask;
}

AdamW::AdamW(int64_t n, const AdamWParams& p, std::vector<uint8_t> mask)
    : p_(p), decay_(std::move(mask)), m_((size_t)n, 0.0f), v_((size_t)n, 0.0f) {}

void AdamW::update(float* params, const float* g, double lr) {
  step_++;
  const double b1 = p_.beta1, b2 = p_.beta2, eps = p_.eps;
  const double bc1 = 1 - std::pow(b1, (double)step_), bc2 = 1 - std::pow(b2, (double)step_);
  const double step_size = lr / bc1, inv_sqrt_bc2 = 1 / std::sqrt(bc2);
  const double shrink = 1 - lr * p_.weight_decay;
  const int64_t n = (int64_t)m_.size();
  float* m = m_.data();
  float* v = v_.data();
  const uint8_t* dec = decay_.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    double w = params[i];
    if (dec[i]) w *= shrink;
    const double gi = g[i];
    const double mi = b1 * m[i] + (1 - b1) * gi;
    const double vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = (float)mi, v[i] = (float)vi;
    // the moments as stored (float) drive the update, so a resumed run sees the same numbers
    const double denom = std::sqrt((double)v[i]) * inv_sqrt_bc2 + eps;
    params[i] = (float)(w - step_size * (double)m[i] / denom);
  }
}

double global_norm(const float* g, int64_t n) {
  constexpr int64_t kBlock = 1 << 16;  // fixed blocks: the sum order does not follow the threads
  const int64_t nb = (n + kBlock - 1) / kBlock;
  std::vector<double> part((size_t)nb, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < nb; b++) {
    double s = 0;
    const int64_t end = std::min(n, (b + 1) * kBlock);
    for (int64_t i = b * kBlock; i < end; i++) s += (double)g[i] * g[i];
    part[(size_t)b] = s;
  }
  double total = 0;
  for (double s : part) total += s;
  return std::sqrt(total);
}

void clip_gradient(float* g, int64_t n, double norm, double max_norm) {
  if (max_norm <= 0 || !(norm > max_norm)) return;
  scale_floats(g, n, (float)(max_norm / (norm + 1e-6)));
}

void scale_floats(float* g, int64_t n, float s) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) g[i] *= s;
}

}  // namespace longctx::train
