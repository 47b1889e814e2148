// Native packed shards and the exporters, byte by byte against layouts written out by hand from
// the header comments (native) and docs/mixing.md "Outputs" (Megatron .bin/.idx, llm.c, rows).
#include "store/packed_shards.h"

#include <gtest/gtest.h>

#include "core/hash.h"
#include "core/json_util.h"
#include "store/document_store.h"
#include "store/exporters.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::scratch_dir;

void put(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Two chunks of 4 tokens (uint16), domains {A, B}:
//   chunk 0: [1 10 11 | 1]   spans A doc 7 [0,3) start+end, B doc 8 [3,4) start
//   chunk 1: [20 21 | 0 0]   spans B doc 8 [0,2) end (doc offset 0, 2nd piece of it), pad [2,4)
// So the pieces (sequences) are [1 10 11] and [1 20 21].
std::string hand_packed_dir(uint64_t vocab) {
  std::string dir = scratch_dir("packed-" + std::to_string(vocab));
  auto w = PackedShardWriter::create(dir + "/" + packed_shard_name(0), 2, 4, 0);
  EXPECT_TRUE(w.is_ok());
  std::vector<uint32_t> c0 = {1, 10, 11, 1}, c1 = {20, 21, 0, 0};
  std::vector<PackedSpan> s0 = {{7, 0, 3, 0, 0, kSpanStart | kSpanEnd}, {8, 3, 4, 0, 1, kSpanStart}};
  std::vector<PackedSpan> s1 = {{8, 0, 2, 0, 1, kSpanEnd | (1 << 8)}, {0, 2, 4, 0, kPadDomain, 0}};
  EXPECT_TRUE(w->add_chunk(c0, s0).is_ok());
  EXPECT_TRUE(w->add_chunk(c1, s1).is_ok());
  auto sum = w->finish();
  EXPECT_TRUE(sum.is_ok());
  nlohmann::json m;
  m["format"] = {{"name", "longctx-packed"}, {"version", 1}, {"seq_len", 4}, {"token_bytes", 2}};
  m["domains"] = {"A", "B"};
  m["vocab_size"] = vocab;
  m["shards"] = {{{"file", packed_shard_name(0)}, {"first_chunk", 0}, {"chunks", 2}, {"xxh64", hex64(*sum)}}};
  m["counts"] = {{"chunks", 2}, {"tokens", 8}, {"pad_tokens", 2}};
  EXPECT_TRUE(write_json_atomic(dir + "/manifest.json", m).is_ok());
  return dir;
}

TEST(PackedShards, BytesByHand) {
  std::string dir = hand_packed_dir(32000);
  std::string e("LCTXPAK1", 8);
  put(e, 1, 4);  // version
  put(e, 2, 4);  // token bytes
  put(e, 4, 8);  // seq_len
  put(e, 2, 8);  // chunks
  put(e, 4, 8);  // spans
  put(e, 0, 8);  // first chunk
  put(e, 0, 8);  // reserved[0]
  put(e, 0, 8);  // reserved[1]
  for (uint16_t t : {1, 10, 11, 1, 20, 21, 0, 0}) put(e, t, 2);
  for (uint64_t i : {0, 2, 4}) put(e, i, 8);
  auto span = [&](uint64_t id, uint32_t a, uint32_t b, uint32_t off, uint16_t dom, uint16_t fl) {
    put(e, id, 8);
    put(e, a, 4);
    put(e, b, 4);
    put(e, off, 4);
    put(e, dom, 2);
    put(e, fl, 2);
  };
  span(7, 0, 3, 0, 0, 3);
  span(8, 3, 4, 0, 1, 1);
  span(8, 0, 2, 0, 1, 2 | 256);
  span(0, 2, 4, 0, 0xFFFF, 0);
  EXPECT_EQ(read_all(dir + "/shard-00000.lcpk"), e);
  EXPECT_TRUE(verify_packed_dir(dir).is_ok()) << verify_packed_dir(dir).message();

  auto s = PackedShard::open(dir + "/shard-00000.lcpk");
  ASSERT_TRUE(s.is_ok());
  std::vector<uint32_t> t;
  s->chunk_tokens(1, &t);
  EXPECT_EQ(t, (std::vector<uint32_t>{20, 21, 0, 0}));
  EXPECT_EQ(s->chunk_spans(1).size(), 2u);
  EXPECT_EQ(s->chunk_spans(1)[0].doc_id, 8u);
}

TEST(PackedShards, VerifyRejectsBrokenInvariants) {
  std::string dir = scratch_dir("packed-bad");
  auto w = PackedShardWriter::create(dir + "/" + packed_shard_name(0), 2, 4, 0);
  ASSERT_TRUE(w.is_ok());
  std::vector<uint32_t> c0 = {1, 2, 3, 4};
  std::vector<PackedSpan> gap = {{7, 0, 2, 0, 0, 1}, {8, 3, 4, 0, 0, 1}};  // token 2 uncovered
  ASSERT_TRUE(w->add_chunk(c0, gap).is_ok());
  auto sum = w->finish();
  ASSERT_TRUE(sum.is_ok());
  nlohmann::json m;
  m["format"] = {{"name", "longctx-packed"}, {"version", 1}, {"seq_len", 4}, {"token_bytes", 2}};
  m["domains"] = {"A"};
  m["shards"] = {{{"file", packed_shard_name(0)}, {"first_chunk", 0}, {"chunks", 1}, {"xxh64", hex64(*sum)}}};
  ASSERT_TRUE(write_json_atomic(dir + "/manifest.json", m).is_ok());
  Status st = verify_packed_dir(dir);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("expected to start at 2"), std::string::npos) << st.message();
  // Truncated file: size no longer matches the header.
  std::string bytes = read_all(dir + "/shard-00000.lcpk");
  ASSERT_TRUE(write_file_atomic(dir + "/shard-00000.lcpk", bytes.substr(0, bytes.size() - 1)).is_ok());
  EXPECT_FALSE(PackedShard::open(dir + "/shard-00000.lcpk").is_ok());
}

