// Corpus edge cases (docs/corpus.md "Bad input" and "How JSON is read"): symbolic link cycles and
// dangling links, UTF-8 byte-order marks, duplicate JSON keys. Expected values are worked out by
// hand from the rules those sections state (Python's json module: the last of repeated keys wins).
#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <filesystem>

#include "corpus/corpus_reader.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace longctx {
namespace {

using testing::scratch_dir;

struct ReadResult {
  std::vector<Document> docs;
  BadRecordStats stats;
  Status error;
  CorpusFiles files;
};

ReadResult read_corpus(const CorpusConfig& cfg) {
  ReadResult out;
  auto files = list_corpus_files(cfg);
  if (!files.is_ok()) {
    out.error = files.status();
    return out;
  }
  out.files = *files;
  for (uint32_t i = 0; i < files->paths.size(); ++i) {
    CorpusFileReader r(cfg, *files, i, &out.stats);
    Document d;
    for (;;) {
      auto got = r.next(&d);
      if (!got.is_ok()) {
        out.error = got.status();
        return out;
      }
      if (!*got) break;
      out.docs.push_back(d);
    }
  }
  return out;
}

ReadResult read_dir(const std::string& dir, bool skip) {
  CorpusConfig cfg;
  cfg.inputs = {dir};
  cfg.skip_bad_records = skip;
  return read_corpus(cfg);
}

void put(const std::string& path, const std::string& bytes) { ASSERT_TRUE(write_file_atomic(path, bytes).is_ok()); }

// corpus/a.jsonl, corpus/sub/b.jsonl and corpus/sub/loop -> .. (the corpus root again).
std::string corpus_with_cycle(const std::string& name) {
  std::string dir = scratch_dir(name) + "/corpus";
  std::filesystem::create_directories(dir + "/sub");
  put(dir + "/a.jsonl", "{\"text\": \"alpha\"}\n");
  put(dir + "/sub/b.jsonl", "{\"text\": \"beta\"}\n");
  std::filesystem::create_directory_symlink("..", dir + "/sub/loop");
  return dir;
}

TEST(CorpusEdge, SymlinkCycleIsABadRecordNamingTheLink) {
  std::string dir = corpus_with_cycle("edge-cycle-strict");
  ReadResult r = read_dir(dir, /*skip=*/false);
  // Sorted listing: a.jsonl, sub/b.jsonl, sub/loop. The two files are read, then the cycle stops the run.
  ASSERT_EQ(r.files.relative, (std::vector<std::string>{"a.jsonl", "sub/b.jsonl", "sub/loop"}));
  ASSERT_FALSE(r.error.is_ok());
  EXPECT_EQ(r.docs.size(), 2u);
  EXPECT_NE(r.error.message().find(dir + "/sub/loop"), std::string::npos) << r.error.message();
  EXPECT_NE(r.error.message().find("symbolic link cycle"), std::string::npos) << r.error.message();
  EXPECT_NE(r.error.message().find("unreadable_file"), std::string::npos) << r.error.message();
  EXPECT_NE(r.error.message().find("--skip-bad-records"), std::string::npos) << r.error.message();
}

TEST(CorpusEdge, SymlinkCycleIsSkippedAndCountedOnce) {
  std::string dir = corpus_with_cycle("edge-cycle-skip");
  ReadResult r = read_dir(dir, /*skip=*/true);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  ASSERT_EQ(r.docs.size(), 2u);  // each file once, not once per trip round the cycle
  EXPECT_EQ(r.docs[0].text, "alpha");
  EXPECT_EQ(r.docs[1].text, "beta");
  EXPECT_EQ(r.stats.counts[static_cast<int>(BadRecord::kUnreadableFile)], 1u);
  EXPECT_EQ(r.stats.total(), 1u);
  ASSERT_EQ(r.stats.examples.size(), 1u);
  EXPECT_EQ(r.stats.examples[0].where, "sub/loop:0");
  EXPECT_NE(r.stats.examples[0].detail.find("'" + dir + "' again"), std::string::npos) << r.stats.examples[0].detail;
}

TEST(CorpusEdge, DanglingAndSelfLoopingLinksAreBadRecords) {
  std::string dir = scratch_dir("edge-dangling") + "/corpus";
  std::filesystem::create_directories(dir);
  put(dir + "/a.jsonl", "{\"text\": \"alpha\"}\n");
  std::filesystem::create_symlink("missing.jsonl", dir + "/gone.jsonl");
  std::filesystem::create_symlink("self.jsonl", dir + "/self.jsonl");
  std::filesystem::create_symlink("missing", dir + "/not-a-corpus-file");  // no corpus extension: ignored
  ReadResult r = read_dir(dir, /*skip=*/true);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  ASSERT_EQ(r.files.relative, (std::vector<std::string>{"a.jsonl", "gone.jsonl", "self.jsonl"}));
  EXPECT_EQ(r.docs.size(), 1u);
  EXPECT_EQ(r.stats.counts[static_cast<int>(BadRecord::kUnreadableFile)], 2u);
  ASSERT_EQ(r.stats.examples.size(), 2u);
  EXPECT_NE(r.stats.examples[0].detail.find("missing file"), std::string::npos) << r.stats.examples[0].detail;
  EXPECT_NE(r.stats.examples[1].detail.find("loops back on itself"), std::string::npos) << r.stats.examples[1].detail;
}

TEST(CorpusEdge, LinkToASiblingDirectoryIsFollowed) {
  // Not a cycle: corpus/b -> corpus/a is a second path to the same files, read under both names
  // (as before: only links back to an ancestor are refused).
  std::string dir = scratch_dir("edge-sibling") + "/corpus";
  std::filesystem::create_directories(dir + "/a");
  put(dir + "/a/x.jsonl", "{\"text\": \"x\"}\n");
  std::filesystem::create_directory_symlink("a", dir + "/b");
  ReadResult r = read_dir(dir, /*skip=*/false);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  EXPECT_EQ(r.files.relative, (std::vector<std::string>{"a/x.jsonl", "b/x.jsonl"}));
}

TEST(CorpusEdge, ByteOrderMarkIsDroppedInJsonlZstAndTxtAlike) {
  const std::string bom = "\xEF\xBB\xBF";
  std::string dir = scratch_dir("edge-bom") + "/corpus";
  std::filesystem::create_directories(dir + "/books");
  put(dir + "/a.jsonl", bom + "{\"text\": \"first line\"}\n{\"text\": \"second\"}\n");
  std::string plain = bom + "{\"text\": \"zst\"}\n";
  std::string z(ZSTD_compressBound(plain.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3));
  put(dir + "/b.jsonl.zst", z);
  put(dir + "/books/c.txt", bom + "a book");
  put(dir + "/books/d.txt", bom);  // nothing but the mark: an empty document
  ReadResult r = read_dir(dir, /*skip=*/true);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  ASSERT_EQ(r.docs.size(), 4u);
  EXPECT_EQ(r.docs[0].text, "first line");
  EXPECT_EQ(r.docs[1].text, "second");
  EXPECT_EQ(r.docs[2].text, "zst");
  EXPECT_EQ(r.docs[3].text, "a book");
  EXPECT_EQ(r.stats.counts[static_cast<int>(BadRecord::kEmptyText)], 1u);
  EXPECT_EQ(r.stats.total(), 1u);
}

TEST(CorpusEdge, ByteOrderMarkInsideAFileIsNotText) {
  // Only a mark that opens the file is dropped; one opening a later line makes that line
  // malformed (Python's json.loads refuses it too).
  std::string dir = scratch_dir("edge-bom-late");
  put(dir + "/a.jsonl", "{\"text\": \"ok\"}\n\xEF\xBB\xBF{\"text\": \"late\"}\n");
  ReadResult r = read_dir(dir, /*skip=*/true);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  ASSERT_EQ(r.docs.size(), 1u);
  EXPECT_EQ(r.stats.counts[static_cast<int>(BadRecord::kMalformedJson)], 1u);
  ASSERT_EQ(r.stats.examples.size(), 1u);
  EXPECT_EQ(r.stats.examples[0].where, "a.jsonl:2");
}

TEST(CorpusEdge, DuplicateKeysLastOneWinsAsInPython) {
  // Python: json.loads('{"text": "first", "text": "last"}')["text"] == "last", and a repeated
  // object key replaces the whole earlier object.
  std::string dir = scratch_dir("edge-dup");
  put(dir + "/a.jsonl",
      "{\"text\": \"first\", \"text\": \"last\"}\n"
      "{\"meta\": {\"redpajama_set_name\": \"A\"}, \"text\": \"t\", \"meta\": {\"redpajama_set_name\": \"B\"}}\n"
      "{\"meta\": {\"redpajama_set_name\": \"A\"}, \"text\": \"u\", \"meta\": {\"other\": 1}}\n"
      "{\"text\": \"a string first\", \"text\": 5}\n"
      "{\"text\": null, \"text\": \"rescued\"}\n");
  ReadResult r = read_dir(dir, /*skip=*/true);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  ASSERT_EQ(r.docs.size(), 4u);
  EXPECT_EQ(r.docs[0].text, "last");
  EXPECT_EQ(r.docs[1].text, "t");
  EXPECT_EQ(r.docs[1].domain, "B");
  EXPECT_EQ(r.docs[2].domain, "unknown");  // the later "meta" has no set name: the default
  EXPECT_EQ(r.docs[3].text, "rescued");
  EXPECT_EQ(r.docs[3].record, 5u);
  EXPECT_EQ(r.stats.counts[static_cast<int>(BadRecord::kNonStringText)], 1u);  // line 4: the last "text" is 5
  EXPECT_EQ(r.stats.total(), 1u);
}

TEST(CorpusEdge, DottedFieldWithRepeatedInnerKeys) {
  std::string dir = scratch_dir("edge-dotted");
  put(dir + "/a.jsonl", "{\"a\": {\"b\": \"one\", \"b\": \"two\"}}\n{\"a\": [\"zero\", \"one\"]}\n");
  CorpusConfig cfg;
  cfg.inputs = {dir};
  cfg.skip_bad_records = true;
  cfg.text_field = "a.b";
  ReadResult r = read_corpus(cfg);
  ASSERT_TRUE(r.error.is_ok()) << r.error.message();
  ASSERT_EQ(r.docs.size(), 1u);
  EXPECT_EQ(r.docs[0].text, "two");
  EXPECT_EQ(r.stats.counts[static_cast<int>(BadRecord::kMissingText)], 1u);
  cfg.text_field = "a.1";  // a number indexes an array
  r = read_corpus(cfg);
  ASSERT_EQ(r.docs.size(), 1u);
  EXPECT_EQ(r.docs[0].text, "one");
}

TEST(CorpusEdge, TokenizeWithACycleFailsClearlyOrSkipsIt) {
  std::string dir = corpus_with_cycle("edge-cycle-cli");
  std::string out = scratch_dir("edge-cycle-cli-out");
  std::string tok = testing::tiny_tokenizer();
  auto strict = testing::run_longctx("tokenize " + dir + " --tokenizer " + tok + " --out " + out + "/strict");
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.output.find("symbolic link cycle"), std::string::npos) << strict.output;
  EXPECT_EQ(strict.output.find("internal error"), std::string::npos) << strict.output;
  auto skip = testing::run_longctx("tokenize " + dir + " --tokenizer " + tok + " --skip-bad-records --out " + out + "/skip");
  ASSERT_EQ(skip.exit_code, 0) << skip.output;
  auto m = nlohmann::json::parse(testing::read_all(out + "/skip/manifest.json"));
  EXPECT_EQ(m["counts"]["documents"], 2);
  EXPECT_EQ(m["dropped"]["counts"]["unreadable_file"], 1);
}

