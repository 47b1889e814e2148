// The backend interface (kernels/backend.h), run on the default backend so a new backend runs the
// same checks: every op is named and supported, and every backward ADDS into its gradient
// outputs: called on a buffer holding b it leaves b + g, where g is what it leaves in a zeroed
// buffer (RoPE, the in-place exception, is checked to be the transpose in kernels_test.cc).
#include <cmath>
#include <functional>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "grad_check.h"
#include "kernels/backend.h"

using longctx::kernels::AttnShape;
using longctx::kernels::Backend;
using longctx::kernels::default_backend;
using longctx::kernels::Op;
using longctx::testing::expect_close;
using longctx::testing::randn;

namespace {

// run(g) adds the op's gradient into g (n floats). Checks run on a non-zero buffer == base + run
// on a zeroed buffer, and that the gradient is not all zeros (so the check means something).
void expect_adds(const char* what, size_t n, const std::function<void(float*)>& run) {
  std::vector<float> g0(n, 0.0f);
  run(g0.data());
  double norm = 0;
  for (float v : g0) norm += std::fabs(v);
  EXPECT_GT(norm, 0.0) << what << ": the gradient is all zeros";
  const std::vector<float> base = randn(n, 4242, 3.0f);
  std::vector<float> g1 = base, want(n);
  run(g1.data());
  for (size_t i = 0; i < n; i++) want[i] = base[i] + g0[i];
  // the kernel may add partial sums one at a time: equal up to float rounding of base + parts
  expect_close(what, g1.data(), want.data(), n, 1e-5, 1e-5);
}

const Backend& be() { return default_backend(); }

}  // namespace

TEST(Backend, EveryOpIsNamedAndSupportedByTheDefaultBackend) {
  std::set<std::string> names;
  for (int i = 0; i < (int)Op::kCount; i++) {
    const std::string name(longctx::kernels::op_name((Op)i));
    EXPECT_FALSE(name.empty()) << "op " << i;
    EXPECT_TRUE(names.insert(name).second) << "duplicate op name " << name;
    EXPECT_TRUE(be().supports((Op)i)) << name;
  }
  EXPECT_FALSE(be().supports(Op::kCount));
  EXPECT_EQ(be().name(), "cpu");
}

TEST(Backend, AllocatesAlignedZeroedMemory) {
  float* p = be().alloc_floats(1000);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ((uintptr_t)p % 64, 0u);
  for (int i = 0; i < 1000; i++) ASSERT_EQ(p[i], 0.0f);
  be().free_floats(p);
  EXPECT_EQ(be().alloc_floats(-1), nullptr);
}

TEST(Backend, ElementwiseOps) {
  std::vector<float> y = {1, 2, 3}, x = {10, 20, 30};
  be().add(y.data(), x.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{11, 22, 33}));
  be().zero(y.data(), 2);
  EXPECT_EQ(y, (std::vector<float>{0, 0, 33}));
  // rows of 2 out of stride-3 rows into stride-4 rows
  std::vector<float> src = {1, 2, 9, 3, 4, 9}, dst(8, -1.0f);
  be().copy_rows(dst.data(), 4, src.data(), 3, 2, 2);
  EXPECT_EQ(dst, (std::vector<float>{1, 2, -1, -1, 3, 4, -1, -1}));
}

TEST(BackwardAdds, Embedding) {
  const int N = 9, C = 5, V = 4;
  std::vector<int32_t> ids = {3, 0, 3, 1, 2, 3, 0, 1, 1};
  auto dout = randn(N * C, 1);
  expect_adds("embedding dwte", V * C,
              [&](float* g) { be().embedding_backward(g, dout.data(), ids.data(), N, C); });
}

TEST(BackwardAdds, RmsNorm) {
  const int N = 200, C = 12;  // more than one row block of the dweight reduction
  auto x = randn(N * C, 2), w = randn(C, 3), dout = randn(N * C, 4);
  std::vector<float> out(N * C), rstd(N), other;
  be().rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, 1e-5f);
  expect_adds("rmsnorm dinp", N * C, [&](float* g) {
    other.assign(C, 0.0f);
    be().rmsnorm_backward(g, other.data(), dout.data(), x.data(), w.data(), rstd.data(), N, C);
  });
  expect_adds("rmsnorm dweight", C, [&](float* g) {
    other.assign(N * C, 0.0f);
    be().rmsnorm_backward(other.data(), g, dout.data(), x.data(), w.data(), rstd.data(), N, C);
  });
}

