#include "cli/cmd_serve.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cli/command.h"
#include "eval/server.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {

Status ServeOptions::validate() const {
  if (model.empty()) return make_error(ErrorCode::kInvalidArgument, "--model is required");
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  LONGCTX_RETURN_IF_ERROR(check_range("--prefill-chunk", prefill_chunk, 1, 1 << 20));
  eval::ServeConfig c;
  c.host = host;
  c.port = port;
  c.queue_capacity = queue;
  c.default_max_tokens = default_max_tokens;
  return c.validate();
}

namespace {

// SIGTERM and SIGINT stop the server: the handler (any thread may receive the signal: OpenBLAS
// starts its threads when the library loads) writes the signal number to a pipe, and a watcher
// thread reading the pipe calls stop(). Only write() runs in the handler (async-signal-safe).
int g_signal_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  unsigned char b = static_cast<unsigned char>(sig);
  ssize_t n = write(g_signal_pipe[1], &b, 1);
  (void)n;
}

class StopSignals {
 public:
  StopSignals() {
    if (pipe(g_signal_pipe) != 0) return;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
    ok_ = true;
  }
  ~StopSignals() {
    if (!ok_) return;
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
    close(g_signal_pipe[0]);
    close(g_signal_pipe[1]);
  }
  bool ok() const { return ok_; }
  // Blocks until a signal arrives (returns it) or wake() is called (returns 0).
  int wait() const {
    unsigned char b = 0;
    while (read(g_signal_pipe[0], &b, 1) < 0 && errno == EINTR) {
    }
    return b;
  }
  void wake() const { on_stop_signal(0); }

 private:
  bool ok_ = false;
  struct sigaction old_term_ {}, old_int_ {};
};

Result<std::unique_ptr<Tokenizer>> serve_tokenizer(const ServeOptions& o) {
  return load_tokenizer(o.tokenizer.empty() ? o.model : o.tokenizer);
}

}  // namespace

Status run_serve(const ServeOptions& o) {
  cpu::set_num_threads(o.threads);
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel m, model::load_checkpoint(o.model));
  LONGCTX_ASSIGN_OR_RETURN(auto tok, serve_tokenizer(o));
  const std::string name = o.name.empty() ? std::filesystem::path(o.model).lexically_normal().filename().string() : o.name;
  eval::NativeGenerator gen(m, std::shared_ptr<const Tokenizer>(std::move(tok)), name, o.prefill_chunk);
  eval::ServeConfig c;
  c.host = o.host;
  c.port = o.port;
  c.model_name = name;
  c.queue_capacity = o.queue;
  c.default_max_tokens = o.default_max_tokens;
  c.engine_thread_init = [threads = o.threads] { cpu::set_num_threads(threads); };

  eval::CompletionServer server(gen, c);
  LONGCTX_ASSIGN_OR_RETURN(int port, server.bind());
  StopSignals signals;
  if (!signals.ok()) return make_error(ErrorCode::kIo, "cannot create the signal pipe");
  std::thread watcher([&] {
    int sig = signals.wait();
    if (sig != 0) fmt::print(stderr, "longctx serve: {} received, shutting down\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop();
  });
  fmt::print("serving '{}' ({} positions) on http://{}:{}/v1 (POST /v1/completions, GET /v1/models, GET /health)\n", name,
             model::context_length(m.config()), o.host, port);
  std::fflush(stdout);
  Status st = server.listen();
  signals.wake();  // the server may have stopped by itself: let the watcher end
  watcher.join();
  fmt::print(stderr, "longctx serve: served {} requests ({} refused as busy)\n", server.served(), server.rejected_busy());
  return st;
}

void register_serve_commands(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* c = app.add_subcommand("serve", "OpenAI-compatible completions server (/v1/completions, /v1/models, /health)");
  c->add_option("--model", o->model, "Model folder");
  c->add_option("--tokenizer", o->tokenizer, "tokenizer.model, tokenizer.json or a folder (default: the model folder's)");
  c->add_option("--host", o->host, "Address to bind (127.0.0.1: this machine only)")->capture_default_str();
  add_number(c, "--port", o->port, "Port (0: any free port, printed at start)");
  c->add_option("--name", o->name, "Model id in /v1/models and answers (default: the folder name)");
  add_number(c, "--queue", o->queue, "Requests waiting for the engine before 503 (besides the running one)");
  add_number(c, "--default-max-tokens", o->default_max_tokens, "max_tokens when a request gives none (OpenAI's 16)");
  add_number(c, "--threads", o->threads, "Threads (0 = all cores)");
  add_number(c, "--prefill-chunk", o->prefill_chunk, "Prompt tokens per forward pass");
  set_examples(c, {"longctx serve --model runs/long --port 8000"},
               "Then: curl http://127.0.0.1:8000/v1/completions -d '{\"prompt\": \"Hello\", \"max_tokens\": 16}'");
  set_run(c, o, run_serve);
}

}  // namespace longctx::cli
