// safetensors bytes against files built by hand, corrupt files rejected with clear errors,
// checkpoint folders (single and sharded) round trip, GGUF header bytes built by hand.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include <set>

#include "core/file_io.h"
#include "core/json_util.h"
#include "model/checkpoint.h"
#include "model/gguf.h"
#include "model/safetensors.h"

using namespace longctx;
using namespace longctx::model;

namespace {
std::string tmp_dir(const std::string& name) {
  const std::string d = std::string(LONGCTX_TEST_TMP) + "/" + name;
  EXPECT_TRUE(make_dirs(d).is_ok());
  return d;
}
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += (char)x;
  return s;
}
std::string u64le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; i++) s[i] = (char)((v >> (8 * i)) & 0xff);
  return s;
}
// A file image: 8-byte length + header + data.
std::string st_file(const std::string& header, const std::string& data) {
  return u64le(header.size()) + header + data;
}
}  // namespace

TEST(HalfFloat, ConversionsByHand) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);        // largest finite half
  EXPECT_EQ(f32_to_f16(70000.0f), 0x7C00);        // overflow -> inf
  EXPECT_EQ(f32_to_f16(0.1f), 0x2E66);            // 0.0999755859375
  EXPECT_EQ(f32_to_f16(1e-7f), 0x0002);           // subnormal: 1e-7 / 2^-24 = 1.68 -> 2
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3C00);  // tie rounds to even
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0x0001), 0x1p-24f);
  EXPECT_TRUE(std::isinf(f16_to_f32(0xFC00)));
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(0.1f), 0x3DCD);  // 0x3DCCCCCD rounds up
  EXPECT_EQ(bf16_to_f32(0x4040), 3.0f);
  EXPECT_EQ(bf16_to_f32(0xC0A0), -5.0f);
}

TEST(Safetensors, WriterMatchesHandBuiltBytes) {
  const float a[2] = {1.0f, -2.0f}, b[1] = {0.5f};
  const std::string dir = tmp_dir("st_golden");
  ASSERT_TRUE(write_safetensors(dir + "/x.safetensors", {{"a", {2}, a}, {"b", {1, 1}, b}},
                                DType::kF32, {{"format", "pt"}})
                  .is_ok());
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})"
      "   ";  // 141 bytes of JSON padded with spaces to 144
  const std::string expected = bytes({0x90, 0, 0, 0, 0, 0, 0, 0}) + header +
                               bytes({0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x3F});
  auto got = read_file(dir + "/x.safetensors");
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(*got, expected);
}

TEST(Safetensors, WriterBf16AndF16Bytes) {
  const float v[2] = {1.0f, 3.0f};
  const std::string dir = tmp_dir("st_half");
  for (DType t : {DType::kBF16, DType::kF16}) {
    ASSERT_TRUE(write_safetensors(dir + "/h.safetensors", {{"w", {2}, v}}, t, {}).is_ok());
    auto got = read_file(dir + "/h.safetensors");
    ASSERT_TRUE(got.is_ok());
    const std::string data = got->substr(got->size() - 4);
    const std::string want = t == DType::kBF16 ? bytes({0x80, 0x3F, 0x40, 0x40}) : bytes({0x00, 0x3C, 0x00, 0x42});
    EXPECT_EQ(data, want);
    EXPECT_NE(got->find(std::string("\"dtype\":\"") + dtype_name(t) + "\""), std::string::npos);
  }
}

TEST(Safetensors, ReaderConvertsHandBuiltF16Bf16F32) {
  // tensors listed out of offset order in the JSON; offsets still contiguous
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[3],"data_offsets":[4,10]},)"
      R"("f":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"BF16","shape":[2,1],"data_offsets":[10,14]}})";
  const std::string data = bytes({0x00, 0x00, 0x20, 0x41,                    // f = 10.0
                                  0x00, 0x3C, 0x00, 0xB8, 0x00, 0x7C,        // h = 1, -0.5, inf
                                  0x80, 0x3F, 0xA0, 0xC0});                  // b = 1, -5
  const std::string dir = tmp_dir("st_read");
  ASSERT_TRUE(write_file_atomic(dir + "/r.safetensors", st_file(header, data)).is_ok());
  auto f = SafetensorsFile::open(dir + "/r.safetensors");
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  ASSERT_EQ(f->header().tensors.size(), 3u);
  float out[3];
  ASSERT_TRUE(f->read_f32(*f->find("f"), out).is_ok());
  EXPECT_EQ(out[0], 10.0f);
  EXPECT_EQ(f->find("f")->numel(), 1);
  ASSERT_TRUE(f->read_f32(*f->find("h"), out).is_ok());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -0.5f);
  EXPECT_TRUE(std::isinf(out[2]));
  ASSERT_TRUE(f->read_f32(*f->find("b"), out).is_ok());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -5.0f);
  EXPECT_EQ(f->find("b")->shape, (std::vector<int64_t>{2, 1}));
}

