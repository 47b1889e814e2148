// Every CPU op: forward against a reference written here or the naive kernel, backward against
// finite differences, optimized against naive (attention at lengths that are not multiples of the
// tile, grouped heads, document masks, KV-cache offsets).
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "grad_check.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/rmsnorm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"
#include "kernels/cpu/threads.h"
#include "kernels/cpu/vec.h"

using namespace longctx::cpu;
using longctx::testing::expect_close;
using longctx::testing::expect_grad_close;
using longctx::testing::randn;
using longctx::testing::weighted_sum;

TEST(Embedding, ForwardLooksUpRowsAndBackwardMatchesFiniteDifferences) {
  const int N = 7, C = 5, V = 4;
  std::vector<int32_t> ids = {3, 0, 3, 1, 2, 3, 0};
  auto wte = randn(V * C, 1);
  std::vector<float> out(N * C);
  embedding_forward(out.data(), ids.data(), wte.data(), N, C);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) EXPECT_EQ(out[n * C + c], wte[ids[n] * C + c]);
  auto r = randn(N * C, 2);
  std::vector<float> dwte(V * C, 0.0f);
  embedding_backward(dwte.data(), r.data(), ids.data(), N, C);
  expect_grad_close("dwte", wte, dwte, [&] {
    embedding_forward(out.data(), ids.data(), wte.data(), N, C);
    return weighted_sum(out, r);
  });
}

TEST(RmsNorm, ForwardMatchesFormulaAndBackwardMatchesFiniteDifferences) {
  const int N = 300, C = 24;  // N > one reduction block of rows
  const float eps = 1e-5f;
  auto x = randn(N * C, 3), w = randn(C, 4);
  std::vector<float> out(N * C), rstd(N);
  rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, eps);
  std::vector<float> ref(N * C);
  for (int n = 0; n < N; n++) {
    double ms = 0;
    for (int c = 0; c < C; c++) ms += (double)x[n * C + c] * x[n * C + c] / C;
    for (int c = 0; c < C; c++) ref[n * C + c] = (float)(x[n * C + c] / std::sqrt(ms + eps) * w[c]);
  }
  expect_close("rmsnorm out", out.data(), ref.data(), ref.size(), 1e-5, 1e-5);
  auto r = randn(N * C, 5);
  std::vector<float> dx(N * C, 0.0f), dw(C, 0.0f);
  rmsnorm_backward(dx.data(), dw.data(), r.data(), x.data(), w.data(), rstd.data(), N, C);
  auto loss = [&] {
    rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, eps);
    return weighted_sum(out, r);
  };
  expect_grad_close("rmsnorm dx", x, dx, loss);
  expect_grad_close("rmsnorm dw", w, dw, loss);
}

TEST(Linear, BlasMatchesNaiveAndBackwardMatchesFiniteDifferences) {
  const int N = 13, C = 17, OC = 11;
  auto x = randn(N * C, 6), w = randn(OC * C, 7);
  std::vector<float> out(N * OC), ref(N * OC);
  linear_forward(out.data(), x.data(), w.data(), N, C, OC);
  linear_forward_naive(ref.data(), x.data(), w.data(), N, C, OC);
  expect_close("linear out", out.data(), ref.data(), out.size(), 1e-4, 1e-5);
  auto r = randn(N * OC, 8);
  std::vector<float> dx(N * C, 0.5f), dw(OC * C, 0.25f), dxn(N * C, 0.5f), dwn(OC * C, 0.25f);
  linear_backward(dx.data(), dw.data(), r.data(), x.data(), w.data(), N, C, OC);
  linear_backward_naive(dxn.data(), dwn.data(), r.data(), x.data(), w.data(), N, C, OC);
  expect_close("linear dx (accumulated)", dx.data(), dxn.data(), dx.size(), 1e-4, 1e-5);
  expect_close("linear dw (accumulated)", dw.data(), dwn.data(), dw.size(), 1e-4, 1e-5);
  for (auto& v : dx) v -= 0.5f;
  for (auto& v : dw) v -= 0.25f;
  auto loss = [&] {
    linear_forward(out.data(), x.data(), w.data(), N, C, OC);
    return weighted_sum(out, r);
  };
  expect_grad_close("linear dx", x, dx, loss);
  expect_grad_close("linear dw", w, dw, loss);
}

