#include "store/document_store.h"

#include <gtest/gtest.h>

#include <cstring>

#include "store/build_store.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::run_longctx;
using testing::scratch_dir;

TEST(DocumentStore, WriteReadRoundTripAndHeaderBytes) {
  std::string dir = scratch_dir("store-roundtrip");
  auto w = StoreWriter::create(dir, 2);
  ASSERT_TRUE(w.is_ok());
  uint16_t a = w->domain_id("A"), b = w->domain_id("B");
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(w->domain_id("A"), 0);
  std::vector<uint32_t> t1 = {5, 6, 7}, t2 = {}, t3 = {65535, 0};
  ASSERT_TRUE(w->add(t1, 11, 1, 0, a, 10).is_ok());
  ASSERT_TRUE(w->add(t2, 22, 2, 0, b, 0).is_ok());
  ASSERT_TRUE(w->add(t3, 33, 3, 1, a, 4).is_ok());
  std::vector<uint32_t> too_big = {70000};
  EXPECT_FALSE(w->add(too_big, 44, 4, 1, a, 4).is_ok());
  nlohmann::json m;
  m["files"] = {{{"path", "f0.jsonl"}}, {{"path", "f1.jsonl"}}};
  ASSERT_TRUE(w->finish(m).is_ok());

  // tokens.bin, byte by byte: header then 5 little-endian uint16.
  std::string tb = read_all(dir + "/tokens.bin");
  std::string expect("LCTXTOK1", 8);
  auto put32 = [&](std::string& s, uint32_t v) { for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF); };
  auto put64 = [&](std::string& s, uint64_t v) { for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF); };
  put32(expect, 1);
  put32(expect, 2);
  put64(expect, 5);
  put64(expect, 0);
  for (uint16_t v : {5, 6, 7, 65535, 0}) {
    expect += static_cast<char>(v & 0xFF);
    expect += static_cast<char>(v >> 8);
  }
  EXPECT_EQ(tb, expect);
  // docs.bin: third record at 32 + 2*40.
  std::string db = read_all(dir + "/docs.bin");
  ASSERT_EQ(db.size(), 32u + 3 * 40);
  EXPECT_EQ(db.substr(0, 8), "LCTXDOC1");
  std::string rec3;
  put64(rec3, 3);   // token_offset
  put64(rec3, 33);  // id_hash
  put64(rec3, 3);   // record
  put32(rec3, 2);   // num_tokens
  put32(rec3, 1);   // file_index
  rec3 += std::string("\0\0\0\0", 4);  // domain 0, flags 0
  put32(rec3, 4);   // text_bytes
  EXPECT_EQ(db.substr(32 + 80, 40), rec3);

  auto s = DocumentStore::open(dir);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  ASSERT_TRUE(s->verify().is_ok());
  EXPECT_EQ(s->num_docs(), 3u);
  EXPECT_EQ(s->num_tokens(), 5u);
  EXPECT_EQ(s->domains(), (std::vector<std::string>{"A", "B"}));
  std::vector<uint32_t> got;
  ASSERT_TRUE(s->tokens(2, &got).is_ok());
  EXPECT_EQ(got, t3);
  ASSERT_TRUE(s->tokens(1, &got).is_ok());
  EXPECT_TRUE(got.empty());
  EXPECT_FALSE(file_exists(dir + "/tokens.bin.partial"));
}

TEST(DocumentStore, CorruptionIsDetected) {
  std::string dir = scratch_dir("store-corrupt");
  auto w = StoreWriter::create(dir, 4);
  std::vector<uint32_t> t = {1, 2, 3, 100000};
  ASSERT_TRUE(w->add(t, 1, 1, 0, w->domain_id("X"), 9).is_ok());
  nlohmann::json m;
  m["files"] = {{{"path", "f"}}};
  ASSERT_TRUE(w->finish(m).is_ok());
  std::string tb = read_all(dir + "/tokens.bin");
  tb[kStoreHeaderBytes] ^= 1;
  ASSERT_TRUE(write_file_atomic(dir + "/tokens.bin", tb).is_ok());
  auto s = DocumentStore::open(dir);
  ASSERT_TRUE(s.is_ok());
  Status v = s->verify();
  ASSERT_FALSE(v.is_ok());
  EXPECT_NE(v.message().find("checksum"), std::string::npos);
  tb[0] = 'X';
  ASSERT_TRUE(write_file_atomic(dir + "/tokens.bin", tb).is_ok());
  auto bad = DocumentStore::open(dir);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("bad magic"), std::string::npos);
}