TEST(Safetensors, CorruptFilesAreRejectedWithClearErrors) {
  const std::string ok_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data8(8, '\0');
  struct Case {
    std::string file, expect;
  } cases[] = {
      {"abc", "shorter than the 8-byte header length"},
      {u64le(1000) + ok_header + data8, "runs past the end of the file"},
      {u64le(200000000) + ok_header + data8, "exceeds the limit"},
      {st_file(ok_header, data8.substr(0, 5)), "truncated"},  // truncated data
      {st_file(ok_header, data8 + "xx"), "trailing"},
      {st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
               data8),
       "'b': data [4, 8) overlaps"},
      {st_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}})",
               std::string(10, '\0')),
       "'b': gap"},
      {st_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8),
       "'a': data_offsets span 8 bytes but shape x F32 needs 12"},
      {st_file(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", data8), "unknown dtype 'Q4'"},
      {st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", data8), "not valid JSON"},
      {st_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8), "non-negative"},
      {st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8), "end 0 < begin 8"},
  };
  const std::string dir = tmp_dir("st_corrupt");
  int i = 0;
  for (const Case& c : cases) {
    const std::string path = dir + "/c" + std::to_string(i++) + ".safetensors";
    ASSERT_TRUE(write_file_atomic(path, c.file).is_ok());
    auto f = SafetensorsFile::open(path);
    ASSERT_FALSE(f.is_ok()) << "case " << i << " accepted";
    EXPECT_NE(f.status().message().find(c.expect), std::string::npos)
        << "case " << i << ": " << f.status().message();
    EXPECT_NE(f.status().message().find(path), std::string::npos) << "error must name the file";
  }
}

namespace {
LlamaConfig small_config(bool tied) {
  LlamaConfig c;
  c.vocab_size = 10, c.hidden_size = 8, c.intermediate_size = 12, c.num_hidden_layers = 2;
  c.num_attention_heads = 2, c.num_key_value_heads = 1, c.tie_word_embeddings = tied;
  return c;
}
}  // namespace

TEST(Checkpoint, SingleAndShardedRoundTrip) {
  for (bool tied : {false, true}) {
    LlamaConfig c = small_config(tied);
    auto m = LlamaModel::create(c);
    init_params(c, 3, 0.5f, m->params());
    for (uint64_t shard : {uint64_t{0}, uint64_t{600}}) {
      const std::string dir = tmp_dir(fmt::format("ckpt_{}_{}", tied, shard));
      SaveOptions opt;
      opt.max_shard_bytes = shard;
      ASSERT_TRUE(save_checkpoint(*m, dir, opt).is_ok());
      EXPECT_EQ(file_exists(dir + "/model.safetensors.index.json"), shard > 0);
      if (shard > 0) {
        auto idx = read_json_file(dir + "/model.safetensors.index.json");
        ASSERT_TRUE(idx.is_ok());
        std::set<std::string> files;
        for (auto& [name, f] : (*idx)["weight_map"].items()) files.insert(f.get<std::string>());
        ASSERT_GT(files.size(), 2u);
        const std::string n = fmt::format("{:05d}", files.size());
        EXPECT_TRUE(files.count("model-00001-of-" + n + ".safetensors"));
        EXPECT_TRUE(files.count("model-" + n + "-of-" + n + ".safetensors"));
        EXPECT_FALSE(file_exists(dir + "/model.safetensors"));
      }
      auto r = load_checkpoint(dir);
      ASSERT_TRUE(r.is_ok()) << r.status().message();
      ASSERT_EQ(r->num_params(), m->num_params());
      EXPECT_EQ(std::memcmp(r->params(), m->params(), m->num_params() * 4), 0);
      EXPECT_EQ(r->config().tie_word_embeddings, tied);
    }
  }
}