TEST(Rope, RotatesHalfPairsAndBackwardIsTheTranspose) {
  const int B = 2, T = 5, H = 3, hd = 8, half = hd / 2, stride = H * hd + 4;  // padded rows
  auto x = randn((size_t)B * T * stride, 9);
  auto cos = randn(T * half, 10), sin = randn(T * half, 11);  // any table: kernel is linear
  auto y = x;
  rope_forward(y.data(), stride, cos.data(), sin.data(), B, T, H, hd);
  // reference: complex multiplication (x_i + i x_{i+half}) * (cos + i sin)
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) {
      for (int h = 0; h < H; h++)
        for (int i = 0; i < half; i++) {
          const size_t base = ((size_t)b * T + t) * stride + h * hd;
          const double re = x[base + i], im = x[base + i + half];
          const double c = cos[t * half + i], s = sin[t * half + i];
          EXPECT_NEAR(y[base + i], re * c - im * s, 1e-5);
          EXPECT_NEAR(y[base + i + half], re * s + im * c, 1e-5);
        }
      for (int p = H * hd; p < stride; p++) {  // padding untouched
        const size_t idx = ((size_t)b * T + t) * stride + p;
        EXPECT_EQ(y[idx], x[idx]);
      }
    }
  auto r = randn(y.size(), 12);
  auto dx = r;
  rope_backward(dx.data(), stride, cos.data(), sin.data(), B, T, H, hd);
  expect_grad_close("rope dx", x, dx, [&] {
    y = x;
    rope_forward(y.data(), stride, cos.data(), sin.data(), B, T, H, hd);
    return weighted_sum(y, r);
  });
}

TEST(SwiGlu, ForwardMatchesFormulaAndBackwardMatchesFiniteDifferences) {
  const int N = 6, I = 9;
  auto gu = randn(N * 2 * I, 13, 2.0f);
  std::vector<float> out(N * I);
  swiglu_forward(out.data(), gu.data(), N, I);
  for (int n = 0; n < N; n++)
    for (int i = 0; i < I; i++) {
      const double g = gu[n * 2 * I + i], u = gu[n * 2 * I + I + i];
      EXPECT_NEAR(out[n * I + i], g / (1 + std::exp(-g)) * u, 1e-5);
    }
  auto r = randn(N * I, 14);
  std::vector<float> dgu(N * 2 * I);
  swiglu_backward(dgu.data(), r.data(), gu.data(), N, I);
  expect_grad_close("swiglu dgu", gu, dgu, [&] {
    swiglu_forward(out.data(), gu.data(), N, I);
    return weighted_sum(out, r);
  });
}

TEST(CrossEntropy, FusedChunkedMatchesNaiveAndFiniteDifferences) {
  const int N = 37, C = 8, V = 23, chunk = 10;  // N not a multiple of the chunk
  auto h = randn(N * C, 15), W = randn(V * C, 16, 0.5f);
  std::vector<int32_t> tgt(N);
  for (int n = 0; n < N; n++) tgt[n] = (n * 7 + 3) % V;
  tgt[4] = -1;
  tgt[20] = -1;
  const float scale = 1.0f / 35;
  std::vector<float> losses(N), dh(N * C), dW(V * C, 0.0f), scratch(chunk * V);
  std::vector<float> lossesn(N), dhn(N * C), dWn(V * C, 0.0f);
  const double s = fused_classifier(losses.data(), dh.data(), dW.data(), h.data(), W.data(),
                                    tgt.data(), N, C, V, scale, chunk, scratch.data());
  const double sn = fused_classifier_naive(lossesn.data(), dhn.data(), dWn.data(), h.data(),
                                           W.data(), tgt.data(), N, C, V, scale);
  EXPECT_NEAR(s, sn, 1e-4);
  EXPECT_EQ(losses[4], 0.0f);
  // independent check of one loss: -log softmax(h W^T)[target]
  {
    std::vector<double> lg(V);
    double mx = -1e30;
    for (int v = 0; v < V; v++) {
      lg[v] = 0;
      for (int c = 0; c < C; c++) lg[v] += (double)h[C + c] * W[v * C + c];
      mx = std::max(mx, lg[v]);
    }
    double z = 0;
    for (int v = 0; v < V; v++) z += std::exp(lg[v] - mx);
    EXPECT_NEAR(losses[1], mx + std::log(z) - lg[tgt[1]], 1e-4);
  }
  expect_close("xent losses", losses.data(), lossesn.data(), N, 1e-4);
  expect_close("xent dh", dh.data(), dhn.data(), dh.size(), 1e-5, 1e-4);
  expect_close("xent dW", dW.data(), dWn.data(), dW.size(), 1e-5, 1e-4);
  auto loss = [&] {
    std::vector<float> l(N);
    return scale * fused_classifier(l.data(), nullptr, nullptr, h.data(), W.data(), tgt.data(), N,
                                    C, V, 0.0f, chunk, scratch.data());
  };
  expect_grad_close("xent dh", h, dh, loss, 1e-2f, 1e-4);
  expect_grad_close("xent dW", W, dW, loss, 1e-2f, 1e-4);
}

