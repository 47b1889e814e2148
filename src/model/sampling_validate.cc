// SamplingOptions::validate(): the sampling flags of `longctx generate` range-checked against the
// model before any token is computed (core/validate.h), for the CLI and for generate() alike.
#include "core/validate.h"
#include "model/generate.h"

namespace longctx::model {

// Largest prompt chunk one forward pass takes: its activations grow with the chunk.
inline constexpr int kMaxPrefillChunk = 1 << 20;

Status SamplingOptions::validate(const LlamaConfig& c, size_t prompt_tokens) const {
  // Past 100 every softmax of real logits is flat to float precision.
  LONGCTX_RETURN_IF_ERROR(check_range("--temperature", temperature, 0.0f, 100.0f));
  LONGCTX_RETURN_IF_ERROR(check_range("--top-p", top_p, 0.0f, 1.0f));
  LONGCTX_RETURN_IF_ERROR(check_range("--max-new-tokens", max_new_tokens, 0, INT32_MAX));
  LONGCTX_RETURN_IF_ERROR(check_range("--prefill-chunk", prefill_chunk, 1, kMaxPrefillChunk));
  for (int32_t id : stop_ids) LONGCTX_RETURN_IF_ERROR(check_range("stop token id", id, 0, c.vocab_size - 1));
  // Positions the KV cache holds; InferenceSession counts them in an int.
  const uint64_t positions = prompt_tokens + static_cast<uint64_t>(max_new_tokens);
  const uint64_t context = static_cast<uint64_t>(std::max<int64_t>(c.max_position_embeddings, 0));
  if (positions > context && !allow_beyond_context)
    return make_error(ErrorCode::kInvalidArgument,
                      "--max-new-tokens: the prompt's {} tokens + {} new tokens = {} exceed the model's context of {} "
                      "(max_position_embeddings); generate at most {} tokens or pass --allow-beyond-context",
                      prompt_tokens, max_new_tokens, positions, context, context > prompt_tokens ? context - prompt_tokens : 0);
  if (positions > static_cast<uint64_t>(INT32_MAX))
    return make_error(ErrorCode::kInvalidArgument, "--max-new-tokens: the prompt's {} tokens + {} new tokens = {} exceed {} positions",
                      prompt_tokens, max_new_tokens, positions, INT32_MAX);
  // Keys and values (float32) of every layer for every position (generate.h InferenceSession).
  const uint64_t kv_bytes = 2 * sizeof(float) * static_cast<uint64_t>(std::max(c.num_hidden_layers, 0)) * positions *
                            static_cast<uint64_t>(std::max(c.kv_dim(), 0));
  return check_memory(fmt::format("a KV cache of {} positions", positions), kv_bytes);
}

}  // namespace longctx::model
