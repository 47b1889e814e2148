// Tiled (flash-style) causal attention, forward and backward, at one shape: GFLOP/s against the
// naive kernel's time where it fits (T <= 4096), in the same process.
// FLOPs: forward 2 products x 2 x T^2/2 x hd x Hq; backward 5 products (recomputed scores, dP,
// dQ, dK, dV) -> 2.5x forward.
// Usage: bench_attention [T=4096] [Hq=8] [Hkv=8] [hd=64] [threads=2]
#include "bench_util.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include "core/hash.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/threads.h"

using namespace longctx::cpu;


int main(int argc, char** argv) {
  const int T = argc > 1 ? std::atoi(argv[1]) : 4096, Hq = argc > 2 ? std::atoi(argv[2]) : 8;
  const int Hkv = argc > 3 ? std::atoi(argv[3]) : 8, hd = argc > 4 ? std::atoi(argv[4]) : 64;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 2;
  set_num_threads(threads);
  AttnShape s;
  s.B = 1, s.Tq = T, s.Tk = T, s.Hq = Hq, s.Hkv = Hkv, s.hd = hd;
  s.q_stride = (int64_t)(Hq + 2 * Hkv) * hd, s.kv_stride = s.q_stride, s.o_stride = (int64_t)Hq * hd;
  longctx::Rng rng(1);
  std::vector<float> qkv((size_t)T * s.q_stride), out((size_t)T * s.o_stride), dout(out.size()),
      lse((size_t)Hq * T), dqkv(qkv.size());
  for (auto& x : qkv) x = (float)rng.normal();
  for (auto& x : dout) x = (float)rng.normal();
  const float* q = qkv.data();
  const float* k = q + (size_t)Hq * hd;
  const float* v = k + (size_t)Hkv * hd;
  const double fwd_flops = 2.0 * 2.0 * T * (T / 2.0) * hd * Hq;
  const double tf = time_best([&] { attention_forward_flash(out.data(), lse.data(), q, k, v, nullptr, s); }, 2);
  const double tb = time_best([&] {
    attention_backward_flash(dqkv.data(), dqkv.data() + (size_t)Hq * hd, dqkv.data() + (size_t)(Hq + Hkv) * hd,
                             dout.data(), out.data(), lse.data(), q, k, v, nullptr, s);
  }, 2);
  std::printf("flash attention T=%d Hq=%d Hkv=%d hd=%d threads=%d: forward %.3fs %.1f GFLOP/s, backward %.3fs %.1f GFLOP/s\n",
              T, Hq, Hkv, hd, threads, tf, fwd_flops / tf / 1e9, tb, 2.5 * fwd_flops / tb / 1e9);
  if (T <= 4096) {
    std::vector<float> att((size_t)Hq * T * T), out2(out.size());
    const double tn = time_best([&] { attention_forward_naive(out2.data(), att.data(), q, k, v, nullptr, s); }, 1);
    std::printf("naive attention forward (baseline): %.3fs %.1f GFLOP/s, %.0f MB of probabilities\n", tn,
                fwd_flops / tn / 1e9, att.size() * 4 / 1048576.0);
  }
  return 0;
}