// SentencePiece trainer failures come back in our words, naming the flag to change.
Status train_on(const std::string& dir, const std::string& text, uint32_t vocab) {
  put(dir + "/train.txt", text);
  TokenizerTrainConfig tc;
  tc.input_files = {dir + "/train.txt"};
  tc.model_prefix = dir + "/m";
  tc.vocab_size = vocab;
  tc.num_threads = 1;
  return train_sentencepiece_bpe(tc);
}

std::string fifty_lines() {
  std::string t;
  for (int i = 1; i <= 50; ++i) t += "the quick brown fox jumps over the lazy dog number " + std::to_string(i) + "\n";
  return t;
}

TEST(TrainerErrors, VocabularyTooLargeForTheText) {
  Status st = train_on(scratch_dir("trainer-too-high"), fifty_lines(), 100000);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("too small for 100000 pieces"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Lower --vocab-size to at most"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("trainer_interface.cc"), std::string::npos) << st.message();  // no library source lines
}

TEST(TrainerErrors, VocabularySmallerThanTheCharacters) {
  // Byte fallback alone needs 256 byte pieces, so 100 can never be enough.
  Status st = train_on(scratch_dir("trainer-too-low"), fifty_lines(), 100);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("--vocab-size 100 is too small"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Raise --vocab-size"), std::string::npos) << st.message();
}

TEST(TrainerErrors, NoTrainingText) {
  Status st = train_on(scratch_dir("trainer-empty"), "", 300);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("there is no training text"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace longctx
