#include "kernels/cpu/cross_entropy.h"

#include "kernels/cpu/linear.h"
#include "kernels/cpu/vec.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace longctx::cpu {

namespace {
// In place: logits row -> (softmax - onehot) * grad_scale when want_grad; returns the loss.
float softmax_xent_row(float* row, int V, int32_t target, float grad_scale, bool want_grad) {
  const int V16 = V / kVec * kVec;
  float mx = row[0];
  {
    v16f m = vsplat(row[0]);
    for (int i = 0; i < V16; i += kVec) {
      const v16f x = vload(row + i);
      m = x > m ? x : m;
    }
    mx = hmax(m);
    for (int i = V16; i < V; i++) mx = std::max(mx, row[i]);
  }
  double sum = 0.0;
  for (int i = 0; i < V16; i += kVec) sum += hsum(vexp(vload(row + i) - mx));
  for (int i = V16; i < V; i++) sum += std::exp(row[i] - mx);
  const float logz = mx + (float)std::log(sum);
  const float loss = logz - row[target];
  if (want_grad) {
    for (int i = 0; i < V16; i += kVec) vstore(row + i, vexp(vload(row + i) - logz) * grad_scale);
    for (int i = V16; i < V; i++) row[i] = std::exp(row[i] - logz) * grad_scale;
    row[target] -= grad_scale;
  }
  return loss;
}
}  // namespace

double fused_classifier(float* losses, float* dh, float* dW, const float* h, const float* W,
                        const int32_t* targets, int N, int C, int V, float grad_scale,
                        int chunk_rows, float* scratch) {
  double total = 0.0;
  const bool want_grad = dh != nullptr;
  for (int n0 = 0; n0 < N; n0 += chunk_rows) {
    const int nr = std::min(chunk_rows, N - n0);
    const float* hc = h + (int64_t)n0 * C;
    // logits (nr,V) = hc (nr,C) * W^T
    sgemm(false, true, nr, V, C, 1.0f, hc, C, W, C, 0.0f, scratch, V);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < nr; r++) {
      float* row = scratch + (int64_t)r * V;
      const int32_t t = targets[n0 + r];
      if (t < 0) {
        losses[n0 + r] = 0.0f;
        if (want_grad) std::fill(row, row + V, 0.0f);
        continue;
      }
      losses[n0 + r] = softmax_xent_row(row, V, t, grad_scale, want_grad);
    }
    for (int r = 0; r < nr; r++) total += losses[n0 + r];
    if (want_grad) {
      // dh (nr,C) += dlogits (nr,V) * W (V,C);  dW (V,C) += dlogits^T (V,nr) * hc (nr,C)
      sgemm(false, false, nr, C, V, 1.0f, scratch, V, W, C, 1.0f, dh + (int64_t)n0 * C, C);
      sgemm(true, false, V, C, nr, 1.0f, scratch, V, hc, C, 1.0f, dW, C);
    }
  }
  return total;
}

double fused_classifier_naive(float* losses, float* dh, float* dW, const float* h, const float* W,
                              const int32_t* targets, int N, int C, int V, float grad_scale) {
  std::vector<double> logits((size_t)N * V);
  for (int n = 0; n < N; n++)
    for (int v = 0; v < V; v++) {
      double s = 0.0;
      for (int c = 0; c < C; c++) s += (double)h[(int64_t)n * C + c] * W[(int64_t)v * C + c];
      logits[(size_t)n * V + v] = s;
    }
  double total = 0.0;
  for (int n = 0; n < N; n++) {
    double* row = logits.data() + (size_t)n * V;
    const int32_t t = targets[n];
    if (t < 0) {
      losses[n] = 0.0f;
      for (int v = 0; v < V; v++) row[v] = 0.0;
      continue;
    }
    double mx = row[0];
    for (int v = 1; v < V; v++) mx = std::max(mx, row[v]);
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += std::exp(row[v] - mx);
    const double logz = mx + std::log(sum);
    losses[n] = (float)(logz - row[t]);
    total += losses[n];
    for (int v = 0; v < V; v++) row[v] = std::exp(row[v] - logz) * grad_scale;
    row[t] -= grad_scale;
  }
  if (dh) {
    for (int n = 0; n < N; n++)
      for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int v = 0; v < V; v++) s += logits[(size_t)n * V + v] * W[(int64_t)v * C + c];
        dh[(int64_t)n * C + c] += (float)s;
      }
    for (int v = 0; v < V; v++)
      for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) s += logits[(size_t)n * V + v] * h[(int64_t)n * C + c];
        dW[(int64_t)v * C + c] += (float)s;
      }
  }
  return total;
}

}  // namespace longctx::cpu
