// Generation speed of the CPU engine with a KV cache: prefill tokens/s (the prompt in chunks) and
// decode tokens/s (one token per step, greedy), for one random-weight configuration.
// Prints one JSON line; the best of `--rounds` runs (the machine is shared: best-of is the least
// noisy figure).
// Usage: bench_generate [--hidden 512 --layers 8 --heads 8 --kv-heads 8 --vocab 32000
//                        --prompt 512 --new 64 --threads 2 --rounds 3]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_util.h"
#include "core/hash.h"
#include "kernels/cpu/threads.h"
#include "model/generate.h"

using namespace longctx::model;

int main(int argc, char** argv) {
  int hidden = 512, layers = 8, heads = 8, kv_heads = 0, vocab = 32000, prompt_len = 512;
  int new_tokens = 64, threads = 2, rounds = 3;
  if (!parse_int_flags(argc, argv, {{"hidden", &hidden}, {"layers", &layers}, {"heads", &heads},
                                     {"kv-heads", &kv_heads}, {"vocab", &vocab},
                                     {"prompt", &prompt_len}, {"new", &new_tokens},
                                     {"threads", &threads}, {"rounds", &rounds}}))
    return 2;
  longctx::cpu::set_num_threads(threads);
  LlamaConfig c;
  c.vocab_size = vocab, c.hidden_size = hidden, c.num_hidden_layers = layers;
  c.num_attention_heads = heads, c.num_key_value_heads = kv_heads > 0 ? kv_heads : heads;
  c.intermediate_size = (hidden * 8 / 3 + 63) / 64 * 64;  // LLaMA's 8/3 ratio
  c.max_position_embeddings = prompt_len + new_tokens;
  auto m = LlamaModel::create(c);
  if (!m.is_ok()) {
    std::fprintf(stderr, "%s\n", m.status().message().c_str());
    return 1;
  }
  init_params(c, 1, 0.02f, m->params());
  longctx::Rng rng(7);
  std::vector<int32_t> prompt(prompt_len);
  for (auto& x : prompt) x = (int32_t)rng.below(vocab);
  SamplingOptions opt;
  opt.max_new_tokens = new_tokens;
  double best_prefill = 1e30, best_decode = 1e30;
  size_t generated = 0;
  for (int r = 0; r < rounds; r++) {
    auto res = generate(*m, prompt, opt);
    if (!res.is_ok()) {
      std::fprintf(stderr, "%s\n", res.status().message().c_str());
      return 1;
    }
    best_prefill = std::min(best_prefill, res->prefill_seconds);
    best_decode = std::min(best_decode, res->decode_seconds);
    generated = res->tokens.size();
  }
  // decode_seconds covers generated - 1 forward steps (the first token comes from the prefill)
  std::printf("{\"impl\": \"longctx\", \"hidden\": %d, \"layers\": %d, \"prompt\": %d, \"new\": %zu, "
              "\"threads\": %d, \"prefill_tokens_per_s\": %.1f, \"decode_tokens_per_s\": %.2f}\n",
              hidden, layers, prompt_len, generated, threads, prompt_len / best_prefill,
              (double)(generated > 1 ? generated - 1 : 1) / best_decode);
  return 0;
}
