// The typed manifest of a packed directory (store/packed_manifest.h): a manifest written out by
// hand in the layout docs/mixing.md gives survives parse + write byte for byte, hand-made minimal
// manifests parse, and damage is named.
#include "store/packed_manifest.h"

#include <gtest/gtest.h>

#include "core/json_util.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::scratch_dir;

// What `longctx mix` writes (keys sorted, as nlohmann::json objects are), with opaque sections.
const char* kFull = R"({
  "counts": {"chunks": 3, "pad_tokens": 5, "tokens": 12},
  "domains": ["A", "B"],
  "format": {"name": "longctx-packed", "seq_len": 4, "token_bytes": 2, "version": 1},
  "mix": {"long_share": 0.7, "seed": 1, "strategy": "per-source-upsample", "tokens": 12},
  "plan": {"chunks": 3, "domains": [{"epochs": 0.25, "name": "A"}]},
  "report": {"title": "t", "total_after": 7},
  "shards": [{"chunks": 2, "file": "shard-00000.lcpk", "first_chunk": 0, "spans": 5, "xxh64": "0123456789abcdef"},
             {"chunks": 1, "file": "shard-00001.lcpk", "first_chunk": 2, "spans": 2, "xxh64": "fedcba9876543210"}],
  "store": {"checksums": {"docs.bin": "00000000000000aa", "tokens.bin": "00000000000000bb"}, "dir": "/data/store"},
  "task": {"chunks_total": 3, "count": 1, "index": 0, "shards_total": 2},
  "vocab_size": 32000
})";

TEST(PackedManifest, RoundTripIsExact) {
  nlohmann::json j = nlohmann::json::parse(kFull);
  auto m = parse_packed_manifest(j, "full");
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(m->seq_len, 4u);
  EXPECT_EQ(m->vocab_size, 32000u);
  ASSERT_EQ(m->shards.size(), 2u);
  EXPECT_EQ(m->shards[1].first_chunk, 2u);
  EXPECT_EQ(*m->shards[1].spans, 2u);
  EXPECT_EQ(m->store->checksums.at("tokens.bin"), "00000000000000bb");
  EXPECT_EQ(m->task->shards_total, 2u);
  EXPECT_EQ(m->counts->pad_tokens, 5u);
  EXPECT_EQ(packed_manifest_json(*m), j);
  // Through the file: the same bytes as writing the JSON itself.
  std::string dir = scratch_dir("packed-manifest");
  ASSERT_TRUE(write_packed_manifest(dir, *m).is_ok());
  ASSERT_TRUE(write_json_atomic(dir + "/reference.json", j).is_ok());
  EXPECT_EQ(read_all(dir + "/manifest.json"), read_all(dir + "/reference.json"));
  auto back = read_packed_manifest(dir);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(packed_manifest_json(*back), j);
}

TEST(PackedManifest, MinimalManifestsParseAndDamageIsNamed) {
  nlohmann::json j = {{"format", {{"name", "longctx-packed"}, {"version", 1}, {"seq_len", 4}, {"token_bytes", 2}}},
                      {"domains", {"A"}},
                      {"shards", {{{"file", "shard-00000.lcpk"}, {"chunks", 2}, {"xxh64", "00"}}}}};
  auto m = parse_packed_manifest(j, "min");
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_FALSE(m->store.has_value());
  EXPECT_FALSE(m->counts.has_value());
  EXPECT_EQ(m->vocab_size, 0u);
  EXPECT_TRUE(m->mix.is_null());

  auto bad = j;
  bad["format"]["name"] = "longctx-document-store";
  auto r = parse_packed_manifest(bad, "x.json");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("format 'longctx-document-store', expected longctx-packed"), std::string::npos);
  bad = j;
  bad["format"]["seq_len"] = "long";
  EXPECT_FALSE(parse_packed_manifest(bad, "x.json").is_ok());
  bad = j;
  bad["format"]["token_bytes"] = 3;
  EXPECT_FALSE(parse_packed_manifest(bad, "x.json").is_ok());
  bad = j;
  bad["shards"][0]["file"] = "../../etc/passwd";  // a shard is a file of the directory itself
  r = parse_packed_manifest(bad, "x.json");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("must be a plain file name inside the directory"), std::string::npos);
  bad = j;
  bad.erase("shards");
  EXPECT_FALSE(parse_packed_manifest(bad, "x.json").is_ok());

  std::string dir = scratch_dir("not-packed");
  auto none = read_packed_manifest(dir);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("not a packed mixture: no manifest.json"), std::string::npos);
  ASSERT_TRUE(write_file_atomic(dir + "/shard-00000.lcpk", "x").is_ok());
  none = read_packed_manifest(dir);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("unfinished mixture"), std::string::npos);
}

}  // namespace
}  // namespace longctx
