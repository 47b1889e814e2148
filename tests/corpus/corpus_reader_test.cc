#include "corpus/corpus_reader.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "corpus/text_convert.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::scratch_dir;

// One good record, then one of each bad kind, then another good record.
// Line numbers: 1 good, 2 malformed, 3 missing text, 4 non-string, 5 invalid UTF-8, 6 empty, 7 good.
std::string bad_jsonl() {
  return std::string(R"({"text": "good one", "meta": {"redpajama_set_name": "RedPajamaC4"}})") + "\n" +
         R"({"text": "unterminated)" + "\n" +
         R"({"meta": {"redpajama_set_name": "RedPajamaC4"}})" + "\n" +
         R"({"text": 42})" + "\n" +
         "{\"text\": \"bad \xff\xfe bytes\"}\n" +
         R"({"text": ""})" + "\n" +
         R"({"text": "good two", "meta": {"redpajama_set_name": "RedPajamaBook"}})" + "\n";
}

std::vector<Document> read_all_docs(const CorpusConfig& cfg, BadRecordStats* stats, Status* error) {
  std::vector<Document> docs;
  auto files = list_corpus_files(cfg);
  if (!files.is_ok()) {
    *error = files.status();
    return docs;
  }
  for (uint32_t i = 0; i < files->paths.size(); ++i) {
    CorpusFileReader r(cfg, *files, i, stats);
    Document d;
    for (;;) {
      auto got = r.next(&d);
      if (!got.is_ok()) {
        *error = got.status();
        return docs;
      }
      if (!*got) break;
      docs.push_back(d);
    }
  }
  return docs;
}

TEST(CorpusReader, FirstBadRecordIsAnErrorNamingFileLineAndWhat) {
  std::string dir = scratch_dir("corpus-bad-strict");
  ASSERT_TRUE(write_file_atomic(dir + "/bad.jsonl", bad_jsonl()).is_ok());
  CorpusConfig cfg;
  cfg.inputs = {dir};
  BadRecordStats stats;
  Status err;
  auto docs = read_all_docs(cfg, &stats, &err);
  ASSERT_FALSE(err.is_ok());
  EXPECT_EQ(docs.size(), 1u);
  EXPECT_NE(err.message().find(dir + "/bad.jsonl:2"), std::string::npos) << err.message();
  EXPECT_NE(err.message().find("malformed_json"), std::string::npos) << err.message();
  EXPECT_NE(err.message().find("expected a JSON object"), std::string::npos) << err.message();
}

TEST(CorpusReader, SkipBadRecordsCountsEachReason) {
  std::string dir = scratch_dir("corpus-bad-skip");
  ASSERT_TRUE(write_file_atomic(dir + "/bad.jsonl", bad_jsonl()).is_ok());
  CorpusConfig cfg;
  cfg.inputs = {dir};
  cfg.skip_bad_records = true;
  BadRecordStats stats;
  Status err;
  auto docs = read_all_docs(cfg, &stats, &err);
  ASSERT_TRUE(err.is_ok()) << err.message();
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text, "good one");
  EXPECT_EQ(docs[0].domain, "RedPajamaC4");
  EXPECT_EQ(docs[0].record, 1u);
  EXPECT_EQ(docs[1].text, "good two");
  EXPECT_EQ(docs[1].domain, "RedPajamaBook");
  EXPECT_EQ(docs[1].record, 7u);
  EXPECT_EQ(docs[1].id_hash, xxh64("bad.jsonl:7"));
  EXPECT_EQ(stats.counts[int(BadRecord::kMalformedJson)], 1u);
  EXPECT_EQ(stats.counts[int(BadRecord::kMissingText)], 1u);
  EXPECT_EQ(stats.counts[int(BadRecord::kNonStringText)], 1u);
  EXPECT_EQ(stats.counts[int(BadRecord::kInvalidUtf8)], 1u);
  EXPECT_EQ(stats.counts[int(BadRecord::kEmptyText)], 1u);
  EXPECT_EQ(stats.total(), 5u);
  ASSERT_EQ(stats.examples.size(), 5u);
  EXPECT_EQ(stats.examples[2].where, "bad.jsonl:4");  // relative to the corpus root
  EXPECT_NE(stats.examples[2].detail.find("found a JSON number"), std::string::npos);
}

