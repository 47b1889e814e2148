// Readers of stores, packed directories and exports against hostile files: each case is an input
// that fuzzing (fuzz/, docs/reliability.md) or review found to crash, hang or escape a reader,
// built here byte by byte from docs/formats.md. Each must now give an error naming the file and
// the offending field.
#include <gtest/gtest.h>

#include "core/file_io.h"
#include "store/exporters.h"
#include "store/packed_shards.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::scratch_dir;

// `bytes` little-endian bytes of v; past the 8th they are zero (a shift by 64 or more is undefined).
void put(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s += static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xFF : 0);
}

// A shard header (docs/formats.md "Packed directory") followed by `tail` zero bytes.
std::string shard_bytes(uint64_t seq_len, uint64_t num_chunks, uint64_t num_spans, size_t tail) {
  std::string s = "LCTXPAK1";
  put(s, 1, 4);  // version
  put(s, 2, 4);  // token bytes
  put(s, seq_len, 8);
  put(s, num_chunks, 8);
  put(s, num_spans, 8);
  put(s, 0, 8);   // first chunk
  put(s, 0, 16);  // reserved
  return s + std::string(tail, '\0');
}

void expect_error(const Status& st, const std::string& part) {
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
}

TEST(HostileInput, PackedHeaderWhoseSizeWrapsAround) {
  std::string dir = scratch_dir("hostile-wrap");
  // 2^63 chunks of 1 token: 64 + 2^64 + (2^63 + 1) * 8 wraps to 72 in 64-bit arithmetic.
  ASSERT_TRUE(write_file_atomic(dir + "/a.lcpk", shard_bytes(1, 1ull << 63, 0, 8)).is_ok());
  auto a = PackedShard::open(dir + "/a.lcpk");
  ASSERT_FALSE(a.is_ok());
  expect_error(a.status(), "does not match the header");
  // seq_len 0 with 2^61 chunks: 64 + 0 + (2^61 + 1) * 8 also wraps to 72; check() then walked off the map.
  ASSERT_TRUE(write_file_atomic(dir + "/b.lcpk", shard_bytes(0, 1ull << 61, 0, 8)).is_ok());
  auto b = PackedShard::open(dir + "/b.lcpk");
  ASSERT_FALSE(b.is_ok());
  expect_error(b.status(), "seq_len 0");
}

// A packed directory whose manifest holds `shards` and `extra` (a valid empty shard file beside it).
std::string packed_dir_with(const std::string& name, const std::string& shards, const std::string& extra = "") {
  std::string dir = scratch_dir(name);
  EXPECT_TRUE(write_file_atomic(dir + "/shard-00000.lcpk", shard_bytes(4, 0, 0, 8)).is_ok());
  std::string m = R"({"format": {"name": "longctx-packed", "version": 1, "seq_len": 4, "token_bytes": 2},)"
                  R"( "domains": ["A"], "shards": )" + shards + extra + "}";
  EXPECT_TRUE(write_file_atomic(dir + "/manifest.json", m).is_ok());
  return dir;
}

TEST(HostileInput, PackedManifestFieldsOfTheWrongType) {
  // Each threw nlohmann::json::type_error out of verify_packed_dir (an "internal error").
  expect_error(verify_packed_dir(packed_dir_with("hostile-xxh64", R"([{"file": "shard-00000.lcpk", "chunks": 0, "xxh64": 5}])")),
               "shards[0]: \"xxh64\" must be a hex string");
  expect_error(verify_packed_dir(packed_dir_with("hostile-chunks", R"([{"file": "shard-00000.lcpk", "chunks": "0"}])")),
               "shards[0]: expected a non-negative integer \"chunks\"");
  expect_error(verify_packed_dir(packed_dir_with("hostile-entry", R"([7])")), "shards[0]: expected an object");
  expect_error(verify_packed_dir(packed_dir_with("hostile-counts", "[]", R"(, "counts": 5)")),
               "\"counts\" must be an object of non-negative integers");
  expect_error(verify_packed_dir(packed_dir_with("hostile-counts2", "[]", R"(, "counts": {"chunks": -1})")),
               "\"counts\" must be an object of non-negative integers");
}

TEST(HostileInput, PackedManifestFormatNameOfTheWrongType) {
  // "format": {"name": 1} threw nlohmann::json::type_error from the document-store sniff that runs
  // before the manifest is parsed (found by fuzz_packed on a quiet machine; seed
  // finding-packed-format-name-number).
  std::string dir = packed_dir_with("hostile-format-name", "[]");
  std::string m = R"({"format": {"name": 1, "token_bytes": 2}, "domains": [], "shards": []})";
  ASSERT_TRUE(write_file_atomic(dir + "/manifest.json", m).is_ok());
  auto d = verify_packed_dir(dir);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.message().find("manifest.json"), std::string::npos) << d.message();
  EXPECT_NE(d.message().find("must be an object with a string \"name\""), std::string::npos) << d.message();
}

TEST(HostileInput, PackedManifestNamesAFileOutsideTheDirectory) {
  // "../../../dev/zero" made verify checksum /dev/zero for ever.
  for (const char* f : {"../../../../../../../../dev/zero", "/dev/zero", "..", "sub/shard-00000.lcpk", ""}) {
    std::string shards = std::string(R"([{"file": ")") + f + R"(", "chunks": 0, "xxh64": "0"}])";
    auto d = open_packed_dir(packed_dir_with("hostile-path", shards));
    ASSERT_FALSE(d.is_ok()) << f;
    expect_error(d.status(), "must be a plain file name inside the directory");
  }
}

TEST(HostileInput, MegatronIndexWhoseSizeWrapsAround) {
  std::string dir = scratch_dir("hostile-megatron");
  // N = 2^62 sequences, D = 0: 34 + 12 N + 8 D wraps to 34, the file's true size; the offsets
  // loop then read far past the end of the map.
  std::string idx("MMIDIDX\0\0", 9);
  put(idx, 1, 8);
  idx += static_cast<char>(8);
  put(idx, 1ull << 62, 8);
  put(idx, 0, 8);
  ASSERT_EQ(idx.size(), 34u);
  ASSERT_TRUE(write_file_atomic(dir + "/x.idx", idx).is_ok());
  ASSERT_TRUE(write_file_atomic(dir + "/x.bin", "").is_ok());
  expect_error(verify_export(dir + "/x.idx"), "does not match the header (N = 4611686018427387904");
}

}  // namespace
}  // namespace longctx
