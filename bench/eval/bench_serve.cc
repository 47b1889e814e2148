// Requests per second of `longctx serve`'s server on loopback: an in-process server on a tiny
// random model (so the HTTP layer and the queue dominate) and C client threads each posting
// completions of `--max-tokens` tokens. Prints one JSON line per concurrency.
// Usage: bench_serve MODEL_DIR [--requests 400 --max-tokens 1 --threads 1]
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "eval/server.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"

using namespace longctx;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_serve MODEL_DIR [--requests N] [--max-tokens N]\n");
    return 2;
  }
  int requests = 400, max_tokens = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--requests") requests = std::atoi(argv[i + 1]);
    else if (f == "--max-tokens") max_tokens = std::atoi(argv[i + 1]);
  }
  cpu::set_num_threads(1);
  auto m = model::load_checkpoint(argv[1]);
  auto tok = load_tokenizer(argv[1]);
  if (!m.is_ok() || !tok.is_ok()) {
    std::fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  eval::NativeGenerator gen(*m, std::shared_ptr<const Tokenizer>(std::move(*tok)), "bench");
  eval::ServeConfig c;
  c.port = 0;
  c.model_name = "bench";
  c.queue_capacity = 64;
  c.engine_thread_init = [] { cpu::set_num_threads(1); };
  eval::CompletionServer server(gen, c);
  auto port = server.bind();
  if (!port.is_ok()) return 1;
  std::thread srv([&] { (void)server.listen(); });
  const std::string body = "{\"prompt\": \"The sky is\", \"max_tokens\": " + std::to_string(max_tokens) +
                           ", \"temperature\": 0}";
  for (int conc : {1, 4, 16}) {
    std::atomic<int> next{0}, ok{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> clients;
    for (int t = 0; t < conc; ++t) {
      clients.emplace_back([&] {
        httplib::Client cli("127.0.0.1", *port);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);
        cli.set_read_timeout(120, 0);
        while (next++ < requests) {
          auto r = cli.Post("/v1/completions", body, "application/json");
          if (r && r->status == 200) ++ok;
        }
      });
    }
    for (auto& t : clients) t.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"bench\": \"serve\", \"concurrency\": %d, \"requests\": %d, \"ok\": %d, \"max_tokens\": %d, "
                "\"seconds\": %.3f, \"requests_per_s\": %.1f}\n",
                conc, requests, ok.load(), max_tokens, s, ok.load() / s);
    std::fflush(stdout);
  }
  server.stop();
  srv.join();
  return 0;
}
