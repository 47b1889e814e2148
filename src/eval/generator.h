// Generation backends of the evaluations (docs/evaluation.md "Backends"): the native engine
// (model/generate.h) and a client of any OpenAI-compatible server's /v1/completions (vLLM,
// llama.cpp's server, TGI, `longctx serve`).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "eval/text_codec.h"
#include "model/model.h"

namespace longctx::eval {

struct GenerationRequest {
  // The prompt: token ids when non-empty (sent as the API's list-of-integers prompt), else text.
  std::vector<int32_t> prompt_ids;
  std::string prompt_text;
  int max_new_tokens = 50;
  double temperature = 0;  // 0: greedy
  double top_p = 1;
  uint64_t seed = 0;
  std::vector<std::string> stop;  // generation ends before the first occurrence of any of these
};

struct Completion {
  std::string text;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string finish_reason;  // "stop" (end of sequence or a stop string) or "length"
};

// A piece of generated text as it becomes final (streaming); returning false cancels.
using TextSink = std::function<bool(std::string_view piece)>;

class Generator {
 public:
  virtual ~Generator() = default;
  virtual Result<Completion> complete(const GenerationRequest& req, const TextSink& on_text = nullptr) = 0;
  // Positions the model serves (prompt + new tokens), when known.
  virtual std::optional<int64_t> context_length() const = 0;
  // True when complete() may run on several threads at once (remote backends).
  virtual bool concurrent() const = 0;
  virtual std::string describe() const = 0;
};

// The native engine: greedy or sampled generation with a KV cache, stopping at the tokenizer's
// EOS and at stop strings. A text prompt is encoded with BOS first (as the OpenAI-compatible
// servers do). `prefill_chunk` tokens per prefill step.
class NativeGenerator : public Generator {
 public:
  NativeGenerator(const model::LlamaModel& m, std::shared_ptr<const Tokenizer> tok, std::string name,
                  int prefill_chunk = 512);
  Result<Completion> complete(const GenerationRequest& req, const TextSink& on_text = nullptr) override;
  std::optional<int64_t> context_length() const override;
  bool concurrent() const override { return false; }
  std::string describe() const override { return "native engine: " + name_; }
  Result<std::vector<int32_t>> encode_prompt(const GenerationRequest& req) const;
  const model::LlamaModel& model() const { return *m_; }
  const Tokenizer& tokenizer() const { return *tok_; }
  // Run prompts past the model's context (max_position_embeddings and its RoPE scaling): the
  // generator then reports no context length, so no cell is skipped for its length. For showing
  // how a model fails beyond the length it was trained at (the base model of a study).
  void set_allow_beyond_context(bool allow) { allow_beyond_context_ = allow; }

 private:
  const model::LlamaModel* m_;
  std::shared_ptr<const Tokenizer> tok_;
  std::string name_;
  int prefill_chunk_;
  bool allow_beyond_context_ = false;
};

struct HttpClientConfig {
  std::string endpoint;    // "http://127.0.0.1:8000" or ".../v1"; https is supported
  std::string model_name;  // the "model" field of each request
  std::string api_key;     // sent as "Authorization: Bearer KEY" when not empty
  double timeout_s = 600;  // connect, read and write timeouts of each attempt
  int max_retries = 5;     // further attempts after a connection error, a timeout, 429 or 5xx
  double backoff_s = 1.0;  // wait before retry k (k = 1, 2, ...) is backoff_s * 2^(k-1), at most 60 s
  std::optional<int64_t> context_length;  // when the user knows it (--context-length)
  Status validate() const;
};

// POSTs {model, prompt, max_tokens, temperature, top_p, stop, seed} to <endpoint>/v1/completions
// and reads choices[0].text and usage. Safe to call from several threads (one connection per call).
class HttpGenerator : public Generator {
 public:
  explicit HttpGenerator(HttpClientConfig cfg);
  Result<Completion> complete(const GenerationRequest& req, const TextSink& on_text = nullptr) override;
  std::optional<int64_t> context_length() const override { return cfg_.context_length; }
  bool concurrent() const override { return true; }
  std::string describe() const override { return cfg_.model_name + " at " + cfg_.endpoint; }
  // Attempts made by the last complete() calls together (tests: retries happened).
  int64_t attempts() const { return attempts_; }

 private:
  HttpClientConfig cfg_;
  std::string base_, path_;
  std::atomic<int64_t> attempts_{0};
};

// Splits "http://host:port/prefix" into ("http://host:port", "/prefix/completions"), accepting a
// prefix that ends in "/v1" or not ("/v1" is added when missing).
Result<std::pair<std::string, std::string>> completions_url(const std::string& endpoint);

}  // namespace longctx::eval