TEST(Checkpoint, Bf16SaveLoadsRounded) {
  LlamaConfig c = small_config(false);
  auto m = LlamaModel::create(c);
  init_params(c, 4, 0.5f, m->params());
  const std::string dir = tmp_dir("ckpt_bf16");
  SaveOptions opt;
  opt.dtype = DType::kBF16;
  ASSERT_TRUE(save_checkpoint(*m, dir, opt).is_ok());
  auto r = load_checkpoint(dir);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  for (int64_t i = 0; i < m->num_params(); i++) {
    const float x = m->params()[i], y = r->params()[i];
    ASSERT_LE(std::fabs(x - y), std::fabs(x) * 0x1p-8f) << i;  // bf16 keeps 8 significant bits
  }
  EXPECT_EQ(r->config().torch_dtype, "bfloat16");
}

TEST(Checkpoint, MismatchErrorsNameTheTensor) {
  LlamaConfig c = small_config(false);
  auto m = LlamaModel::create(c);
  const std::string dir = tmp_dir("ckpt_bad");
  ASSERT_TRUE(save_checkpoint(*m, dir, {}).is_ok());
  // config now claims a larger MLP: shapes no longer match
  LlamaConfig c2 = c;
  c2.intermediate_size = 16;
  ASSERT_TRUE(write_config(dir + "/config.json", c2).is_ok());
  auto r = load_checkpoint(dir);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'model.layers.0.mlp.gate_proj.weight' has shape [12, 8], config.json implies [16, 8]"),
            std::string::npos)
      << r.status().message();
  // one more layer: a tensor is missing
  c2 = c;
  c2.num_hidden_layers = 3;
  ASSERT_TRUE(write_config(dir + "/config.json", c2).is_ok());
  r = load_checkpoint(dir);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'model.layers.2.input_layernorm.weight' (shape [8]) is missing"),
            std::string::npos)
      << r.status().message();
  // one layer fewer: an unexpected tensor
  c2.num_hidden_layers = 1;
  ASSERT_TRUE(write_config(dir + "/config.json", c2).is_ok());
  r = load_checkpoint(dir);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("unexpected tensor 'model.layers.1."), std::string::npos)
      << r.status().message();
}

// ---- GGUF ----

namespace {
struct Reader {
  const std::string& s;
  size_t p = 0;
  template <typename T>
  T pod() {
    T v;
    std::memcpy(&v, s.data() + p, sizeof(T));
    p += sizeof(T);
    return v;
  }
  std::string str() {
    const uint64_t n = pod<uint64_t>();
    std::string r = s.substr(p, n);
    p += n;
    return r;
  }
};
}  // namespace

