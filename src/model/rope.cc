#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace longctx::model {

namespace {
constexpr double kPi = 3.14159265358979323846;

double yarn_get_mscale(double scale, double mscale) {
  return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0;
}
// Dimension index at which a wavelength completes num_rotations turns within max_pos tokens.
double yarn_correction_dim(double num_rotations, int dim, double base, double max_pos) {
  return dim * std::log(max_pos / (num_rotations * 2 * kPi)) / (2 * std::log(base));
}
}  // namespace

RopeFreqs rope_frequencies(const LlamaConfig& c, int64_t seq_len) {
  const int dim = c.head_dim_or_default();
  const int half = dim / 2;
  const RopeScaling& s = c.rope_scaling;
  double base = c.rope_theta;
  RopeFreqs f;
  f.inv_freq.resize(half);
  if (s.type == RopeType::kDynamic) {
    const double L0 = (double)c.max_position_embeddings;
    const double L = std::max((double)seq_len, L0);
    base = base * std::pow(s.factor * L / L0 - (s.factor - 1.0), (double)dim / (dim - 2));
  }
  for (int i = 0; i < half; i++) f.inv_freq[i] = 1.0 / std::pow(base, (2.0 * i) / dim);
  switch (s.type) {
    case RopeType::kDefault:
    case RopeType::kDynamic:
      break;
    case RopeType::kLinear:
      for (double& x : f.inv_freq) x /= s.factor;
      break;
    case RopeType::kYarn: {
      const double L0 = s.original_max_position_embeddings > 0
                            ? (double)s.original_max_position_embeddings
                            : (double)c.max_position_embeddings;
      if (s.attention_factor > 0) {
        f.attention_scaling = s.attention_factor;
      } else if (s.mscale > 0 && s.mscale_all_dim > 0) {
        f.attention_scaling =
            yarn_get_mscale(s.factor, s.mscale) / yarn_get_mscale(s.factor, s.mscale_all_dim);
      } else {
        f.attention_scaling = yarn_get_mscale(s.factor, 1.0);
      }
      double low = std::floor(yarn_correction_dim(s.beta_fast, dim, base, L0));
      double high = std::ceil(yarn_correction_dim(s.beta_slow, dim, base, L0));
      low = std::max(low, 0.0);
      high = std::min(high, (double)dim - 1);
      if (low == high) high += 0.001;
      for (int i = 0; i < half; i++) {
        const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
        const double extrap_weight = 1.0 - ramp;
        const double extrap = f.inv_freq[i], interp = f.inv_freq[i] / s.factor;
        f.inv_freq[i] = interp * (1.0 - extrap_weight) + extrap * extrap_weight;
      }
      break;
    }
    case RopeType::kLlama3: {
      const double L0 = s.original_max_position_embeddings > 0
                            ? (double)s.original_max_position_embeddings
                            : (double)c.max_position_embeddings;
      const double low_wavelen = L0 / s.low_freq_factor;
      const double high_wavelen = L0 / s.high_freq_factor;
      for (double& x : f.inv_freq) {
        const double wavelen = 2 * kPi / x;
        if (wavelen < high_wavelen) continue;  // high frequency: unchanged
        if (wavelen > low_wavelen) {
          x /= s.factor;  // low frequency: interpolated
          continue;
        }
        const double smooth =
            (L0 / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        x = (1 - smooth) * x / s.factor + smooth * x;
      }
      break;
    }
  }
  return f;
}

void rope_tables(const RopeFreqs& f, int64_t pos0, int64_t n_pos, std::vector<float>* cos,
                 std::vector<float>* sin) {
  const size_t half = f.inv_freq.size();
  cos->resize((size_t)n_pos * half);
  sin->resize((size_t)n_pos * half);
  for (int64_t t = 0; t < n_pos; t++)
    for (size_t i = 0; i < half; i++) {
      // HF computes the angle in float32: (float)pos * (float)inv_freq
      const float angle = (float)(pos0 + t) * (float)f.inv_freq[i];
      (*cos)[(size_t)t * half + i] = (float)(std::cos((double)angle) * f.attention_scaling);
      (*sin)[(size_t)t * half + i] = (float)(std::sin((double)angle) * f.attention_scaling);
    }
}

}  // namespace longctx::model
