#include "model/config.h"

#include <limits>
#include <type_traits>

#include "core/json_util.h"

namespace longctx::model {

const char* rope_type_name(RopeType t) {
  switch (t) {
    case RopeType::kDefault: return "default";
    case RopeType::kLinear: return "linear";
    case RopeType::kDynamic: return "dynamic";
    case RopeType::kYarn: return "yarn";
    case RopeType::kLlama3: return "llama3";
  }
  return "?";
}

Result<RopeType> parse_rope_type(const std::string& name) {
  if (name == "default") return RopeType::kDefault;
  if (name == "linear") return RopeType::kLinear;
  if (name == "dynamic") return RopeType::kDynamic;
  if (name == "yarn") return RopeType::kYarn;
  if (name == "llama3") return RopeType::kLlama3;
  return make_error(ErrorCode::kUnsupported,
                    "rope type '{}' is not supported (expected default, linear, dynamic, yarn, "
                    "llama3)",
                    name);
}

Status validate_config(const LlamaConfig& c) {
  auto bad = [](const char* what, auto v) {
    return make_error(ErrorCode::kInvalidArgument, "config: {} must be positive, found {}", what, v);
  };
  if (c.vocab_size <= 0) return bad("vocab_size", c.vocab_size);
  if (c.hidden_size <= 0) return bad("hidden_size", c.hidden_size);
  if (c.intermediate_size <= 0) return bad("intermediate_size", c.intermediate_size);
  if (c.num_hidden_layers <= 0) return bad("num_hidden_layers", c.num_hidden_layers);
  if (c.num_attention_heads <= 0) return bad("num_attention_heads", c.num_attention_heads);
  if (c.num_key_value_heads <= 0) return bad("num_key_value_heads", c.num_key_value_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    return make_error(ErrorCode::kInvalidArgument,
                      "config: num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                      c.num_attention_heads, c.num_key_value_heads);
  if (c.head_dim == 0 && c.hidden_size % c.num_attention_heads != 0)
    return make_error(ErrorCode::kInvalidArgument,
                      "config: hidden_size ({}) is not a multiple of num_attention_heads ({}) and "
                      "head_dim is not given",
                      c.hidden_size, c.num_attention_heads);
  const int hd = c.head_dim_or_default();
  if (hd <= 0 || hd % 2 != 0)
    return make_error(ErrorCode::kInvalidArgument, "config: head_dim must be even and positive, found {}", hd);
  if (c.rms_norm_eps <= 0) return bad("rms_norm_eps", c.rms_norm_eps);
  if (c.rope_theta <= 0) return bad("rope_theta", c.rope_theta);
  if (c.max_position_embeddings <= 0) return bad("max_position_embeddings", c.max_position_embeddings);
  if (c.rope_scaling.type != RopeType::kDefault && c.rope_scaling.factor <= 0)
    return bad("rope_scaling.factor", c.rope_scaling.factor);
  if (c.rope_scaling.type == RopeType::kLlama3 &&
      c.rope_scaling.high_freq_factor <= c.rope_scaling.low_freq_factor)
    return make_error(ErrorCode::kInvalidArgument,
                      "config: llama3 rope needs high_freq_factor ({}) > low_freq_factor ({})",
                      c.rope_scaling.high_freq_factor, c.rope_scaling.low_freq_factor);
  return Status::ok();
}

namespace {

// An integer field must be a JSON integer that T holds exactly: nlohmann's get<int>() would wrap
// 4294967304 to 8 without a word, and converting 1e10 to int is undefined behaviour.
template <typename T>
Status checked_integer(const nlohmann::json& v, const char* key, T* out) {
  bool fits = false;
  if (v.is_number_unsigned()) {
    fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else if (v.is_number_integer()) {
    const int64_t x = v.get<int64_t>();
    fits = x >= static_cast<int64_t>(std::numeric_limits<T>::min()) && x <= static_cast<int64_t>(std::numeric_limits<T>::max());
  }
  if (!fits)
    return make_error(ErrorCode::kCorrupt, "config field '{}': expected an integer in [{}, {}], found {}", key,
                      std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v.dump());
  *out = v.get<T>();
  return Status::ok();
}

template <typename T>
Status get_opt(const nlohmann::json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::ok();
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return checked_integer(*it, key, out);
  } else {
    try {
      *out = it->get<T>();
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kCorrupt, "config field '{}': {}", key, e.what());
    }
    return Status::ok();
  }
}

Status read_rope(const nlohmann::json& r, LlamaConfig* c) {
  if (!r.is_object()) return make_error(ErrorCode::kCorrupt, "config: rope scaling is not an object");
  std::string type;
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "type", &type));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "rope_type", &type));  // newer name wins
  if (type.empty()) type = "default";
  LONGCTX_ASSIGN_OR_RETURN(c->rope_scaling.type, parse_rope_type(type));
  RopeScaling& s = c->rope_scaling;
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "factor", &s.factor));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "original_max_position_embeddings", &s.original_max_position_embeddings));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "attention_factor", &s.attention_factor));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "beta_fast", &s.beta_fast));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "beta_slow", &s.beta_slow));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "mscale", &s.mscale));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "mscale_all_dim", &s.mscale_all_dim));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "low_freq_factor", &s.low_freq_factor));
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "high_freq_factor", &s.high_freq_factor));
  // rope_parameters (transformers >= 4.56) also carries rope_theta
  LONGCTX_RETURN_IF_ERROR(get_opt(r, "rope_theta", &c->rope_theta));
  return Status::ok();
}

}  // namespace