TEST(DocumentStore, DamagedRecordsAndHeadersAreRejectedOnOpen) {
  std::string dir = scratch_dir("store-damaged");
  auto w = StoreWriter::create(dir, 2);
  std::vector<uint32_t> t = {1, 2};
  ASSERT_TRUE(w->add(t, 1, 1, 0, w->domain_id("X"), 2).is_ok());
  nlohmann::json m;
  m["files"] = {{{"path", "f"}}};
  ASSERT_TRUE(w->finish(m).is_ok());
  std::string db = read_all(dir + "/docs.bin");
  std::string bad_domain = db;
  bad_domain[32 + 32] = '\xff';  // domain 0xFF: outside the table
  ASSERT_TRUE(write_file_atomic(dir + "/docs.bin", bad_domain).is_ok());
  auto s = DocumentStore::open(dir);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("record 0"), std::string::npos) << s.status().message();
  std::string huge = db.substr(0, 32);
  huge[16 + 7] = 0x20;  // count = 2^61: must not overflow the size check
  ASSERT_TRUE(write_file_atomic(dir + "/docs.bin", huge).is_ok());
  auto h = DocumentStore::open(dir);
  ASSERT_FALSE(h.is_ok());
  EXPECT_NE(h.status().message().find("only 32 bytes"), std::string::npos) << h.status().message();
}

TEST(DocumentStore, PublishInterruptedBetweenRenamesIsCompleted) {
  std::string dir = scratch_dir("store-publish");
  auto w = StoreWriter::create(dir, 2);
  std::vector<uint32_t> t = {3, 4, 5};
  ASSERT_TRUE(w->add(t, 1, 1, 0, w->domain_id("X"), 3).is_ok());
  nlohmann::json m;
  m["files"] = {{{"path", "f"}}};
  ASSERT_TRUE(w->finish(m).is_ok());
  // Rewind to the state of a crash after the first data rename.
  ASSERT_TRUE(rename_file(dir + "/manifest.json", dir + "/manifest.json.partial").is_ok());
  ASSERT_TRUE(rename_file(dir + "/docs.bin", dir + "/docs.bin.partial").is_ok());
  EXPECT_FALSE(DocumentStore::open(dir).is_ok());
  auto done = complete_interrupted_publish(dir);
  ASSERT_TRUE(done.is_ok());
  EXPECT_TRUE(*done);
  auto s = DocumentStore::open(dir);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_TRUE(s->verify().is_ok());
  auto again = complete_interrupted_publish(dir);
  EXPECT_FALSE(*again);
}

// ---- the tokenize pipeline on a small corpus ----
class TokenizePipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = scratch_dir("tok-corpus");
    testing::write_small_corpus(corpus_, 5, 40);
    model_ = testing::tiny_tokenizer();
  }
  static std::string corpus_, model_;

  static std::string store_bytes(const std::string& dir) { return read_all(dir + "/tokens.bin") + read_all(dir + "/docs.bin"); }
  std::string run(const std::string& name, int threads, uint32_t task = 0, uint32_t n = 1, uint64_t batch = 4096) {
    std::string out = scratch_dir(name);
    auto tok = load_tokenizer(model_);
    EXPECT_TRUE(tok.is_ok());
    TokenizeConfig cfg;
    cfg.corpus.inputs = {corpus_};
    cfg.out_dir = out;
    cfg.tokenizer_path = "tiny.model";
    cfg.threads = threads;
    cfg.task = task;
    cfg.num_tasks = n;
    cfg.batch_bytes = batch;
    auto r = tokenize_corpus(cfg, **tok, nullptr);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return out;
  }
};
std::string TokenizePipeline::corpus_, TokenizePipeline::model_;

TEST_F(TokenizePipeline, TokensEqualDirectEncodingInCorpusOrder) {
  std::string out = run("tok-direct", 2);
  auto s = DocumentStore::open(out);
  ASSERT_TRUE(s.is_ok());
  ASSERT_TRUE(s->verify().is_ok());
  EXPECT_EQ(s->num_docs(), 200u);
  auto tok = load_tokenizer(model_);
  // Re-read the corpus independently: the first document of file 3 is record 1 of that file.
  std::string f3 = read_all(corpus_ + "/train/chunk1/example_train_3.jsonl");
  auto first = nlohmann::json::parse(f3.substr(0, f3.find('\n')));
  std::vector<uint32_t> want, got;
  ASSERT_TRUE((*tok)->encode(first["text"].get<std::string>(), &want).is_ok());
  ASSERT_TRUE(s->tokens(120, &got).is_ok());
  EXPECT_EQ(got, want);
  EXPECT_EQ(s->doc(120).record, 1u);
  EXPECT_EQ(s->doc(120).file_index, 3u);
  EXPECT_EQ(s->doc(120).id_hash, xxh64("train/chunk1/example_train_3.jsonl:1"));
  EXPECT_EQ(s->domains()[s->doc(120).domain], first["meta"]["redpajama_set_name"].get<std::string>());
}

TEST_F(TokenizePipeline, ByteIdenticalAtOneAndTwoThreads) {
  std::string a = run("tok-t1", 1), b = run("tok-t2", 2);
  EXPECT_EQ(store_bytes(a), store_bytes(b));
  EXPECT_EQ(read_all(a + "/manifest.json"), read_all(b + "/manifest.json"));
}

TEST_F(TokenizePipeline, ByteIdenticalWithSeveralReaderThreads) {
  // 8 and 16 tokenizer threads run 2 and 4 reader threads over the 5 files.
  std::string a = run("tok-r1", 1), b = run("tok-r8", 8), c = run("tok-r16", 16);
  EXPECT_EQ(store_bytes(a), store_bytes(b));
  EXPECT_EQ(store_bytes(a), store_bytes(c));
  EXPECT_EQ(read_all(a + "/manifest.json"), read_all(c + "/manifest.json"));
}

