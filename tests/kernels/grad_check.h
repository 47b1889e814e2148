// Finite-difference gradient checks shared by the kernel and model tests.
// A scalar loss L = sum_i r_i * out_i (r fixed random) turns a kernel with vector output into a
// function whose gradient dL/dout = r is fed to the backward pass; the analytic input gradient is
// then compared with central differences (L(x+h) - L(x-h)) / 2h evaluated in double.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "core/hash.h"

namespace longctx::testing {

inline std::vector<float> randn(size_t n, uint64_t seed, float std = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = (float)(rng.normal() * std);
  return v;
}

inline double weighted_sum(const std::vector<float>& out, const std::vector<float>& r) {
  double s = 0.0;
  for (size_t i = 0; i < out.size(); i++) s += (double)out[i] * r[i];
  return s;
}

// Checks analytic[i] against the central difference of loss() w.r.t. x[i] for up to max_checks
// indices spread over x. tol: |a - n| <= atol + rtol * max(|a|, |n|). Prints the largest error.
inline void expect_grad_close(const char* what, std::vector<float>& x,
                              const std::vector<float>& analytic,
                              const std::function<double()>& loss, float h = 1e-2f,
                              double atol = 2e-3, double rtol = 2e-2, size_t max_checks = 60) {
  ASSERT_EQ(x.size(), analytic.size());
  const size_t step = std::max<size_t>(1, x.size() / max_checks);
  double worst = 0.0;
  int failures = 0;
  for (size_t i = 0; i < x.size(); i += step) {
    const float orig = x[i];
    x[i] = orig + h;
    const double lp = loss();
    x[i] = orig - h;
    const double lm = loss();
    x[i] = orig;
    const double num = (lp - lm) / (2.0 * h);
    const double err = std::fabs(num - analytic[i]);
    worst = std::max(worst, err);
    if (err > atol + rtol * std::max(std::fabs(num), std::fabs((double)analytic[i]))) {
      if (failures++ < 5)
        ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << " numeric " << num;
    }
  }
  std::printf("  %s: largest |analytic - numeric| = %.3g\n", what, worst);
}

inline void expect_close(const char* what, const float* a, const float* b, size_t n, double atol,
                         double rtol = 0.0) {
  double worst = 0.0;
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    const double err = std::fabs((double)a[i] - b[i]);
    worst = std::max(worst, err);
    if (!(err <= atol + rtol * std::fabs((double)b[i]))) {
      if (failures++ < 5) ADD_FAILURE() << what << "[" << i << "]: " << a[i] << " vs " << b[i];
    }
  }
  std::printf("  %s: largest difference = %.3g over %zu values\n", what, worst, n);
}

}  // namespace longctx::testing