TEST(CorpusReader, TrailingContentOverlongLinesAndCutCharacters) {
  std::string dir = scratch_dir("corpus-edge");
  // Line 1: two objects on one line (the second would be lost): malformed.
  // Line 2: 39 ASCII bytes then a 2-byte character at the 40-byte cut of the quoted excerpt.
  // Line 3: longer than max_record_bytes. Line 4: fine, with trailing spaces.
  std::string l2 = std::string(39, 'x') + "\xc3\xa9 not json";
  std::string l3 = "{\"text\": \"" + std::string(300, 'y') + "\"}";
  ASSERT_TRUE(write_file_atomic(dir + "/e.jsonl", "{\"text\":\"three\"}{\"text\":\"four\"}\n" + l2 + "\n" + l3 +
                                                      "\n{\"text\": \"ok\"}   \n").is_ok());
  CorpusConfig cfg;
  cfg.inputs = {dir};
  cfg.skip_bad_records = true;
  cfg.max_record_bytes = 200;
  BadRecordStats stats;
  Status err;
  auto docs = read_all_docs(cfg, &stats, &err);
  ASSERT_TRUE(err.is_ok()) << err.message();
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].text, "ok");
  EXPECT_EQ(docs[0].record, 4u);
  EXPECT_EQ(stats.counts[int(BadRecord::kMalformedJson)], 2u);
  EXPECT_EQ(stats.counts[int(BadRecord::kRecordTooLarge)], 1u);
  // Every example is valid UTF-8 and so can go into a JSON manifest.
  EXPECT_NO_THROW(stats.to_json().dump());
  EXPECT_NE(stats.examples[1].detail.find(std::string(39, 'x') + "..."), std::string::npos) << stats.examples[1].detail;
}

// The JSON parser reads up to 64 bytes past each line (simdjson's padding). Those bytes were only
// reserved, so they held whatever the string's buffer held before (an earlier, longer line) and
// valgrind reported simdjson's reads of them; now they are written as zeros before every parse.
TEST(CorpusReader, PaddingAfterALineIsZeroNotLeftOver) {
  std::string line(200, 'x');  // a long earlier line leaves its bytes in the buffer
  line.resize(5);
  ASSERT_GE(line.capacity(), 5u + 64u);
  ASSERT_EQ(line.data()[6], 'x');  // the stale byte that reserve() alone would hand to the parser
  pad_with_zeros(&line, 64);
  EXPECT_EQ(line, "xxxxx");
  ASSERT_GE(line.capacity(), 5u + 64u);
  for (size_t i = 5; i < 5 + 64; ++i) EXPECT_EQ(line.data()[i], '\0') << "byte " << i;
  std::string empty;
  pad_with_zeros(&empty, 64);
  EXPECT_TRUE(empty.empty());
  EXPECT_GE(empty.capacity(), 64u);
  for (size_t i = 0; i < 64; ++i) EXPECT_EQ(empty.data()[i], '\0') << "byte " << i;
}

TEST(CorpusReader, TruncatedZstdNamesTheFile) {
  std::string dir = scratch_dir("corpus-zst");
  std::string text;
  // Large enough for several zstd blocks (128 KB each): the first ones survive the truncation.
  for (int i = 0; i < 3000; ++i) text += nlohmann::json{{"text", testing::fake_text(i, 200)}}.dump() + "\n";
  std::string buf(ZSTD_compressBound(text.size()), '\0');
  size_t n = ZSTD_compress(buf.data(), buf.size(), text.data(), text.size(), 3);
  ASSERT_TRUE(write_file_atomic(dir + "/part.jsonl.zst", buf.substr(0, n / 2)).is_ok());
  CorpusConfig cfg;
  cfg.inputs = {dir};
  BadRecordStats stats;
  Status err;
  read_all_docs(cfg, &stats, &err);
  ASSERT_FALSE(err.is_ok());
  EXPECT_NE(err.message().find("part.jsonl.zst"), std::string::npos) << err.message();
  EXPECT_NE(err.message().find("truncated"), std::string::npos) << err.message();
  // Skipping: documents before the damage are kept, the file is counted once as corrupt.
  cfg.skip_bad_records = true;
  BadRecordStats s2;
  Status e2;
  auto docs = read_all_docs(cfg, &s2, &e2);
  EXPECT_TRUE(e2.is_ok()) << e2.message();
  EXPECT_GT(docs.size(), 0u);
  EXPECT_LT(docs.size(), 3000u);
  EXPECT_EQ(s2.counts[int(BadRecord::kCorruptFile)], 1u);
}

