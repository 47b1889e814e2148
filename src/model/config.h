// LLaMA configuration: every field of Hugging Face's LlamaForCausalLM config.json that the engine
// uses (formats.md "HF config.json"), with RoPE scaling read from either `rope_scaling` or the
// newer `rope_parameters`.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace longctx::model {

enum class RopeType { kDefault, kLinear, kDynamic, kYarn, kLlama3 };

const char* rope_type_name(RopeType t);
Result<RopeType> parse_rope_type(const std::string& name);

struct RopeScaling {
  RopeType type = RopeType::kDefault;
  double factor = 1.0;
  // YaRN / llama3: the pretraining context; 0 = use max_position_embeddings.
  int64_t original_max_position_embeddings = 0;
  // YaRN (defaults from the YaRN paper / HF); attention_factor 0 = derived from factor.
  double attention_factor = 0.0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 0.0;          // DeepSeek-style YaRN variant, 0 = unset
  double mscale_all_dim = 0.0;  // 0 = unset
  // llama3
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
};

struct LlamaConfig {
  int vocab_size = 32000;
  int hidden_size = 4096;
  int intermediate_size = 11008;
  int num_hidden_layers = 32;
  int num_attention_heads = 32;
  int num_key_value_heads = 32;
  int head_dim = 0;  // 0 = hidden_size / num_attention_heads
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 4096;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  int bos_token_id = 1;
  int eos_token_id = 2;
  std::string torch_dtype = "float32";

  int head_dim_or_default() const {
    return head_dim > 0 ? head_dim : hidden_size / num_attention_heads;
  }
  int q_dim() const { return num_attention_heads * head_dim_or_default(); }
  int kv_dim() const { return num_key_value_heads * head_dim_or_default(); }
};

// Checks the invariants the engine relies on (positive sizes, heads divide evenly, even
// head_dim, known rope type with a factor >= 1 where needed).
Status validate_config(const LlamaConfig& c);

Result<LlamaConfig> config_from_json(const nlohmann::json& j);
nlohmann::json config_to_json(const LlamaConfig& c);
Result<LlamaConfig> read_config(const std::string& path);
Status write_config(const std::string& path, const LlamaConfig& c);

}  // namespace longctx::model
