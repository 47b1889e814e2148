#include <gtest/gtest.h>
#include <zstd.h>

#include <filesystem>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/stream.h"
#include "core/units.h"

namespace longctx {
namespace {

std::string tmpdir(const std::string& name) {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/core/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(Units, SizesFollowTheDocumentedConventions) {
  EXPECT_EQ(*parse_seq_len("80K"), 81920u);
  EXPECT_EQ(*parse_seq_len("128K"), 131072u);
  EXPECT_EQ(*parse_token_count("5B"), 5000000000u);
  EXPECT_EQ(*parse_token_count("300M"), 300000000u);
  EXPECT_EQ(*parse_byte_size("10GB"), 10000000000u);
  EXPECT_EQ(*parse_byte_size("1GiB"), 1073741824u);
  EXPECT_FALSE(parse_seq_len("12Q").is_ok());
  EXPECT_FALSE(parse_token_count("abc").is_ok());
}

TEST(Units, LengthsFormattedExactlyInKAndM) {
  // Worked out by hand: K = 1024, M = 1,048,576; at most two decimals, else the plain number.
  EXPECT_EQ(format_length(0), "0");
  EXPECT_EQ(format_length(256), "256");     // below 1K: never "0K" or "0.25K"
  EXPECT_EQ(format_length(1000), "1000");
  EXPECT_EQ(format_length(1024), "1K");
  EXPECT_EQ(format_length(1280), "1.25K");  // 1.25 x 1024
  EXPECT_EQ(format_length(1536), "1.5K");
  EXPECT_EQ(format_length(1100), "1100");   // 1.07421875K: not two decimals
  EXPECT_EQ(format_length(4096), "4K");
  EXPECT_EQ(format_length(65536), "64K");
  EXPECT_EQ(format_length(81920), "80K");
  EXPECT_EQ(format_length(100000), "100000");
  EXPECT_EQ(format_length(1048576), "1M");
  EXPECT_EQ(format_length(1049600), "1025K");  // 1.0009765625M: K instead
  EXPECT_EQ(format_length(1572864), "1.5M");
  EXPECT_EQ(format_length(uint64_t{1} << 40), "1048576M");
  EXPECT_EQ(format_length(UINT64_MAX), "18446744073709551615");
  // parse_seq_len reads every formatted length back.
  for (uint64_t v : {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1280}, uint64_t{1536}, uint64_t{3 << 18},
                     uint64_t{81920}, uint64_t{131072}, uint64_t{5} << 30})
    EXPECT_EQ(*parse_seq_len(format_length(v)), v) << format_length(v);
}

TEST(Hash, Xxh64KnownValues) {
  // Reference values of XXH64 (seed 0) from the xxHash specification's test vectors.
  EXPECT_EQ(xxh64("", 0), 0xEF46DB3751D8E999ull);
  EXPECT_EQ(xxh64("a", 0), 0xD24EC4F1A98C6E5Bull);
  Xxh64Stream s;
  s.update("ab", 2);
  s.update("c", 1);
  EXPECT_EQ(s.digest(), xxh64("abc"));
}

TEST(Hash, UnitHashIsUniformEnough) {
  int below = 0;
  for (uint64_t i = 0; i < 100000; ++i) below += unit_hash(i, 7) < 0.3;
  EXPECT_NEAR(below / 100000.0, 0.3, 0.01);
}

TEST(AtomicWriter, NothingPublishedUntilCommit) {
  auto d = tmpdir("atomic");
  {
    auto w = AtomicWriter::open(d + "/out.bin");
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE(w->write("hello").is_ok());
    EXPECT_FALSE(file_exists(d + "/out.bin"));
  }  // dropped without commit
  EXPECT_FALSE(file_exists(d + "/out.bin"));
  EXPECT_FALSE(file_exists(d + "/out.bin.tmp"));
  auto w = AtomicWriter::open(d + "/out.bin");
  ASSERT_TRUE(w->write("hello").is_ok());
  ASSERT_TRUE(w->commit().is_ok());
  EXPECT_EQ(*read_file(d + "/out.bin"), "hello");
}

TEST(Stream, ZstdMultiFrameAndTruncation) {
  auto d = tmpdir("zstd");
  std::string a = "line one\nline two\n", b = "line three\r\nlast line without newline";
  std::string frames;
  for (const auto& part : {a, b}) {
    std::string buf(ZSTD_compressBound(part.size()), '\0');
    size_t n = ZSTD_compress(buf.data(), buf.size(), part.data(), part.size(), 3);
    frames.append(buf.data(), n);
  }
  ASSERT_TRUE(write_file_atomic(d + "/x.zst", frames).is_ok());
  auto src = open_byte_source(d + "/x.zst");
  ASSERT_TRUE(src.is_ok());
  LineReader lr(std::move(*src));
  std::vector<std::string> lines;
  std::string line;
  while (lr.next(line)) lines.push_back(line);
  ASSERT_TRUE(lr.status().is_ok()) << lr.status().message();
  EXPECT_EQ(lines, (std::vector<std::string>{"line one", "line two", "line three", "last line without newline"}));

  ASSERT_TRUE(write_file_atomic(d + "/t.zst", frames.substr(0, frames.size() - 5)).is_ok());
  LineReader tr(std::move(*open_byte_source(d + "/t.zst")));
  while (tr.next(line)) {
  }
  ASSERT_FALSE(tr.status().is_ok());
  EXPECT_NE(tr.status().message().find("t.zst"), std::string::npos);
  EXPECT_NE(tr.status().message().find("truncated"), std::string::npos);
}

TEST(ExpandInputs, DirectoriesGlobsAndFilters) {
  auto d = tmpdir("expand");
  std::filesystem::create_directories(d + "/a/b");
  for (auto f : {"/a/x.jsonl", "/a/b/y.jsonl.zst", "/a/b/z.bin", "/a/.hidden.jsonl", "/top.txt"})
    ASSERT_TRUE(write_file_atomic(d + f, "x").is_ok());
  auto r = expand_inputs({d + "/a"}, {".jsonl", ".jsonl.zst"});
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, (std::vector<std::string>{d + "/a/b/y.jsonl.zst", d + "/a/x.jsonl"}));
  auto g = expand_inputs({d + "/*.txt"}, {});
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(*g, (std::vector<std::string>{d + "/top.txt"}));
  EXPECT_FALSE(expand_inputs({d + "/nope"}, {}).is_ok());
  EXPECT_EQ(common_directory({d + "/a/b/y", d + "/a/x"}), d + "/a");
}

}  // namespace
}  // namespace longctx
