#include "eval/server.h"

#include <httplib.h>

#include <chrono>
#include <future>

#include <fmt/format.h>

#include "core/validate.h"
#include "model/generate.h"

namespace longctx::eval {

Status ServeConfig::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range<int>("--port", port, 0, 65535));
  LONGCTX_RETURN_IF_ERROR(check_range<int>("--queue", queue_capacity, 0, 4096));
  LONGCTX_RETURN_IF_ERROR(check_range<int>("--default-max-tokens", default_max_tokens, 1, 1 << 20));
  if (host.empty()) return make_error(ErrorCode::kInvalidArgument, "--host is empty");
  return Status::ok();
}

nlohmann::json ApiError::body() const {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
            {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
}

// One request for the engine. Non-streamed requests wait on `result`; streamed ones read
// `pieces` as the engine produces them.
struct CompletionServer::Job {
  ParsedCompletion parsed;
  std::promise<Result<Completion>> result;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> pieces;
  bool finished = false;
  std::optional<Result<Completion>> outcome;
  std::atomic<bool> cancelled{false};
};

CompletionServer::CompletionServer(NativeGenerator& gen, ServeConfig cfg)
    : gen_(&gen), cfg_(std::move(cfg)), svr_(std::make_unique<httplib::Server>()) {
  // Handler threads: the queued requests, the running one and a few for /health and refusals.
  const size_t threads = static_cast<size_t>(cfg_.queue_capacity) + 4;
  svr_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_->set_payload_max_length(static_cast<size_t>(cfg_.max_body_bytes));
  svr_->set_tcp_nodelay(true);  // small answers go out at once (no Nagle delay on keep-alive)
  routes();
  worker_ = std::thread([this] { worker_loop(); });
}

CompletionServer::~CompletionServer() {
  stop();
  if (worker_.joinable()) worker_.join();
}

Result<int> CompletionServer::bind() {
  int port = cfg_.port;
  if (port == 0) {
    port = svr_->bind_to_any_port(cfg_.host);
    if (port < 0) return make_error(ErrorCode::kIo, "cannot bind {}:<any port>", cfg_.host);
  } else if (!svr_->bind_to_port(cfg_.host, port)) {
    return make_error(ErrorCode::kIo, "cannot bind {}:{} (in use, or not an address of this machine)", cfg_.host, port);
  }
  return port;
}

Status CompletionServer::listen() {
  if (!svr_->listen_after_bind() && !stopping_) return make_error(ErrorCode::kIo, "the server stopped with an error");
  return Status::ok();
}

void CompletionServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  svr_->stop();
}

bool CompletionServer::enqueue(std::shared_ptr<Job> job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_ || queue_.size() >= static_cast<size_t>(cfg_.queue_capacity) + (busy_ ? 0 : 1)) return false;
  queue_.push_back(std::move(job));
  cv_.notify_one();
  return true;
}

void CompletionServer::worker_loop() {
  if (cfg_.engine_thread_init) cfg_.engine_thread_init();
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
      busy_ = true;
    }
    TextSink sink = nullptr;
    if (job->parsed.stream) {
      sink = [job](std::string_view piece) {
        if (job->cancelled) return false;
        std::lock_guard<std::mutex> lock(job->mu);
        job->pieces.emplace_back(piece);
        job->cv.notify_all();
        return true;
      };
    }
    auto r = gen_->complete(job->parsed.req, sink);
    ++served_;
    {
      std::lock_guard<std::mutex> lock(job->mu);
      job->finished = true;
      job->outcome = r;
      job->cv.notify_all();
    }
    job->result.set_value(std::move(r));
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
  }
}

