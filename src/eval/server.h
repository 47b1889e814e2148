// `longctx serve`: an OpenAI-compatible completions server for one checkpoint
// (docs/evaluation.md "Serving"). Endpoints: POST /v1/completions (prompt as text, one-element
// list of text, or token ids; max_tokens, temperature, top_p, stop, seed, stream as server-sent
// events; usage counts), GET /v1/models, GET /health. One engine runs one request at a time;
// requests wait in a bounded queue (503 when it is full). Bad requests get a 4xx with OpenAI's
// error shape {"error": {"message", "type", "param", "code"}} and the server keeps serving.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "eval/generator.h"

namespace httplib {
class Server;
}

namespace longctx::eval {

struct ServeConfig {
  std::string host = "127.0.0.1";
  int port = 8000;            // 0: any free port (bind() returns it)
  std::string model_name;     // the id /v1/models lists (any "model" value is accepted)
  int queue_capacity = 16;    // requests waiting for the engine besides the one running
  int default_max_tokens = 16;  // OpenAI's default for /v1/completions
  int64_t max_body_bytes = 256LL << 20;
  // Runs first on the engine's thread, e.g. to give it the caller's kernel thread count (OpenMP
  // settings are per thread: a new thread starts with the defaults).
  std::function<void()> engine_thread_init;
  Status validate() const;
};

// A request checked against the model, ready for the engine.
struct ParsedCompletion {
  GenerationRequest req;
  bool stream = false;
  int64_t prompt_tokens = 0;
};

// An HTTP-level failure: status + OpenAI error body.
struct ApiError {
  int status = 400;
  std::string message, type = "invalid_request_error", param, code;
  nlohmann::json body() const;
};

class CompletionServer {
 public:
  CompletionServer(NativeGenerator& gen, ServeConfig cfg);
  ~CompletionServer();
  // Binds the socket; returns the port (useful with port 0).
  Result<int> bind();
  // Serves until stop() (from any thread or a signal-watching thread).
  Status listen();
  void stop();

  // Request parsing, exposed for tests: the error when the body is not a valid request.
  std::variant<ParsedCompletion, ApiError> parse_request(const std::string& body) const;
  int64_t served() const { return served_; }
  int64_t rejected_busy() const { return rejected_busy_; }

 private:
  struct Job;
  void worker_loop();
  bool enqueue(std::shared_ptr<Job> job);
  void routes();
  nlohmann::json completion_json(const Completion& c, const std::string& id, int64_t created) const;

  NativeGenerator* gen_;
  ServeConfig cfg_;
  std::unique_ptr<httplib::Server> svr_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  bool busy_ = false;  // the engine is running a request
  std::thread worker_;
  std::atomic<int64_t> next_id_{1}, served_{0}, rejected_busy_{0};
};

}  // namespace longctx::eval