TEST(Gguf, HeaderBytesBuiltByHandAndPermutedQ) {
  LlamaConfig c = small_config(true);
  c.max_position_embeddings = 64;
  c.rope_theta = 500000;
  auto m = LlamaModel::create(c);
  init_params(c, 5, 0.5f, m->params());
  const std::string dir = tmp_dir("gguf");
  GgufOptions opt;
  opt.type = GgufType::kF32;
  opt.name = "t";
  ASSERT_TRUE(export_gguf(*m, dir + "/m.gguf", opt).is_ok());
  auto file = read_file(dir + "/m.gguf");
  ASSERT_TRUE(file.is_ok());
  // Hand-built prefix: magic, version 3, 1 + 2*9 + 1 = 20 tensors (tied: no output.weight),
  // 14 key/values, then "general.architecture" = string "llama".
  const std::string prefix = std::string("GGUF") + bytes({3, 0, 0, 0}) + bytes({20, 0, 0, 0, 0, 0, 0, 0}) +
                             bytes({14, 0, 0, 0, 0, 0, 0, 0}) + bytes({20, 0, 0, 0, 0, 0, 0, 0}) +
                             "general.architecture" + bytes({8, 0, 0, 0}) +
                             bytes({5, 0, 0, 0, 0, 0, 0, 0}) + "llama";
  ASSERT_EQ(file->substr(0, prefix.size()), prefix);
  // walk the rest with a reader written from formats.md
  Reader r{*file};
  r.p = 4 + 4;
  const uint64_t nt = r.pod<uint64_t>(), nkv = r.pod<uint64_t>();
  std::map<std::string, std::string> strs;
  std::map<std::string, uint32_t> u32s;
  std::map<std::string, float> f32s;
  for (uint64_t i = 0; i < nkv; i++) {
    const std::string k = r.str();
    const uint32_t type = r.pod<uint32_t>();
    if (type == 8) strs[k] = r.str();
    else if (type == 4) u32s[k] = r.pod<uint32_t>();
    else if (type == 6) f32s[k] = r.pod<float>();
    else FAIL() << "unexpected type " << type << " for " << k;
  }
  EXPECT_EQ(strs["general.name"], "t");
  EXPECT_EQ(u32s["llama.embedding_length"], 8u);
  EXPECT_EQ(u32s["llama.context_length"], 64u);
  EXPECT_EQ(u32s["llama.block_count"], 2u);
  EXPECT_EQ(u32s["llama.feed_forward_length"], 12u);
  EXPECT_EQ(u32s["llama.attention.head_count"], 2u);
  EXPECT_EQ(u32s["llama.attention.head_count_kv"], 1u);
  EXPECT_EQ(u32s["llama.rope.dimension_count"], 4u);
  EXPECT_EQ(f32s["llama.rope.freq_base"], 500000.0f);
  EXPECT_EQ(f32s["llama.attention.layer_norm_rms_epsilon"], 1e-6f);
  struct Info {
    std::vector<uint64_t> ne;
    uint32_t type;
    uint64_t off;
  };
  std::map<std::string, Info> infos;
  for (uint64_t i = 0; i < nt; i++) {
    const std::string name = r.str();
    Info in;
    const uint32_t nd = r.pod<uint32_t>();
    for (uint32_t d = 0; d < nd; d++) in.ne.push_back(r.pod<uint64_t>());
    in.type = r.pod<uint32_t>();
    in.off = r.pod<uint64_t>();
    EXPECT_EQ(in.off % 32, 0u) << name;
    infos[name] = in;
  }
  const size_t data_start = (r.p + 31) / 32 * 32;
  ASSERT_TRUE(infos.count("blk.1.attn_q.weight"));
  EXPECT_EQ(infos["token_embd.weight"].ne, (std::vector<uint64_t>{8, 10}));  // ne0 = in_features
  EXPECT_EQ(infos["blk.0.ffn_down.weight"].ne, (std::vector<uint64_t>{12, 8}));
  EXPECT_EQ(infos["blk.0.attn_k.weight"].ne, (std::vector<uint64_t>{8, 4}));
  // attn_q rows: head h, interleaved pair (i, j) <- HF row h*4 + j*2 + i
  const float* q = m->params() + m->layout().layers[1].wqkv;
  const char* g = file->data() + data_start + infos["blk.1.attn_q.weight"].off;
  const int src_row[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  for (int row = 0; row < 8; row++)
    for (int col = 0; col < 8; col++) {
      float v;
      std::memcpy(&v, g + (row * 8 + col) * 4, 4);
      ASSERT_EQ(v, q[src_row[row] * 8 + col]) << row << "," << col;
    }
  // the file ends at the last tensor's aligned end
  const Info& last = infos["output_norm.weight"];
  EXPECT_EQ(file->size(), data_start + (last.off + 8 * 4 + 31) / 32 * 32);
}

TEST(Gguf, TokenizerMetadataArraysPaddedToTheModelVocab) {
  LlamaConfig c = small_config(false);  // vocab 10
  auto m = LlamaModel::create(c);
  GgufVocab v;
  v.tokens = {"<unk>", "<s>", "</s>", "<0x41>", "\xe2\x96\x81" "a"};
  v.scores = {0.0f, 0.0f, 0.0f, 0.0f, -1.5f};
  v.types = {kGgufUnknown, kGgufControl, kGgufControl, kGgufByte, kGgufNormal};
  v.bos = 1, v.eos = 2, v.unk = 0;
  GgufOptions opt;
  opt.vocab = &v;
  const std::string dir = tmp_dir("gguf_vocab");
  ASSERT_TRUE(export_gguf(*m, dir + "/v.gguf", opt).is_ok());
  auto file = read_file(dir + "/v.gguf");
  ASSERT_TRUE(file.is_ok());
  Reader r{*file};
  r.p = 16;
  const uint64_t nkv = r.pod<uint64_t>();
  EXPECT_EQ(nkv, 14u + 7u);
  std::map<std::string, std::vector<std::string>> str_arrays;
  std::map<std::string, std::string> raw_arrays;  // element bytes of numeric arrays
  std::map<std::string, uint32_t> u32s;
  std::map<std::string, std::string> strs;
  for (uint64_t i = 0; i < nkv; i++) {
    const std::string k = r.str();
    const uint32_t type = r.pod<uint32_t>();
    if (type == 8) strs[k] = r.str();
    else if (type == 4) u32s[k] = r.pod<uint32_t>();
    else if (type == 6) r.pod<float>();
    else if (type == 9) {
      const uint32_t et = r.pod<uint32_t>();
      const uint64_t n = r.pod<uint64_t>();
      if (et == 8) {
        for (uint64_t e = 0; e < n; e++) str_arrays[k].push_back(r.str());
      } else {
        ASSERT_TRUE(et == 5 || et == 6) << k;
        raw_arrays[k] = file->substr(r.p, n * 4);
        r.p += n * 4;
      }
    } else FAIL() << "type " << type;
  }
  EXPECT_EQ(strs["tokenizer.ggml.model"], "llama");
  const auto& toks = str_arrays["tokenizer.ggml.tokens"];
  ASSERT_EQ(toks.size(), 10u);
  EXPECT_EQ(toks[4], "\xe2\x96\x81" "a");
  EXPECT_EQ(toks[5], "[PAD5]");
  EXPECT_EQ(toks[9], "[PAD9]");
  // scores: f32 little-endian; -1.5 = 0xBFC00000, padding -1000 = 0xC47A0000
  EXPECT_EQ(raw_arrays["tokenizer.ggml.scores"].substr(16, 4), bytes({0x00, 0x00, 0xC0, 0xBF}));
  EXPECT_EQ(raw_arrays["tokenizer.ggml.scores"].substr(20, 4), bytes({0x00, 0x00, 0x7A, 0xC4}));
  // token types: i32 2, 3, 3, 6, 1, then 5 (unused) for padding
  EXPECT_EQ(raw_arrays["tokenizer.ggml.token_type"].substr(0, 24),
            bytes({2, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0}));
  EXPECT_EQ(u32s["tokenizer.ggml.bos_token_id"], 1u);
  EXPECT_EQ(u32s["tokenizer.ggml.eos_token_id"], 2u);
  EXPECT_EQ(u32s["tokenizer.ggml.unknown_token_id"], 0u);
  // more pieces than the model has rows: rejected
  v.tokens.resize(11, "x"), v.scores.resize(11), v.types.resize(11, kGgufNormal);
  auto st = export_gguf(*m, dir + "/w.gguf", opt);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("11 pieces"), std::string::npos) << st.message();
}