namespace {

ApiError bad(std::string message, std::string param = {}) {
  ApiError e;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

void send_json(httplib::Response& res, int status, const nlohmann::json& j) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status, e.body()); }

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::variant<ParsedCompletion, ApiError> CompletionServer::parse_request(const std::string& body) const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return bad("We could not parse the JSON body of your request: it is not valid JSON.");
  if (!j.is_object()) return bad("The request body must be a JSON object.");
  ParsedCompletion p;
  GenerationRequest& r = p.req;
  const int64_t V = gen_->model().config().vocab_size;

  if (!j.contains("prompt")) return bad("'prompt' is a required property", "prompt");
  const auto& pr = j["prompt"];
  if (pr.is_string()) {
    r.prompt_text = pr.get<std::string>();
  } else if (pr.is_array() && pr.size() == 1 && pr[0].is_string()) {
    r.prompt_text = pr[0].get<std::string>();
  } else if (pr.is_array() && !pr.empty() && pr[0].is_number_integer()) {
    for (size_t i = 0; i < pr.size(); ++i) {
      if (!pr[i].is_number_integer()) return bad(fmt::format("prompt[{}]: expected a token id (an integer)", i), "prompt");
      int64_t v = pr[i].get<int64_t>();
      if (v < 0 || v >= V) return bad(fmt::format("prompt[{}] = {} is not a token id of this model (0..{})", i, v, V - 1), "prompt");
      r.prompt_ids.push_back(static_cast<int32_t>(v));
    }
  } else if (pr.is_array() && pr.size() > 1) {
    return bad("Only one prompt per request is supported (a string, a list of one string, or a list of token ids).",
               "prompt");
  } else {
    return bad("'prompt' must be a string, a list of one string, or a non-empty list of token ids", "prompt");
  }

  auto integer = [&](const char* name, int64_t lo, int64_t hi, int64_t dflt, int64_t* out) -> std::optional<ApiError> {
    if (!j.contains(name) || j[name].is_null()) {
      *out = dflt;
      return std::nullopt;
    }
    if (!j[name].is_number_integer()) return bad(fmt::format("'{}' must be an integer", name), name);
    int64_t v = j[name].get<int64_t>();
    if (v < lo || v > hi) return bad(fmt::format("'{}' = {} is outside [{}, {}]", name, v, lo, hi), name);
    *out = v;
    return std::nullopt;
  };
  auto number = [&](const char* name, double lo, double hi, double dflt, double* out) -> std::optional<ApiError> {
    if (!j.contains(name) || j[name].is_null()) {
      *out = dflt;
      return std::nullopt;
    }
    if (!j[name].is_number()) return bad(fmt::format("'{}' must be a number", name), name);
    double v = j[name].get<double>();
    if (!(v >= lo && v <= hi)) return bad(fmt::format("'{}' = {} is outside [{}, {}]", name, v, lo, hi), name);
    *out = v;
    return std::nullopt;
  };
  int64_t max_tokens = 0, n = 1, seed = 0;
  if (auto e = integer("max_tokens", 0, 1 << 30, cfg_.default_max_tokens, &max_tokens)) return *e;
  if (auto e = integer("n", 1, 1, 1, &n)) return *e;
  if (j.contains("seed") && j["seed"].is_number_unsigned()) seed = static_cast<int64_t>(j["seed"].get<uint64_t>() >> 1);
  else if (auto e = integer("seed", INT64_MIN, INT64_MAX, 0, &seed)) return *e;
  if (auto e = number("temperature", 0, 2, 1.0, &r.temperature)) return *e;
  if (auto e = number("top_p", 0, 1, 1.0, &r.top_p)) return *e;
  if (r.top_p <= 0) return bad("'top_p' must be greater than 0", "top_p");
  r.max_new_tokens = static_cast<int>(max_tokens);
  r.seed = static_cast<uint64_t>(seed);
  if (j.contains("stop") && !j["stop"].is_null()) {
    const auto& s = j["stop"];
    if (s.is_string()) {
      r.stop.push_back(s.get<std::string>());
    } else if (s.is_array() && s.size() <= 4) {
      for (const auto& x : s) {
        if (!x.is_string()) return bad("'stop' must be a string or a list of up to 4 strings", "stop");
        r.stop.push_back(x.get<std::string>());
      }
    } else {
      return bad("'stop' must be a string or a list of up to 4 strings", "stop");
    }
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return bad("'stream' must be a boolean", "stream");
    p.stream = j["stream"].get<bool>();
  }
  if (j.contains("model") && !j["model"].is_null() && !j["model"].is_string()) return bad("'model' must be a string", "model");
  if (j.contains("logprobs") && !j["logprobs"].is_null()) return bad("'logprobs' is not supported by this server", "logprobs");
  if (j.contains("echo") && j["echo"].is_boolean() && j["echo"].get<bool>()) return bad("'echo' is not supported by this server", "echo");
  if (j.contains("best_of") && !j["best_of"].is_null() && !(j["best_of"].is_number_integer() && j["best_of"].get<int64_t>() == 1)) {
    return bad("'best_of' must be 1", "best_of");
  }

  auto ids = gen_->encode_prompt(r);
  if (!ids.is_ok()) return bad(ids.status().message(), "prompt");
  p.prompt_tokens = static_cast<int64_t>(ids->size());
  r.prompt_ids = std::move(*ids);
  r.prompt_text.clear();
  const int64_t ctx = *gen_->context_length();
  if (p.prompt_tokens + max_tokens > ctx) {
    ApiError e = bad(fmt::format("This model's maximum context length is {} tokens, however you requested {} tokens "
                                 "({} in your prompt; {} for the completion). Please reduce your prompt; or completion "
                                 "length.",
                                 ctx, p.prompt_tokens + max_tokens, p.prompt_tokens, max_tokens),
                     "prompt");
    e.code = "context_length_exceeded";
    return e;
  }
  return p;
}

