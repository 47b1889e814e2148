#include "model/gguf.h"

#include <cstring>

#include "core/file_io.h"
#include "model/rope.h"
#include "model/safetensors.h"

namespace longctx::model {

void permute_rotate_half_to_interleaved(const float* w, float* out, int n_head, int hd, int cols) {
  const int half = hd / 2;
  for (int h = 0; h < n_head; h++)
    for (int j = 0; j < 2; j++)
      for (int i = 0; i < half; i++)
        std::memcpy(out + ((int64_t)h * hd + 2 * i + j) * cols,
                    w + ((int64_t)h * hd + j * half + i) * cols, sizeof(float) * cols);
}

namespace {

enum GgufValueType : uint32_t { kU32 = 4, kI32 = 5, kF32 = 6, kString = 8, kArray = 9 };

class Buf {
 public:
  template <typename T>
  void pod(T v) {
    const size_t n = s_.size();
    s_.resize(n + sizeof(T));
    std::memcpy(s_.data() + n, &v, sizeof(T));
  }
  void str(const std::string& v) {
    pod<uint64_t>(v.size());
    s_ += v;
  }
  // Key/value metadata entries; entries() counts them for the header.
  void kv_u32(const std::string& k, uint32_t v) { str(k), pod<uint32_t>(kU32), pod<uint32_t>(v), n_kv_++; }
  void kv_f32(const std::string& k, float v) { str(k), pod<uint32_t>(kF32), pod<float>(v), n_kv_++; }
  void kv_str(const std::string& k, const std::string& v) { str(k), pod<uint32_t>(kString), str(v), n_kv_++; }
  void kv_str_array(const std::string& k, const std::vector<std::string>& v) {
    str(k), pod<uint32_t>(kArray), pod<uint32_t>(kString), pod<uint64_t>(v.size());
    for (const std::string& x : v) str(x);
    n_kv_++;
  }
  template <typename T>
  void kv_array(const std::string& k, uint32_t elem_type, const std::vector<T>& v) {
    str(k), pod<uint32_t>(kArray), pod<uint32_t>(elem_type), pod<uint64_t>(v.size());
    for (const T& x : v) pod<T>(x);
    n_kv_++;
  }
  uint64_t entries() const { return n_kv_; }
  void pad(size_t align) {
    while (s_.size() % align) s_ += '\0';
  }
  std::string& s() { return s_; }