TEST(CorpusReader, UnreadableFileIsReported) {
  CorpusConfig cfg;
  CorpusFiles files;
  files.root = "/nonexistent";
  files.paths = {"/nonexistent/a.jsonl"};
  files.relative = {"a.jsonl"};
  files.sizes = {0};
  BadRecordStats stats;
  CorpusFileReader r(cfg, files, 0, &stats);
  Document d;
  auto got = r.next(&d);
  ASSERT_FALSE(got.is_ok());
  EXPECT_NE(got.status().message().find("/nonexistent/a.jsonl"), std::string::npos);
  cfg.skip_bad_records = true;
  CorpusFileReader r2(cfg, files, 0, &stats);
  auto got2 = r2.next(&d);
  ASSERT_TRUE(got2.is_ok());
  EXPECT_FALSE(*got2);
  EXPECT_EQ(stats.counts[int(BadRecord::kUnreadableFile)], 1u);
}

TEST(CorpusReader, FieldsTxtFilesAndDomainFromPath) {
  std::string dir = scratch_dir("corpus-fields");
  std::filesystem::create_directories(dir + "/wiki");
  std::filesystem::create_directories(dir + "/books");
  ASSERT_TRUE(write_file_atomic(dir + "/wiki/a.jsonl", R"({"body": {"content": "hello"}, "src": {"name": "W"}})" "\n").is_ok());
  ASSERT_TRUE(write_file_atomic(dir + "/books/b.txt", "a whole book\nin one file").is_ok());
  CorpusConfig cfg;
  cfg.inputs = {dir};
  cfg.text_field = "body.content";
  cfg.domain_field = "src.name";
  BadRecordStats stats;
  Status err;
  auto docs = read_all_docs(cfg, &stats, &err);
  ASSERT_TRUE(err.is_ok()) << err.message();
  ASSERT_EQ(docs.size(), 2u);
  // Sorted paths: books/b.txt before wiki/a.jsonl.
  EXPECT_EQ(docs[0].text, "a whole book\nin one file");
  EXPECT_EQ(docs[0].domain, "books");
  EXPECT_EQ(docs[0].id_hash, xxh64("books/b.txt:1"));
  EXPECT_EQ(docs[1].text, "hello");
  EXPECT_EQ(docs[1].domain, "W");
  cfg.domain_from_path = "^([a-z]+)/";
  docs = read_all_docs(cfg, &stats, &err);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1].domain, "wiki");
}

TEST(CorpusReader, TaskSharesAreContiguousAndCoverEveryFile) {
  CorpusFiles f;
  for (int i = 0; i < 7; ++i) {
    f.paths.push_back("f" + std::to_string(i));
    f.relative.push_back(f.paths.back());
    f.sizes.push_back(i == 3 ? 1000 : 10);
  }
  std::vector<uint32_t> all;
  for (uint32_t t = 0; t < 3; ++t) {
    auto mine = task_file_indices(f, t, 3);
    for (size_t k = 1; k < mine.size(); ++k) EXPECT_EQ(mine[k], mine[k - 1] + 1);
    all.insert(all.end(), mine.begin(), mine.end());
  }
  EXPECT_EQ(all, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(TextConvert, HtmlRoffPod) {
  EXPECT_EQ(html_to_text("<html><head><style>x{}</style></head><body><h1>Title</h1><p>A &amp; B&#33; <b>bold</b></p>"
                         "<script>var x;</script><p>two\n  lines</p></body></html>"),
            "Title\n\nA & B! bold\n\ntwo lines");
  EXPECT_EQ(roff_to_text(".TH LS 1\n.SH NAME\nls \\- list \\fBfiles\\fR\n.SH DESCRIPTION\nText.\n"),
            "LS 1\n\nNAME\nls - list files\n\nDESCRIPTION\nText.");
  EXPECT_EQ(pod_to_text("=head1 NAME\n\nUse C<print> and B<< bold > text >>.\n\n=cut\ncode\n"),
            "NAME\n\nUse print and bold > text.");
  EXPECT_EQ(repair_utf8("caf\xe9"), "caf\xc3\xa9");
}

}  // namespace
}  // namespace longctx