// ---- attention ----

namespace {
struct AttnCase {
  int B, Tq, Tk, Hq, Hkv, hd;
  bool doc_mask;
};

struct AttnData {
  AttnShape s;
  std::vector<float> q, k, v;
  std::vector<int32_t> doc_start;
};

AttnData make_attn(const AttnCase& c, uint64_t seed) {
  AttnData a;
  a.s.B = c.B, a.s.Tq = c.Tq, a.s.Tk = c.Tk, a.s.Hq = c.Hq, a.s.Hkv = c.Hkv, a.s.hd = c.hd;
  // q rows padded (stride > width), k/v interleaved in one buffer like the model's qkv rows
  a.s.q_stride = c.Hq * c.hd + 3;
  a.s.kv_stride = 2 * c.Hkv * c.hd;
  a.s.o_stride = c.Hq * c.hd;
  a.q = randn((size_t)c.B * c.Tq * a.s.q_stride, seed);
  a.k = randn((size_t)c.B * c.Tk * a.s.kv_stride, seed + 1);  // k at +0, v at +Hkv*hd
  if (c.doc_mask) {
    // documents of lengths 1, 29, 50, rest (per sequence, shifted for b = 1)
    for (int b = 0; b < c.B; b++) {
      std::vector<int32_t> lens = {1 + b, 29, 50};
      int sum = 1 + b + 79;
      lens.push_back(c.Tk - sum);
      auto ds = doc_starts_from_lengths(lens);
      // queries are the last Tq positions
      for (int i = 0; i < c.Tq; i++) a.doc_start.push_back(ds[c.Tk - c.Tq + i]);
    }
  }
  return a;
}
}  // namespace