TEST_F(TokenizePipeline, KilledRunWithSeveralReadersResumesToTheSameBytes) {
  std::string whole = run("tok-whole-r", 1);
  std::string out = scratch_dir("tok-killed-r");
  std::string args = "tokenize " + corpus_ + " --tokenizer " + model_ + " --out " + out +
                     " --threads 12 --batch-bytes 4096 --checkpoint-bytes 20000";
  auto killed = testing::run_command("LONGCTX_TEST_KILL_AFTER_DOCS=130 " + std::string(LONGCTX_BINARY) + " -q " + args);
  ASSERT_EQ(killed.exit_code, 137) << killed.output;
  auto resumed = run_longctx(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(store_bytes(out), store_bytes(whole));
}

TEST_F(TokenizePipeline, TaskSplitPlusMergeEqualsOneRun) {
  std::string one = run("tok-one", 2);
  std::string t0 = run("tok-task0", 2, 0, 2), t1 = run("tok-task1", 2, 1, 2);
  auto s0 = DocumentStore::open(t0), s1 = DocumentStore::open(t1);
  ASSERT_TRUE(s0.is_ok() && s1.is_ok());
  EXPECT_GT(s0->num_docs(), 0u);
  EXPECT_GT(s1->num_docs(), 0u);
  std::string merged = scratch_dir("tok-merged");
  ASSERT_TRUE(merge_stores({t0, t1}, merged).is_ok());
  EXPECT_FALSE(merge_stores({t0, t1}, merged).is_ok());        // a store is there: needs overwrite
  EXPECT_FALSE(merge_stores({t0, merged}, merged, true).is_ok());  // the output is an input
  EXPECT_FALSE(merge_stores({t0, t0}, scratch_dir("tok-merged-twice")).is_ok());
  ASSERT_TRUE(merge_stores({t0, t1}, merged, true).is_ok());
  EXPECT_EQ(store_bytes(merged), store_bytes(one));
  auto m = DocumentStore::open(merged), o = DocumentStore::open(one);
  EXPECT_EQ(m->domains(), o->domains());
  EXPECT_EQ(m->files(), o->files());
}

TEST_F(TokenizePipeline, KilledRunResumesToTheSameBytes) {
  std::string whole = run("tok-whole", 2);
  std::string out = scratch_dir("tok-killed");
  std::string args = "tokenize " + corpus_ + " --tokenizer " + model_ + " --out " + out +
                     " --threads 2 --batch-bytes 4096 --checkpoint-bytes 20000";
  // The tokenizer path is recorded in the manifest: compare data files (and counts) only.
  auto killed = testing::run_command("LONGCTX_TEST_KILL_AFTER_DOCS=90 " + std::string(LONGCTX_BINARY) + " -q " + args);
  ASSERT_EQ(killed.exit_code, 137) << killed.output;
  EXPECT_FALSE(file_exists(out + "/manifest.json"));
  EXPECT_TRUE(file_exists(out + "/resume.json"));
  EXPECT_TRUE(file_exists(out + "/tokens.bin.partial"));
  auto unfinished = DocumentStore::open(out);
  ASSERT_FALSE(unfinished.is_ok());
  EXPECT_NE(unfinished.status().message().find("unfinished"), std::string::npos);
  auto resumed = run_longctx(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed"), std::string::npos) << resumed.output;
  EXPECT_EQ(store_bytes(out), store_bytes(whole));
  EXPECT_FALSE(file_exists(out + "/resume.json"));
}

TEST_F(TokenizePipeline, BadRecordsStopOrAreCountedInTheManifest) {
  std::string corpus = scratch_dir("tok-bad-corpus");
  ASSERT_TRUE(write_file_atomic(corpus + "/a.jsonl", "{\"text\": \"fine\"}\n{\"text\": 7}\n{oops\n{\"text\": \"also fine\"}\n").is_ok());
  std::string out = scratch_dir("tok-bad");
  auto strict = run_longctx("tokenize " + corpus + " --tokenizer " + model_ + " --out " + out);
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.output.find("a.jsonl:2"), std::string::npos) << strict.output;
  EXPECT_FALSE(file_exists(out + "/manifest.json"));
  EXPECT_FALSE(file_exists(out + "/tokens.bin"));
  auto skip = run_longctx("tokenize " + corpus + " --tokenizer " + model_ + " --out " + out + " --skip-bad-records");
  ASSERT_EQ(skip.exit_code, 0) << skip.output;
  EXPECT_NE(skip.output.find("skipped 2 bad records"), std::string::npos) << skip.output;
  auto s = DocumentStore::open(out);
  ASSERT_TRUE(s.is_ok());
  EXPECT_EQ(s->num_docs(), 2u);
  EXPECT_EQ(s->manifest()["dropped"]["counts"]["non_string_text"], 1);
  EXPECT_EQ(s->manifest()["dropped"]["counts"]["malformed_json"], 1);
}

}  // namespace
}  // namespace longctx