 private:
  std::string s_;
  uint64_t n_kv_ = 0;
};

struct OutTensor {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] = innermost (in_features)
  std::vector<float> data;
  bool keep_f32;
};

// Tensors in llama.cpp's names and order; Q and K rows permuted to its interleaved RoPE layout.
std::vector<OutTensor> gguf_tensors(const LlamaModel& m) {
  const LlamaConfig& c = m.config();
  const ParamLayout& lay = m.layout();
  const float* P = m.params();
  const int C = c.hidden_size, hd = c.head_dim_or_default(), I = c.intermediate_size;
  std::vector<OutTensor> ts;
  auto add = [&](std::string name, const float* w, std::vector<uint64_t> ne, bool keep_f32) {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    ts.push_back({std::move(name), std::move(ne), std::vector<float>(w, w + n), keep_f32});
  };
  // rope_freqs.weight for llama3 scaling: per-pair divisor of the base frequency
  if (c.rope_scaling.type == RopeType::kLlama3) {
    LlamaConfig plain = c;
    plain.rope_scaling.type = RopeType::kDefault;
    const RopeFreqs base = rope_frequencies(plain, 0), scaled = rope_frequencies(c, 0);
    std::vector<float> f(hd / 2);
    for (int i = 0; i < hd / 2; i++) f[i] = (float)(base.inv_freq[i] / scaled.inv_freq[i]);
    add("rope_freqs.weight", f.data(), {(uint64_t)hd / 2}, true);
  }
  add("token_embd.weight", P + lay.wte, {(uint64_t)C, (uint64_t)c.vocab_size}, false);
  std::vector<float> perm;
  for (int l = 0; l < c.num_hidden_layers; l++) {
    const LayerOffsets& o = lay.layers[l];
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", P + o.ln1, {(uint64_t)C}, true);
    perm.resize((size_t)c.q_dim() * C);
    permute_rotate_half_to_interleaved(P + o.wqkv, perm.data(), c.num_attention_heads, hd, C);
    add(b + "attn_q.weight", perm.data(), {(uint64_t)C, (uint64_t)c.q_dim()}, false);
    perm.resize((size_t)c.kv_dim() * C);
    permute_rotate_half_to_interleaved(P + o.wqkv + (int64_t)c.q_dim() * C, perm.data(),
                                       c.num_key_value_heads, hd, C);
    add(b + "attn_k.weight", perm.data(), {(uint64_t)C, (uint64_t)c.kv_dim()}, false);
    add(b + "attn_v.weight", P + o.wqkv + (int64_t)(c.q_dim() + c.kv_dim()) * C,
        {(uint64_t)C, (uint64_t)c.kv_dim()}, false);
    add(b + "attn_output.weight", P + o.wo, {(uint64_t)c.q_dim(), (uint64_t)C}, false);
    add(b + "ffn_norm.weight", P + o.ln2, {(uint64_t)C}, true);
    add(b + "ffn_gate.weight", P + o.wgu, {(uint64_t)C, (uint64_t)I}, false);
    add(b + "ffn_up.weight", P + o.wgu + (int64_t)I * C, {(uint64_t)C, (uint64_t)I}, false);
    add(b + "ffn_down.weight", P + o.wdown, {(uint64_t)I, (uint64_t)C}, false);
  }
  add("output_norm.weight", P + lay.lnf, {(uint64_t)C}, true);
  if (!c.tie_word_embeddings)
    add("output.weight", P + lay.lm_head, {(uint64_t)C, (uint64_t)c.vocab_size}, false);
  return ts;
}

// llama.* metadata: shapes, norms and RoPE (llama.cpp has no dynamic NTK: refused).
Status model_metadata(const LlamaConfig& c, const GgufOptions& opt, Buf* kv) {
  const int C = c.hidden_size, hd = c.head_dim_or_default();
  kv->kv_str("general.architecture", "llama");
  kv->kv_str("general.name", opt.name);
  kv->kv_u32("general.alignment", opt.alignment);
  kv->kv_u32("general.file_type", opt.type == GgufType::kF32 ? 0 : 1);
  kv->kv_u32("llama.vocab_size", (uint32_t)c.vocab_size);
  kv->kv_u32("llama.context_length", (uint32_t)c.max_position_embeddings);
  kv->kv_u32("llama.embedding_length", (uint32_t)C);
  kv->kv_u32("llama.block_count", (uint32_t)c.num_hidden_layers);
  kv->kv_u32("llama.feed_forward_length", (uint32_t)c.intermediate_size);
  kv->kv_u32("llama.rope.dimension_count", (uint32_t)hd);
  kv->kv_f32("llama.rope.freq_base", (float)c.rope_theta);
  kv->kv_u32("llama.attention.head_count", (uint32_t)c.num_attention_heads);
  kv->kv_u32("llama.attention.head_count_kv", (uint32_t)c.num_key_value_heads);
  kv->kv_f32("llama.attention.layer_norm_rms_epsilon", (float)c.rms_norm_eps);
  if (c.head_dim > 0 && c.head_dim * c.num_attention_heads != C) {
    kv->kv_u32("llama.attention.key_length", (uint32_t)hd);
    kv->kv_u32("llama.attention.value_length", (uint32_t)hd);
  }
  const RopeScaling& rs = c.rope_scaling;
  if (rs.type == RopeType::kLinear || rs.type == RopeType::kYarn) {
    kv->kv_str("llama.rope.scaling.type", rope_type_name(rs.type));
    kv->kv_f32("llama.rope.scaling.factor", (float)rs.factor);
    if (rs.type == RopeType::kYarn) {
      const int64_t orig = rs.original_max_position_embeddings > 0 ? rs.original_max_position_embeddings
                                                                   : c.max_position_embeddings;
      kv->kv_u32("llama.rope.scaling.original_context_length", (uint32_t)orig);
    }
  } else if (rs.type == RopeType::kDynamic) {
    return make_error(ErrorCode::kUnsupported,
                      "GGUF export: llama.cpp has no dynamic NTK RoPE; set rope_theta instead "
                      "(or export without rope_scaling)");
  }
  return Status::ok();
}

// tokenizer.ggml.* metadata, the pieces padded to the model's vocab as llama.cpp's converter does.
Status vocab_metadata(const LlamaConfig& c, const GgufVocab& gv, Buf* kv) {
  if (gv.tokens.size() > (size_t)c.vocab_size || gv.scores.size() != gv.tokens.size() ||
      gv.types.size() != gv.tokens.size())
    return make_error(ErrorCode::kInvalidArgument,
                      "GGUF export: tokenizer has {} pieces ({} scores, {} types) for a model vocab of {}",
                      gv.tokens.size(), gv.scores.size(), gv.types.size(), c.vocab_size);
  std::vector<std::string> tokens = gv.tokens;
  std::vector<float> scores = gv.scores;
  std::vector<int32_t> types = gv.types;
  for (size_t i = tokens.size(); i < (size_t)c.vocab_size; i++) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    scores.push_back(-1000.0f);
    types.push_back(kGgufUnused);
  }
  kv->kv_str("tokenizer.ggml.model", gv.model);
  kv->kv_str_array("tokenizer.ggml.tokens", tokens);
  kv->kv_array<float>("tokenizer.ggml.scores", kF32, scores);
  kv->kv_array<int32_t>("tokenizer.ggml.token_type", kI32, types);
  if (gv.bos >= 0) kv->kv_u32("tokenizer.ggml.bos_token_id", (uint32_t)gv.bos);
  if (gv.eos >= 0) kv->kv_u32("tokenizer.ggml.eos_token_id", (uint32_t)gv.eos);
  if (gv.unk >= 0) kv->kv_u32("tokenizer.ggml.unknown_token_id", (uint32_t)gv.unk);
  return Status::ok();
}

