#include "eval/generator.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/validate.h"
#include "model/generate.h"

namespace longctx::eval {

// ---- native ----------------------------------------------------------------------------------

NativeGenerator::NativeGenerator(const model::LlamaModel& m, std::shared_ptr<const Tokenizer> tok, std::string name,
                                 int prefill_chunk)
    : m_(&m), tok_(std::move(tok)), name_(std::move(name)), prefill_chunk_(prefill_chunk) {}

std::optional<int64_t> NativeGenerator::context_length() const {
  if (allow_beyond_context_) return std::nullopt;
  return model::context_length(m_->config());
}

Result<std::vector<int32_t>> NativeGenerator::encode_prompt(const GenerationRequest& req) const {
  std::vector<int32_t> ids;
  const int64_t V = m_->config().vocab_size;
  if (!req.prompt_ids.empty()) {
    for (size_t i = 0; i < req.prompt_ids.size(); ++i) {
      if (req.prompt_ids[i] < 0 || req.prompt_ids[i] >= V) {
        return make_error(ErrorCode::kInvalidArgument, "prompt token {} is {}, outside the vocabulary [0, {})", i,
                          req.prompt_ids[i], V);
      }
    }
    return req.prompt_ids;
  }
  if (tok_->bos_id() >= 0) ids.push_back(tok_->bos_id());
  std::vector<uint32_t> u;
  LONGCTX_RETURN_IF_ERROR(tok_->encode(req.prompt_text, &u));
  for (uint32_t v : u) {
    if (static_cast<int64_t>(v) >= V) {
      return make_error(ErrorCode::kInvalidArgument, "the tokenizer gave id {} for a vocabulary of {}", v, V);
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

namespace {
bool ends_with_partial_character(const std::string& s) { return s.ends_with("\xEF\xBF\xBD"); }
}  // namespace

Result<Completion> NativeGenerator::complete(const GenerationRequest& req, const TextSink& on_text) {
  LONGCTX_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, encode_prompt(req));
  model::SamplingOptions so;
  so.temperature = static_cast<float>(req.temperature);
  so.top_p = static_cast<float>(req.top_p);
  so.seed = req.seed;
  so.max_new_tokens = req.max_new_tokens;
  so.prefill_chunk = prefill_chunk_;
  so.allow_beyond_context = allow_beyond_context_;
  if (tok_->eos_id() >= 0) so.stop_ids.push_back(tok_->eos_id());

  // Text is decoded from all generated tokens at each step (decoding is context dependent:
  // leading spaces, multi-byte characters split over tokens); the filter holds back anything that
  // could still become a stop string.
  model::StopStringFilter filter(req.stop);
  std::vector<uint32_t> gen;
  std::string full, shown;
  bool stop_string = false, cancelled = false;
  Status decode_error;
  auto on_token = [&](int32_t t) {
    gen.push_back(static_cast<uint32_t>(t));
    auto text = tok_->decode(gen, /*skip_special=*/true);
    if (!text.is_ok()) {
      decode_error = text.status();
      return false;
    }
    full = std::move(*text);
    if (ends_with_partial_character(full)) return true;
    std::string piece = filter.update(full, &stop_string);
    shown += piece;
    if (on_text && !piece.empty() && !on_text(piece)) {
      cancelled = true;
      return false;
    }
    return !stop_string;
  };
  LONGCTX_ASSIGN_OR_RETURN(model::GenerateResult r, model::generate(*m_, prompt, so, on_token));
  LONGCTX_RETURN_IF_ERROR(decode_error);
  if (cancelled) return make_error(ErrorCode::kInternal, "generation cancelled by the receiver");
  if (!stop_string) {
    std::string rest = filter.flush(full);
    shown += rest;
    if (on_text && !rest.empty()) on_text(rest);
  }
  Completion c;
  c.text = std::move(shown);
  c.prompt_tokens = static_cast<int64_t>(prompt.size());
  c.completion_tokens = static_cast<int64_t>(r.tokens.size());
  c.finish_reason = r.stopped || stop_string ? "stop" : "length";
  return c;
}

// ---- OpenAI-compatible HTTP client -------------------------------------------------------------

Status HttpClientConfig::validate() const {
  if (endpoint.empty()) return make_error(ErrorCode::kInvalidArgument, "--endpoint is empty");
  if (model_name.empty()) return make_error(ErrorCode::kInvalidArgument, "--model-name is required with --endpoint");
  LONGCTX_RETURN_IF_ERROR(check_range("--timeout", timeout_s, 0.001, 86400.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--retries", max_retries, 0, 100));
  LONGCTX_RETURN_IF_ERROR(check_range("--backoff", backoff_s, 0.0, 60.0));
  if (context_length) LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--context-length", *context_length, 1, int64_t{1} << 31));
  return completions_url(endpoint).status();
}

Result<std::pair<std::string, std::string>> completions_url(const std::string& endpoint) {
  std::string e = endpoint;
  size_t scheme = e.find("://");
  if (scheme == std::string::npos || (e.compare(0, scheme, "http") != 0 && e.compare(0, scheme, "https") != 0)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--endpoint '{}': expected http://HOST:PORT or https://HOST[:PORT], optionally followed by /v1",
                      endpoint);
  }
  size_t path_at = e.find('/', scheme + 3);
  std::string base = path_at == std::string::npos ? e : e.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "" : e.substr(path_at);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (base.size() <= scheme + 3) return make_error(ErrorCode::kInvalidArgument, "--endpoint '{}': no host", endpoint);
  if (!path.ends_with("/v1")) path += "/v1";
  return std::make_pair(base, path + "/completions");
}

HttpGenerator::HttpGenerator(HttpClientConfig cfg) : cfg_(std::move(cfg)) {
  auto u = completions_url(cfg_.endpoint);
  if (u.is_ok()) std::tie(base_, path_) = *u;
}

namespace {

bool retryable_status(int s) { return s == 408 || s == 429 || s >= 500; }

// The server's own message from an OpenAI-shaped error body, else the body's start.
std::string error_text(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  return body.substr(0, 300);
}

Result<Completion> parse_completion(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorCode::kCorrupt, "the server's answer is not a JSON object: '{}'", body.substr(0, 200));
  }
  if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() || !j["choices"][0].is_object() ||
      !j["choices"][0].contains("text") || !j["choices"][0]["text"].is_string()) {
    return make_error(ErrorCode::kCorrupt, "the server's answer has no choices[0].text: '{}'", body.substr(0, 200));
  }
  Completion c;
  c.text = j["choices"][0]["text"].get<std::string>();
  const auto& ch = j["choices"][0];
  if (ch.contains("finish_reason") && ch["finish_reason"].is_string()) c.finish_reason = ch["finish_reason"].get<std::string>();
  if (j.contains("usage") && j["usage"].is_object()) {
    const auto& u = j["usage"];
    if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) c.prompt_tokens = u["prompt_tokens"].get<int64_t>();
    if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer()) {
      c.completion_tokens = u["completion_tokens"].get<int64_t>();
    }
  }
  return c;
}

}  // namespace