class AttentionTest : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionTest, FlashEqualsNaiveForwardAndBackward) {
  const AttnCase c = GetParam();
  AttnData a = make_attn(c, 100 + c.Tq);
  const AttnShape& s = a.s;
  const float* k = a.k.data();
  const float* v = a.k.data() + c.Hkv * c.hd;
  const int32_t* ds = c.doc_mask ? a.doc_start.data() : nullptr;
  const size_t on = (size_t)c.B * c.Tq * s.o_stride;
  std::vector<float> on_(on), of(on), att((size_t)c.B * c.Hq * c.Tq * c.Tk), lse((size_t)c.B * c.Hq * c.Tq);
  attention_forward_naive(on_.data(), att.data(), a.q.data(), k, v, ds, s);
  attention_forward_flash(of.data(), lse.data(), a.q.data(), k, v, ds, s);
  expect_close("attention out flash vs naive", of.data(), on_.data(), on, 2e-5, 1e-4);
  auto r = randn(on, 77);
  std::vector<float> dqn(a.q.size(), 0.0f), dkvn(a.k.size(), 0.0f);
  std::vector<float> dqf(a.q.size(), 0.0f), dkvf(a.k.size(), 0.0f);
  attention_backward_naive(dqn.data(), dkvn.data(), dkvn.data() + c.Hkv * c.hd, r.data(), att.data(),
                           a.q.data(), k, v, s);
  attention_backward_flash(dqf.data(), dkvf.data(), dkvf.data() + c.Hkv * c.hd, r.data(), of.data(),
                           lse.data(), a.q.data(), k, v, ds, s);
  expect_close("attention dq flash vs naive", dqf.data(), dqn.data(), dqn.size(), 2e-5, 1e-3);
  expect_close("attention dk,dv flash vs naive", dkvf.data(), dkvn.data(), dkvn.size(), 2e-5, 1e-3);
  // padding columns of q rows receive no gradient
  for (int row = 0; row < c.B * c.Tq; row++)
    for (int p = c.Hq * c.hd; p < s.q_stride; p++) EXPECT_EQ(dqf[(size_t)row * s.q_stride + p], 0.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(AttnCase{1, 67, 67, 2, 2, 8, false},     // T not a tile multiple
                      AttnCase{2, 130, 130, 4, 2, 16, false},  // grouped heads, 3 tiles
                      AttnCase{2, 150, 150, 6, 2, 8, true},    // grouped heads + document mask
                      AttnCase{1, 1, 97, 4, 1, 8, false},      // decode step against a KV cache
                      AttnCase{2, 70, 150, 4, 2, 8, true},     // chunked prefill + document mask
                      // head sizes with the vectorised kernels (hd = 32, 64, 128)
                      AttnCase{2, 150, 150, 4, 2, 64, true},
                      AttnCase{1, 99, 99, 2, 1, 32, false},
                      AttnCase{1, 70, 70, 2, 2, 128, false},
                      AttnCase{1, 3, 131, 4, 2, 64, false}));

TEST(Attention, NaiveBackwardMatchesFiniteDifferences) {
  AttnData a = make_attn({1, 9, 9, 4, 2, 4, false}, 5);
  const AttnShape& s = a.s;
  float* k = a.k.data();
  float* v = a.k.data() + s.Hkv * s.hd;
  const size_t on = (size_t)s.Tq * s.o_stride;
  std::vector<float> out(on), att((size_t)s.Hq * s.Tq * s.Tk);
  auto r = randn(on, 6);
  attention_forward_naive(out.data(), att.data(), a.q.data(), k, v, nullptr, s);
  std::vector<float> dq(a.q.size(), 0.0f), dkv(a.k.size(), 0.0f);
  attention_backward_naive(dq.data(), dkv.data(), dkv.data() + s.Hkv * s.hd, r.data(), att.data(),
                           a.q.data(), k, v, s);
  auto loss = [&] {
    attention_forward_naive(out.data(), att.data(), a.q.data(), a.k.data(),
                            a.k.data() + s.Hkv * s.hd, nullptr, s);
    return weighted_sum(out, r);
  };
  expect_grad_close("attention dq", a.q, dq, loss);
  expect_grad_close("attention dk,dv", a.k, dkv, loss);
}

TEST(Attention, DocumentMaskBlocksOtherDocuments) {
  // With a document mask, a query's output equals attention over its own document alone.
  AttnData a = make_attn({1, 150, 150, 2, 1, 8, true}, 8);
  AttnShape s = a.s;
  std::vector<float> out((size_t)s.Tq * s.o_stride), lse(s.Hq * s.Tq);
  attention_forward_flash(out.data(), lse.data(), a.q.data(), a.k.data(), a.k.data() + s.hd,
                          a.doc_start.data(), s);
  // third document: positions 30..79, run alone
  AttnShape s2 = s;
  s2.Tq = s2.Tk = 50;
  std::vector<float> out2((size_t)50 * s.o_stride), lse2(s.Hq * 50);
  attention_forward_flash(out2.data(), lse2.data(), a.q.data() + 30 * s.q_stride,
                          a.k.data() + 30 * s.kv_stride, a.k.data() + 30 * s.kv_stride + s.hd,
                          nullptr, s2);
  expect_close("doc-masked vs isolated document", out.data() + 30 * s.o_stride, out2.data(),
               out2.size(), 1e-6);
}

TEST(Attention, FlashBackwardIsIdenticalForAnyThreadCount) {
  AttnData a = make_attn({2, 100, 100, 4, 2, 8, false}, 9);
  const AttnShape& s = a.s;
  const float* k = a.k.data();
  const float* v = a.k.data() + s.Hkv * s.hd;
  const size_t on = (size_t)s.B * s.Tq * s.o_stride;
  auto r = randn(on, 10);
  std::vector<float> res[2];
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::vector<float> out(on), lse((size_t)s.B * s.Hq * s.Tq), dq(a.q.size(), 0.0f), dkv(a.k.size(), 0.0f);
    attention_forward_flash(out.data(), lse.data(), a.q.data(), k, v, nullptr, s);
    attention_backward_flash(dq.data(), dkv.data(), dkv.data() + s.Hkv * s.hd, r.data(), out.data(),
                             lse.data(), a.q.data(), k, v, nullptr, s);
    res[threads - 1] = dq;
    res[threads - 1].insert(res[threads - 1].end(), dkv.begin(), dkv.end());
  }
  set_num_threads(0);
  ASSERT_EQ(res[0].size(), res[1].size());
  EXPECT_EQ(std::memcmp(res[0].data(), res[1].data(), res[0].size() * sizeof(float)), 0);
}

TEST(VecMath, ExpMatchesStdExp) {
  double worst = 0;
  for (int i = -9000; i <= 8800; i += 7) {
    v16f x;
    for (int k = 0; k < kVec; k++) x[k] = (float)(i * 0.01 + k * 0.0007);
    const v16f y = vexp(x);
    for (int k = 0; k < kVec; k++) {
      const double want = std::exp((double)x[k]);
      const double rel = want < 1e-37 ? std::fabs(y[k] - want) : std::fabs(y[k] - want) / want;
      worst = std::max(worst, rel);
    }
  }
  std::printf("  vexp: largest relative error %.3g on [-90, 88]\n", worst);
  EXPECT_LT(worst, 5e-7);
  v16f m = vsplat(-std::numeric_limits<float>::infinity());
  EXPECT_EQ(vexp(m)[3], 0.0f);
}