TEST(BackwardAdds, Linear) {
  const int N = 140, C = 17, OC = 11;  // N over one sgemm row block
  auto x = randn(N * C, 5), w = randn(OC * C, 6), dout = randn(N * OC, 7);
  std::vector<float> other;
  expect_adds("linear dinp", N * C, [&](float* g) {
    other.assign(OC * C, 0.0f);
    be().linear_backward(g, other.data(), dout.data(), x.data(), w.data(), N, C, OC);
  });
  expect_adds("linear dweight", OC * C, [&](float* g) {
    other.assign(N * C, 0.0f);
    be().linear_backward(other.data(), g, dout.data(), x.data(), w.data(), N, C, OC);
  });
}

TEST(BackwardAdds, Swiglu) {
  const int N = 6, I = 9;
  auto gu = randn(N * 2 * I, 8, 2.0f), dout = randn(N * I, 9);
  expect_adds("swiglu dgu", N * 2 * I,
              [&](float* g) { be().swiglu_backward(g, dout.data(), gu.data(), N, I); });
}

TEST(BackwardAdds, Classifier) {
  const int N = 23, C = 8, V = 19, chunk = 10;
  auto h = randn(N * C, 10), W = randn(V * C, 11, 0.5f);
  std::vector<int32_t> tgt(N);
  for (int n = 0; n < N; n++) tgt[n] = (n * 5 + 1) % V;
  tgt[7] = -1;
  std::vector<float> losses(N), scratch(chunk * V), other;
  expect_adds("classifier dh", N * C, [&](float* g) {
    other.assign(V * C, 0.0f);
    be().classifier(losses.data(), g, other.data(), h.data(), W.data(), tgt.data(), N, C, V,
                    1.0f / 22, chunk, scratch.data());
  });
  expect_adds("classifier dW", V * C, [&](float* g) {
    other.assign(N * C, 0.0f);
    be().classifier(losses.data(), other.data(), g, h.data(), W.data(), tgt.data(), N, C, V,
                    1.0f / 22, chunk, scratch.data());
  });
}

TEST(BackwardAdds, AttentionTiledAndReference) {
  // grouped heads, a document mask, more than one tile of queries and keys
  AttnShape s;
  s.B = 2, s.Tq = s.Tk = 80, s.Hq = 4, s.Hkv = 2, s.hd = 8;
  s.q_stride = s.Hq * s.hd, s.kv_stride = s.Hkv * s.hd, s.o_stride = s.Hq * s.hd;
  const size_t nq = (size_t)s.B * s.Tq * s.q_stride, nkv = (size_t)s.B * s.Tk * s.kv_stride;
  auto q = randn(nq, 12), k = randn(nkv, 13), v = randn(nkv, 14), dout = randn(nq, 15);
  std::vector<int32_t> doc;
  for (int b = 0; b < s.B; b++)
    for (int t = 0; t < s.Tq; t++) doc.push_back(t < 30 + b ? 0 : 30 + b);
  std::vector<float> out(nq), lse((size_t)s.B * s.Hq * s.Tq), att((size_t)s.B * s.Hq * s.Tq * s.Tk);
  std::vector<float> o1, o2;
  be().attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(), doc.data(), s);
  using Bwd = std::function<void(float*, float*, float*)>;
  const Bwd tiled = [&](float* dq, float* dk, float* dv) {
    be().attention_backward(dq, dk, dv, dout.data(), out.data(), lse.data(), q.data(), k.data(),
                            v.data(), doc.data(), s);
  };
  std::vector<float> rout(nq);
  be().attention_reference_forward(rout.data(), att.data(), q.data(), k.data(), v.data(), doc.data(), s);
  const Bwd reference = [&](float* dq, float* dk, float* dv) {
    be().attention_reference_backward(dq, dk, dv, dout.data(), att.data(), q.data(), k.data(),
                                      v.data(), s);
  };
  for (const bool t : {true, false}) {
    const Bwd& bwd = t ? tiled : reference;
    expect_adds(t ? "attention dq" : "reference attention dq", nq, [&](float* g) {
      o1.assign(nkv, 0.0f), o2.assign(nkv, 0.0f);
      bwd(g, o1.data(), o2.data());
    });
    expect_adds(t ? "attention dk" : "reference attention dk", nkv, [&](float* g) {
      o1.assign(nq, 0.0f), o2.assign(nkv, 0.0f);
      bwd(o1.data(), g, o2.data());
    });
    expect_adds(t ? "attention dv" : "reference attention dv", nkv, [&](float* g) {
      o1.assign(nq, 0.0f), o2.assign(nkv, 0.0f);
      bwd(o1.data(), o2.data(), g);
    });
  }
}