TEST(Exporters, MegatronIdxAndBinByHand) {
  for (uint64_t vocab : {32000u, 128256u}) {
    std::string dir = hand_packed_dir(vocab);
    auto d = open_packed_dir(dir);
    ASSERT_TRUE(d.is_ok());
    auto r = export_megatron(*d, dir + "/mega");
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    const bool u16 = vocab < 65500;
    const int item = u16 ? 2 : 4;
    // formats.md: magic, u64 version 1, u8 dtype (8 uint16 / 4 int32), u64 N, u64 D,
    // int32 lengths, int64 byte offsets, int64 document_indices [0, 1, ..., N].
    std::string idx("MMIDIDX\0\0", 9);
    put(idx, 1, 8);
    idx += static_cast<char>(u16 ? 8 : 4);
    put(idx, 2, 8);  // N: sequences [1 10 11] and [1 20 21]
    put(idx, 3, 8);  // D = N + 1
    put(idx, 3, 4);
    put(idx, 3, 4);
    put(idx, 0, 8);
    put(idx, 3 * item, 8);
    put(idx, 0, 8);
    put(idx, 1, 8);
    put(idx, 2, 8);
    EXPECT_EQ(read_all(dir + "/mega.idx"), idx) << "vocab " << vocab;
    std::string bin;
    for (uint32_t t : {1, 10, 11, 1, 20, 21}) put(bin, t, item);
    EXPECT_EQ(read_all(dir + "/mega.bin"), bin);
    EXPECT_TRUE(verify_export(dir + "/mega.idx").is_ok());
  }
}

TEST(Exporters, LlmcHeaderAndTokensByHand) {
  std::string dir = hand_packed_dir(32000);
  auto d = open_packed_dir(dir);
  ASSERT_TRUE(d.is_ok());
  auto r = export_llmc(*d, dir + "/llmc", 4);  // 4 tokens per file -> 2 files
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->files.size(), 2u);
  // formats.md: 256 int32: magic 20240520, version 1, token count, zeros; then uint16 tokens.
  auto expect = [&](std::vector<uint16_t> toks) {
    std::string s;
    put(s, 20240520, 4);
    put(s, 1, 4);
    put(s, toks.size(), 4);
    s += std::string(1024 - 12, '\0');
    for (auto t : toks) put(s, t, 2);
    return s;
  };
  EXPECT_EQ(read_all(dir + "/llmc_000000.bin"), expect({1, 10, 11, 1}));
  EXPECT_EQ(read_all(dir + "/llmc_000001.bin"), expect({20, 21}));
  EXPECT_TRUE(verify_export(dir + "/llmc_000000.bin").is_ok());
  std::string bad = read_all(dir + "/llmc_000001.bin");
  bad[8] = 9;  // token count 9, file holds 2
  ASSERT_TRUE(write_file_atomic(dir + "/bad.bin", bad).is_ok());
  EXPECT_FALSE(verify_export(dir + "/bad.bin").is_ok());
}

TEST(Exporters, JsonlRowsByHand) {
  std::string dir = hand_packed_dir(32000);
  auto d = open_packed_dir(dir);
  ASSERT_TRUE(d.is_ok());
  ASSERT_TRUE(export_jsonl(*d, dir + "/rows.jsonl").is_ok());
  EXPECT_EQ(read_all(dir + "/rows.jsonl"),
            "{\"input_ids\":[1,10,11,1],\"source\":[{\"end\":3,\"source\":\"A\",\"start\":0},{\"end\":4,\"source\":\"B\",\"start\":3}]}\n"
            "{\"input_ids\":[20,21,0,0],\"source\":[{\"end\":2,\"source\":\"B\",\"start\":0},{\"end\":4,\"source\":\"<pad>\",\"start\":2}]}\n");
  EXPECT_TRUE(verify_export(dir + "/rows.jsonl").is_ok());
}

}  // namespace
}  // namespace longctx
