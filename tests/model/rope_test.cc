// RoPE scaling variants against values worked out from their published formulas, written here
// independently of src/model/rope.cc (hand values where the arithmetic is simple).
#include <cmath>

#include <gtest/gtest.h>

#include "model/rope.h"

using namespace longctx::model;

namespace {
constexpr double kPi = 3.14159265358979323846;
LlamaConfig base_config(int hd, double theta) {
  LlamaConfig c;
  c.hidden_size = hd * 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 2;
  c.rope_theta = theta;
  c.max_position_embeddings = 16;
  return c;
}
}  // namespace

TEST(RopeScaling, DefaultAndLinearByHand) {
  LlamaConfig c = base_config(4, 10000);
  auto f = rope_frequencies(c, 16);
  ASSERT_EQ(f.inv_freq.size(), 2u);
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 1.0);
  EXPECT_NEAR(f.inv_freq[1], 0.01, 1e-15);  // 10000^(-2/4)
  c.rope_scaling.type = RopeType::kLinear;
  c.rope_scaling.factor = 4;
  f = rope_frequencies(c, 16);
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 0.25);
  EXPECT_NEAR(f.inv_freq[1], 0.0025, 1e-15);
  EXPECT_EQ(f.attention_scaling, 1.0);
}

TEST(RopeScaling, DynamicNtkByHand) {
  // base' = 10000 * (factor * L / L0 - (factor - 1))^(d/(d-2)); d = 4, L0 = 16, factor 2:
  // L = 32 -> (4 - 1)^2 = 9 -> base' = 90000 -> inv_freq = [1, 1/300]
  LlamaConfig c = base_config(4, 10000);
  c.rope_scaling.type = RopeType::kDynamic;
  c.rope_scaling.factor = 2;
  auto f = rope_frequencies(c, 32);
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 1.0);
  EXPECT_NEAR(f.inv_freq[1], 1.0 / 300.0, 1e-14);
  // within the trained length nothing changes
  f = rope_frequencies(c, 10);
  EXPECT_NEAR(f.inv_freq[1], 0.01, 1e-15);
}

TEST(RopeScaling, YarnFollowsTheRampFormula) {
  // YaRN (Peng et al. 2023) as parameterised by transformers: per dimension pair i, the
  // extrapolation weight is 1 - clamp((i - low) / (high - low), 0, 1) where low/high are the
  // (floored/ceiled) dimensions whose wavelength fits beta_fast / beta_slow rotations into L0.
  const int d = 64;
  const double theta = 10000, s = 8, L0 = 2048;
  LlamaConfig c = base_config(d, theta);
  c.rope_scaling.type = RopeType::kYarn;
  c.rope_scaling.factor = s;
  c.rope_scaling.original_max_position_embeddings = (int64_t)L0;
  auto f = rope_frequencies(c, 100);
  EXPECT_NEAR(f.attention_scaling, 0.1 * std::log(8.0) + 1.0, 1e-12);
  // dimension where a wavelength completes r rotations over L0: solve L0 / (2 pi theta^(2i/d)) = r
  auto dim_for_rotations = [&](double r) { return d / 2.0 * std::log(L0 / (2 * kPi * r)) / std::log(theta); };
  const double low = std::max(0.0, std::floor(dim_for_rotations(32)));
  const double high = std::min(d - 1.0, std::ceil(dim_for_rotations(1)));
  ASSERT_GT(high, low);
  int n_extrap = 0, n_interp = 0, n_mixed = 0;
  for (int i = 0; i < d / 2; i++) {
    const double orig = std::pow(theta, -2.0 * i / d);
    double gamma = (i - low) / (high - low);  // 0 -> keep, 1 -> interpolate
    gamma = gamma < 0 ? 0 : gamma > 1 ? 1 : gamma;
    const double expected = orig * (1 - gamma) + orig / s * gamma;
    EXPECT_NEAR(f.inv_freq[i], expected, 1e-12 * orig) << "pair " << i;
    if (gamma == 0) n_extrap++;
    else if (gamma == 1) n_interp++;
    else n_mixed++;
  }
  // the chosen numbers exercise all three regimes
  EXPECT_GT(n_extrap, 0);
  EXPECT_GT(n_interp, 0);
  EXPECT_GT(n_mixed, 0);
  // the highest frequency is untouched, the lowest divided by the factor (paper, eq. 23)
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 1.0);
  EXPECT_NEAR(f.inv_freq[d / 2 - 1], std::pow(theta, -2.0 * (d / 2 - 1) / d) / s, 1e-18);
  // explicit attention_factor wins
  c.rope_scaling.attention_factor = 1.5;
  EXPECT_EQ(rope_frequencies(c, 100).attention_scaling, 1.5);
}

TEST(RopeScaling, Llama3FollowsTheWavelengthBands) {
  // Llama 3.1: wavelength < L0/high_freq_factor keep; > L0/low_freq_factor divide by factor;
  // in between blend with smooth = (L0/wavelength - low) / (high - low).
  const int d = 128;
  const double theta = 500000, s = 8, L0 = 8192, lo = 1, hi = 4;
  LlamaConfig c = base_config(d, theta);
  c.rope_scaling.type = RopeType::kLlama3;
  c.rope_scaling.factor = s;
  c.rope_scaling.low_freq_factor = lo;
  c.rope_scaling.high_freq_factor = hi;
  c.rope_scaling.original_max_position_embeddings = (int64_t)L0;
  auto f = rope_frequencies(c, 100);
  int bands[3] = {0, 0, 0};
  for (int i = 0; i < d / 2; i++) {
    const double orig = std::pow(theta, -2.0 * i / d);
    const double wl = 2 * kPi / orig;
    double expected;
    if (wl < L0 / hi) expected = orig, bands[0]++;
    else if (wl > L0 / lo) expected = orig / s, bands[2]++;
    else {
      const double smooth = (L0 / wl - lo) / (hi - lo);
      expected = (1 - smooth) * orig / s + smooth * orig;
      bands[1]++;
    }
    EXPECT_NEAR(f.inv_freq[i], expected, 1e-12 * orig) << "pair " << i;
  }
  EXPECT_GT(bands[0], 0);
  EXPECT_GT(bands[1], 0);
  EXPECT_GT(bands[2], 0);
}

TEST(RopeTables, CosSinOfPositionTimesFrequencyScaled) {
  RopeFreqs f;
  f.inv_freq = {1.0, 0.5};
  f.attention_scaling = 2.0;
  std::vector<float> cos, sin;
  rope_tables(f, 3, 2, &cos, &sin);  // positions 3, 4
  ASSERT_EQ(cos.size(), 4u);
  EXPECT_NEAR(cos[0], 2 * std::cos(3.0), 1e-6);
  EXPECT_NEAR(sin[1], 2 * std::sin(1.5), 1e-6);
  EXPECT_NEAR(cos[2], 2 * std::cos(4.0), 1e-6);
  EXPECT_NEAR(sin[3], 2 * std::sin(2.0), 1e-6);
}
