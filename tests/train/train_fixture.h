// Shared pieces of the training tests: a tiny LLaMA configuration and packed mixtures written
// with the store's own writer, whose documents follow simple rules a model can learn.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/json_util.h"
#include "model/config.h"
#include "store/packed_shards.h"
#include "test_util.h"

namespace longctx::testing {

// 2 layers, hidden 32, 4 heads (2 KV heads), vocabulary 64, 64 positions.
inline model::LlamaConfig tiny_config(int vocab = 64, int64_t max_pos = 64) {
  model::LlamaConfig c;
  c.vocab_size = vocab, c.hidden_size = 32, c.intermediate_size = 64, c.num_hidden_layers = 2;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.max_position_embeddings = max_pos;
  c.rms_norm_eps = 1e-5;
  return c;
}

inline std::string write_tiny_config(const std::string& dir, int vocab = 64, int64_t max_pos = 64) {
  const std::string p = dir + "/config.json";
  EXPECT_TRUE(model::write_config(p, tiny_config(vocab, max_pos)).is_ok());
  return p;
}

// A packed mixture of `chunks` chunks of L tokens, domains {A, B}: documents of 5..L tokens
// (seeded), A counting up by 3 and B by 7 modulo `vocab` from a random start; the last document of
// a chunk is cut at the chunk's end; chunks with pad_last end in a 3-token padding span.
// `bad_id` (when >= 0) replaces the token at chunk 0 position 1 and `manifest_vocab` is recorded.
inline std::string write_mixture(const std::string& dir, int chunks, int L, int vocab = 64, uint64_t seed = 1,
                                 bool pad_last = false, int64_t bad_id = -1, int64_t manifest_vocab = -1) {
  std::filesystem::create_directories(dir);
  auto w = PackedShardWriter::create(dir + "/" + packed_shard_name(0), 2, (uint64_t)L, 0);
  EXPECT_TRUE(w.is_ok());
  Rng rng(seed);
  uint64_t doc = 1;
  for (int c = 0; c < chunks; c++) {
    std::vector<uint32_t> t((size_t)L, 0);
    std::vector<PackedSpan> spans;
    const int end = pad_last ? L - 3 : L;
    for (int pos = 0; pos < end;) {
      const int len = std::min(end - pos, 5 + (int)rng.below((uint64_t)L - 4));
      const uint16_t dom = (uint16_t)rng.below(2);
      uint32_t x = (uint32_t)rng.below((uint64_t)vocab);
      for (int i = 0; i < len; i++, x = (x + (dom == 0 ? 3 : 7)) % (uint32_t)vocab) t[(size_t)(pos + i)] = x;
      spans.push_back({doc++, (uint32_t)pos, (uint32_t)(pos + len), 0, dom, kSpanStart | kSpanEnd});
      pos += len;
    }
    if (pad_last) spans.push_back({0, (uint32_t)end, (uint32_t)L, 0, kPadDomain, 0});
    if (c == 0 && bad_id >= 0) t[1] = (uint32_t)bad_id;
    EXPECT_TRUE(w->add_chunk(t, spans).is_ok());
  }
  auto sum = w->finish();
  EXPECT_TRUE(sum.is_ok());
  nlohmann::json m;
  m["format"] = {{"name", "longctx-packed"}, {"version", 1}, {"seq_len", L}, {"token_bytes", 2}};
  m["domains"] = {"A", "B"};
  m["vocab_size"] = manifest_vocab >= 0 ? manifest_vocab : vocab;
  m["shards"] = {{{"file", packed_shard_name(0)}, {"first_chunk", 0}, {"chunks", chunks}, {"xxh64", hex64(*sum)}}};
  EXPECT_TRUE(write_json_atomic(dir + "/manifest.json", m).is_ok());
  return dir;
}

}  // namespace longctx::testing