Result<LlamaConfig> config_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kCorrupt, "config: top level is not a JSON object");
  LlamaConfig c;
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "vocab_size", &c.vocab_size));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "hidden_size", &c.hidden_size));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "intermediate_size", &c.intermediate_size));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "num_hidden_layers", &c.num_hidden_layers));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "num_attention_heads", &c.num_attention_heads));
  c.num_key_value_heads = c.num_attention_heads;  // HF default when absent
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "num_key_value_heads", &c.num_key_value_heads));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "head_dim", &c.head_dim));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "rms_norm_eps", &c.rms_norm_eps));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "max_position_embeddings", &c.max_position_embeddings));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "rope_theta", &c.rope_theta));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "tie_word_embeddings", &c.tie_word_embeddings));
  LONGCTX_RETURN_IF_ERROR(get_opt(j, "torch_dtype", &c.torch_dtype));
  for (const char* key : {"bos_token_id", "eos_token_id"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    int* dst = std::string(key) == "bos_token_id" ? &c.bos_token_id : &c.eos_token_id;
    // Llama 3 lists several eos ids; the first is the one we stop on by default.
    if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) LONGCTX_RETURN_IF_ERROR(checked_integer((*it)[0], key, dst));
    else if (it->is_number_integer()) LONGCTX_RETURN_IF_ERROR(checked_integer(*it, key, dst));
    else return make_error(ErrorCode::kCorrupt, "config field '{}' is not an integer", key);
  }
  if (auto it = j.find("rope_parameters"); it != j.end() && !it->is_null()) {
    LONGCTX_RETURN_IF_ERROR(read_rope(*it, &c));
  }
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    LONGCTX_RETURN_IF_ERROR(read_rope(*it, &c));
  }
  LONGCTX_RETURN_IF_ERROR(validate_config(c));
  return c;
}

nlohmann::json config_to_json(const LlamaConfig& c) {
  nlohmann::json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim_or_default();
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = c.rms_norm_eps;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rope_theta"] = c.rope_theta;
  const RopeScaling& s = c.rope_scaling;
  if (s.type == RopeType::kDefault) {
    j["rope_scaling"] = nullptr;
  } else {
    nlohmann::json r;
    r["rope_type"] = rope_type_name(s.type);
    r["type"] = rope_type_name(s.type);  // older readers
    r["factor"] = s.factor;
    if (s.type == RopeType::kYarn || s.type == RopeType::kLlama3) {
      if (s.original_max_position_embeddings > 0)
        r["original_max_position_embeddings"] = s.original_max_position_embeddings;
    }
    if (s.type == RopeType::kYarn) {
      if (s.attention_factor > 0) r["attention_factor"] = s.attention_factor;
      r["beta_fast"] = s.beta_fast;
      r["beta_slow"] = s.beta_slow;
      if (s.mscale > 0) r["mscale"] = s.mscale;
      if (s.mscale_all_dim > 0) r["mscale_all_dim"] = s.mscale_all_dim;
    }
    if (s.type == RopeType::kLlama3) {
      r["low_freq_factor"] = s.low_freq_factor;
      r["high_freq_factor"] = s.high_freq_factor;
    }
    j["rope_scaling"] = r;
  }
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["torch_dtype"] = c.torch_dtype;
  j["attention_bias"] = false;
  j["mlp_bias"] = false;
  return j;
}

Result<LlamaConfig> read_config(const std::string& path) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(path));
  auto c = config_from_json(j);
  if (!c.is_ok()) return c.status().with_context(path);
  return c;
}

Status write_config(const std::string& path, const LlamaConfig& c) {
  LONGCTX_RETURN_IF_ERROR(validate_config(c));
  return write_json_atomic(path, config_to_json(c));
}

}  // namespace longctx::model