// GGUF v3: "GGUF", version, tensor and metadata counts, the metadata, one info per tensor (name,
// dims, type, offset), padding, then each tensor's data padded to the alignment; written under a
// temporary name and renamed when complete.
Status write_gguf(const std::string& path, Buf& kv, const std::vector<OutTensor>& ts,
                  const GgufOptions& opt) {
  Buf out;
  out.s() = "GGUF";
  out.pod<uint32_t>(3);
  out.pod<uint64_t>(ts.size());
  out.pod<uint64_t>(kv.entries());
  out.s() += kv.s();
  uint64_t offset = 0;
  for (const OutTensor& t : ts) {
    out.str(t.name);
    out.pod<uint32_t>((uint32_t)t.ne.size());
    for (uint64_t d : t.ne) out.pod<uint64_t>(d);
    const bool f32 = t.keep_f32 || opt.type == GgufType::kF32;
    out.pod<uint32_t>(f32 ? 0 : 1);
    out.pod<uint64_t>(offset);
    offset += t.data.size() * (f32 ? 4 : 2);
    offset = (offset + opt.alignment - 1) / opt.alignment * opt.alignment;
  }
  out.pad(opt.alignment);
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(path));
  LONGCTX_RETURN_IF_ERROR(w.write(out.s()));
  std::vector<uint16_t> half;
  const std::string zeros(opt.alignment, '\0');
  uint64_t written = 0;
  for (const OutTensor& t : ts) {
    const bool f32 = t.keep_f32 || opt.type == GgufType::kF32;
    size_t bytes;
    if (f32) {
      bytes = t.data.size() * 4;
      LONGCTX_RETURN_IF_ERROR(w.write(t.data.data(), bytes));
    } else {
      half.resize(t.data.size());
      for (size_t i = 0; i < half.size(); i++) half[i] = f32_to_f16(t.data[i]);
      bytes = half.size() * 2;
      LONGCTX_RETURN_IF_ERROR(w.write(half.data(), bytes));
    }
    written += bytes;
    const uint64_t padded = (written + opt.alignment - 1) / opt.alignment * opt.alignment;
    LONGCTX_RETURN_IF_ERROR(w.write(zeros.data(), padded - written));
    written = padded;
  }
  return w.commit();
}

}  // namespace

Status export_gguf(const LlamaModel& m, const std::string& path, const GgufOptions& opt) {
  Buf kv;
  LONGCTX_RETURN_IF_ERROR(model_metadata(m.config(), opt, &kv));
  if (opt.vocab) LONGCTX_RETURN_IF_ERROR(vocab_metadata(m.config(), *opt.vocab, &kv));
  return write_gguf(path, kv, gguf_tensors(m), opt);
}

}  // namespace longctx::model