nlohmann::json CompletionServer::completion_json(const Completion& c, const std::string& id, int64_t created) const {
  return {{"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", cfg_.model_name},
          {"choices", {{{"text", c.text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", c.finish_reason}}}},
          {"usage",
           {{"prompt_tokens", c.prompt_tokens},
            {"completion_tokens", c.completion_tokens},
            {"total_tokens", c.prompt_tokens + c.completion_tokens}}}};
}

void CompletionServer::routes() {
  svr_->Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
  svr_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200,
              {{"object", "list"},
               {"data", {{{"id", cfg_.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "longctx"}}}}});
  });
  svr_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    ApiError e;
    e.status = res.status;
    e.message = res.status == 404 ? fmt::format("Unknown path: {} {}", req.method, req.path)
                                  : fmt::format("HTTP {}", res.status);
    e.type = res.status >= 500 ? "server_error" : "invalid_request_error";
    send_error(res, e);
  });
  svr_->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    ApiError e;
    e.status = 500;
    e.type = "server_error";
    e.message = "internal error";
    send_error(res, e);
  });
  svr_->Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    auto parsed = parse_request(req.body);
    if (auto* e = std::get_if<ApiError>(&parsed)) return send_error(res, *e);
    auto job = std::make_shared<Job>();
    job->parsed = std::move(std::get<ParsedCompletion>(parsed));
    auto future = job->result.get_future();
    if (!enqueue(job)) {
      ++rejected_busy_;
      ApiError e;
      e.status = 503;
      e.type = "server_error";
      e.message = fmt::format("The server is busy ({} requests queued); retry later.", cfg_.queue_capacity);
      return send_error(res, e);
    }
    const std::string id = fmt::format("cmpl-{}", next_id_++);
    const int64_t created = now_seconds();
    if (!job->parsed.stream) {
      auto r = future.get();
      if (!r.is_ok()) {
        ApiError e;
        e.status = 500;
        e.type = "server_error";
        e.message = r.status().message();
        return send_error(res, e);
      }
      return send_json(res, 200, completion_json(*r, id, created));
    }
    // Server-sent events: one chunk per piece of text, a last chunk with the finish reason and
    // usage, then "data: [DONE]".
    std::string model = cfg_.model_name;
    res.set_chunked_content_provider(
        "text/event-stream", [job, id, created, model](size_t, httplib::DataSink& sink) {
          auto chunk = [&](const nlohmann::json& choice, const nlohmann::json* usage) {
            nlohmann::json j = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                                {"choices", {choice}}};
            if (usage) j["usage"] = *usage;
            std::string line = "data: " + j.dump() + "\n\n";
            return sink.write(line.data(), line.size());
          };
          std::unique_lock<std::mutex> lock(job->mu);
          job->cv.wait(lock, [&] { return job->finished || !job->pieces.empty(); });
          while (!job->pieces.empty()) {
            std::string piece = std::move(job->pieces.front());
            job->pieces.pop_front();
            lock.unlock();
            bool ok = chunk({{"text", piece}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}}, nullptr);
            lock.lock();
            if (!ok) {
              job->cancelled = true;
              return false;
            }
          }
          if (!job->finished) return true;
          const auto& out = *job->outcome;
          if (!out.is_ok()) {
            ApiError e;
            e.status = 500;
            e.type = "server_error";
            e.message = out.status().message();
            std::string line = "data: " + e.body().dump() + "\n\n";
            sink.write(line.data(), line.size());
          } else {
            nlohmann::json usage = {{"prompt_tokens", out->prompt_tokens},
                                    {"completion_tokens", out->completion_tokens},
                                    {"total_tokens", out->prompt_tokens + out->completion_tokens}};
            chunk({{"text", ""}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", out->finish_reason}}, &usage);
          }
          static const std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
          sink.done();
          return true;
        },
        [job](bool success) {
          if (!success) job->cancelled = true;
        });
  });
}

}  // namespace longctx::eval