Result<Completion> HttpGenerator::complete(const GenerationRequest& req, const TextSink& on_text) {
  LONGCTX_RETURN_IF_ERROR(cfg_.validate());
  nlohmann::json body = {{"model", cfg_.model_name},
                         {"max_tokens", req.max_new_tokens},
                         {"temperature", req.temperature},
                         {"top_p", req.top_p},
                         {"seed", req.seed},
                         {"stream", false}};
  if (!req.prompt_ids.empty()) body["prompt"] = req.prompt_ids;
  else body["prompt"] = req.prompt_text;
  if (!req.stop.empty()) body["stop"] = req.stop;
  const std::string text = body.dump();
  httplib::Headers headers;
  if (!cfg_.api_key.empty()) headers.emplace("Authorization", "Bearer " + cfg_.api_key);

  const auto secs = static_cast<time_t>(cfg_.timeout_s);
  const auto usecs = static_cast<time_t>((cfg_.timeout_s - std::floor(cfg_.timeout_s)) * 1e6);
  std::string last;
  for (int attempt = 0; attempt <= cfg_.max_retries; ++attempt) {
    if (attempt > 0) {
      double wait = std::min(60.0, cfg_.backoff_s * std::pow(2.0, attempt - 1));
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
    ++attempts_;
    httplib::Client cli(base_);
    cli.set_connection_timeout(secs, usecs);
    cli.set_read_timeout(secs, usecs);
    cli.set_write_timeout(secs, usecs);
    cli.set_tcp_nodelay(true);
    auto res = cli.Post(path_, headers, text, "application/json");
    if (!res) {
      last = fmt::format("{} ({})", httplib::to_string(res.error()), base_ + path_);
      continue;
    }
    if (res->status == 200) {
      LONGCTX_ASSIGN_OR_RETURN(Completion c, parse_completion(res->body));
      if (on_text && !c.text.empty()) on_text(c.text);
      return c;
    }
    last = fmt::format("HTTP {} from {}: {}", res->status, base_ + path_, error_text(res->body));
    if (!retryable_status(res->status)) return Status(ErrorCode::kInvalidArgument, last);
  }
  return make_error(ErrorCode::kIo, "{} attempt(s) failed; the last: {}", cfg_.max_retries + 1, last);
}

}  // namespace longctx::eval