TEST(Gguf, Llama3RopeWritesFrequencyFactors) {
  // head_dim 8, theta 1e4: wavelengths 2 pi x {1, 10, 100, 1000}; L0 = 16, low/high factor 1/4:
  // 6.28 lies between 16/4 and 16/1 (blend), the rest are longer than 16 (divided by factor 4).
  LlamaConfig c = small_config(true);
  c.hidden_size = 16, c.num_attention_heads = 2, c.num_key_value_heads = 2;
  c.rope_scaling.type = RopeType::kLlama3;
  c.rope_scaling.factor = 4, c.rope_scaling.low_freq_factor = 1, c.rope_scaling.high_freq_factor = 4;
  c.rope_scaling.original_max_position_embeddings = 16;
  auto m = LlamaModel::create(c);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  const std::string dir = tmp_dir("gguf_llama3");
  GgufOptions opt;
  opt.type = GgufType::kF32;
  ASSERT_TRUE(export_gguf(*m, dir + "/l3.gguf", opt).is_ok());
  auto file = read_file(dir + "/l3.gguf");
  ASSERT_TRUE(file.is_ok());
  // rope_freqs.weight is the first tensor: its data starts the data section
  const size_t name_at = file->find("rope_freqs.weight");
  ASSERT_NE(name_at, std::string::npos);
  Reader r{*file};
  r.p = name_at + 17;
  ASSERT_EQ(r.pod<uint32_t>(), 1u);
  ASSERT_EQ(r.pod<uint64_t>(), 4u);
  ASSERT_EQ(r.pod<uint32_t>(), 0u);
  ASSERT_EQ(r.pod<uint64_t>(), 0u);  // offset 0
  // data section: after all tensor infos, aligned to 32; find it from the end instead:
  // file = data_start + sum(aligned sizes); rope_freqs is 16 bytes, padded to 32
  const double smooth = (16.0 / (2 * 3.14159265358979323846) - 1.0) / (4.0 - 1.0);
  const float want[4] = {(float)(1.0 / ((1 - smooth) / 4 + smooth)), 4.0f, 4.0f, 4.0f};
  std::string want_bytes(reinterpret_cast<const char*>(want), 16);
  const size_t at = file->find(want_bytes.substr(4));  // the three 4.0f follow the blend factor
  ASSERT_NE(at, std::string::npos);
  float got0;
  std::memcpy(&got0, file->data() + at - 4, 4);
  EXPECT_NEAR(got0, want[0], 1e-5);
  EXPECT_EQ((at - 4) % 32, 0u);  // tensor data is aligned
}
