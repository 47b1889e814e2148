// Training-step throughput and peak memory of the CPU engine for one configuration.
// Prints one JSON line (the driver bench/model/bench_train.py runs it next to PyTorch):
//   tokens_per_s and gflops of the fastest timed step (the machine is shared: best-of is the
//   least noisy figure), step_s (mean),  (model FLOPs: 6 x matmul params x tokens + causal attention,
//   recomputation not counted), peak_rss_mb, activation_mb.
// Usage: bench_train --hidden 512 --layers 8 --seq 4096 [--heads 8 --kv-heads 8 --vocab 32000
//                    --batch 1 --steps 3 --threads 2 --checkpoint 1 --warmup 1]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/hash.h"
#include "kernels/cpu/threads.h"
#include "model/model.h"

using namespace longctx::model;

namespace {
double step(TrainSession& train, const Batch& b, const StepOptions& opt) {
  auto loss = train.forward_backward(b, opt);
  if (!loss.is_ok()) {
    std::fprintf(stderr, "%s\n", loss.status().message().c_str());
    std::exit(1);
  }
  return *loss;
}
}  // namespace

int main(int argc, char** argv) {
  int hidden = 512, layers = 8, seq = 4096, heads = 8, kv_heads = 0, vocab = 32000, batch = 1;
  int steps = 3, threads = 2, checkpoint = 1, inter = 0, warmup = 1;
  if (!parse_int_flags(argc, argv, {{"hidden", &hidden}, {"layers", &layers}, {"seq", &seq},
                                     {"heads", &heads}, {"kv-heads", &kv_heads}, {"vocab", &vocab},
                                     {"batch", &batch}, {"steps", &steps}, {"threads", &threads},
                                     {"checkpoint", &checkpoint}, {"intermediate", &inter},
                                     {"warmup", &warmup}}))
    return 2;
  longctx::cpu::set_num_threads(threads);
  LlamaConfig c;
  c.vocab_size = vocab, c.hidden_size = hidden, c.num_hidden_layers = layers;
  c.num_attention_heads = heads, c.num_key_value_heads = kv_heads > 0 ? kv_heads : heads;
  c.intermediate_size = inter > 0 ? inter : (hidden * 8 / 3 + 63) / 64 * 64;  // LLaMA's 8/3 ratio
  c.max_position_embeddings = seq;
  auto m = LlamaModel::create(c);
  if (!m.is_ok()) {
    std::fprintf(stderr, "%s\n", m.status().message().c_str());
    return 1;
  }
  init_params(c, 1, 0.02f, m->params());
  auto train = TrainSession::create(*m);
  if (!train.is_ok()) {
    std::fprintf(stderr, "%s\n", train.status().message().c_str());
    return 1;
  }
  longctx::Rng rng(7);
  std::vector<int32_t> in((size_t)batch * seq), tgt((size_t)batch * seq);
  for (auto& x : in) x = (int32_t)rng.below(vocab);
  for (auto& x : tgt) x = (int32_t)rng.below(vocab);
  Batch b;
  b.inputs = in.data(), b.targets = tgt.data(), b.B = batch, b.T = seq;
  StepOptions opt;
  opt.checkpoint_layers = checkpoint != 0;
  using clock = std::chrono::steady_clock;
  // one warm-up step (allocations, page faults), then timed steps
  double loss = 0;
  if (warmup) {
    train->zero_grads();
    loss = step(*train, b, opt);
  }
  double best = 1e30, total = 0;
  for (int s = 0; s < steps; s++) {
    auto t0 = clock::now();
    train->zero_grads();
    loss = step(*train, b, opt);
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    best = std::min(best, dt);
    total += dt;
  }
  const double tokens = (double)batch * seq;
  const double Q = c.q_dim(), KV = c.kv_dim(), C = hidden, I = c.intermediate_size;
  const double matmul_params = layers * (C * (Q + 2 * KV) + Q * C + 3 * C * I) + (double)vocab * C;
  const double flops = 6 * matmul_params * tokens + 6.0 * layers * Q * seq * tokens;  // causal: T/2 keys
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double mean = total / steps;
  std::printf("{\"impl\": \"longctx\", \"hidden\": %d, \"layers\": %d, \"seq\": %d, \"batch\": %d, "
              "\"threads\": %d, \"checkpoint\": %d, \"step_s\": %.4f, \"best_step_s\": %.4f, "
              "\"tokens_per_s\": %.1f, \"gflops\": %.2f, \"peak_rss_mb\": %.1f, \"activation_mb\": %.1f, \"params\": %lld, "
              "\"loss\": %.4f}\n",
              hidden, layers, seq, batch, threads, checkpoint, mean, best, tokens / best, flops / best / 1e9,
              ru.ru_maxrss / 1024.0, train->activation_bytes() / 1048576.0, (long long)m->num_params(),
              loss);
  return 0;
}
