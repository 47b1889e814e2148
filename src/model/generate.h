// Inference with a KV cache: chunked prefill, then one token per step; greedy,
// temperature and top-p sampling. Logits of every step equal a full recomputation of the
// sequence (tests/model/generate_test.cc).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace longctx::model {

// Generation state for one sequence: keys and values (after RoPE) of every layer for up to
// capacity() positions, plus the activations of one chunk. Runs the same layer function as
// training and scoring (model/forward.h), with keys and values read from the cache.
// Memory: 2 * layers * capacity * kv_dim floats for the cache + activations linear in the chunk.
class InferenceSession {
 public:
  // Refuses max_tokens < 1, more positions than the model's context (context_length below) unless
  // allow_beyond_context (the user asked to run past it, e.g. `generate --allow-beyond-context`),
  // and a cache that would not fit in memory, with an error saying which.
  static Result<InferenceSession> create(const LlamaModel& m, int max_tokens, bool allow_beyond_context = false,
                                         const kernels::Backend& be = kernels::default_backend());
  // Runs tokens ids[0..n) at positions pos() .. pos()+n-1 in chunks of at most prefill_chunk
  // (<= 0: one chunk) and appends them to the cache. logits (V) receives the last token's logits
  // (may be null).
  Status feed(const int32_t* ids, int n, float* logits, int prefill_chunk = 512);
  int pos() const { return pos_; }
  int capacity() const { return max_tokens_; }
  void reset() { pos_ = 0; }

 private:
  InferenceSession(const LlamaModel& m, int max_tokens, const kernels::Backend& be);
  Status forward_chunk(const int32_t* ids, int n, float* logits);
  const LlamaModel* m_;
  const kernels::Backend* be_;
  int max_tokens_;
  int pos_ = 0;
  Arena kv_;    // (L, 2, max_tokens, kv_dim): keys then values of each layer
  Arena work_;  // one chunk's activations (model/forward.h activation table)
};

// Positions a model serves: max_position_embeddings, times the scaling factor for linear and
// dynamic RoPE (whose configs keep the pre-extension length there; YaRN and llama3 configs give
// the extended length itself).
int64_t context_length(const LlamaConfig& c);

struct SamplingOptions {
  float temperature = 0.0f;  // 0 = greedy (argmax)
  float top_p = 1.0f;        // nucleus: smallest set of tokens with probability >= top_p
  uint64_t seed = 0;
  int max_new_tokens = 64;
  std::vector<int32_t> stop_ids;  // e.g. eos; the stop token is not emitted
  int prefill_chunk = 512;
  bool allow_beyond_context = false;  // let prompt + max_new_tokens exceed max_position_embeddings
  // Range checks against the model that will run a prompt of `prompt_tokens` (generate() calls
  // it first; sampling_validate.cc): fields are named by their `longctx generate` flags, and the
  // KV cache must fit in the machine's memory.
  Status validate(const LlamaConfig& c, size_t prompt_tokens) const;
};

// Picks a token from logits (V). u in [0,1) is the uniform draw used when temperature > 0.
int32_t sample_token(const float* logits, int V, float temperature, float top_p, double u);

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated, without the prompt
  bool stopped = false;         // hit a stop id or the callback asked to stop
  double prefill_seconds = 0, decode_seconds = 0;
};

// on_token(token) is called for each new token; returning false stops generation (the CLI
// implements stop strings this way).
Result<GenerateResult> generate(const LlamaModel& m, const std::vector<int32_t>& prompt,
                                const SamplingOptions& opt,
                                const std::function<bool(int32_t)>& on_token = nullptr);

// Streams generated text with stop strings: given the decoding of all tokens so far, returns the
// part that is safe to show (never the start of a possible stop string) and reports a stop when
// one appears (the stop string itself is not shown).
class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  std::string update(const std::string& full, bool* stop);
  // After the last token: everything not yet shown.
  std::string flush(const std::string& full);

 private:
  std::vector<std::string> stops_;
  std::string shown_;
};

}  // namespace longctx::model
