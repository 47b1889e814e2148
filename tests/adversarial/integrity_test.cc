// Corruption never passes through (docs/store.md "What readers check", docs/mixing.md "Integrity:
// what every reader checks", docs/reliability.md):
// every reader of a store, a packed shard or an export checks checksums as it streams and every
// token id against the vocabulary, and a mixture records the checksums of what it read. Each test
// damages one file the way a disk, a bad copy or a hand edit would, and expects a clear refusal
// with nothing published.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "measured_run.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "mix/mixture.h"
#include "mix/synth_store.h"
#include "store/document_store.h"
#include "store/exporters.h"
#include "store/packed_shards.h"
#include "store/token_reader.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::run_longctx;
using testing::scratch_dir;

// A store of random ids in [3, 8000) (vocabulary 8,000, uint16 tokens).
std::string small_store(const std::string& name) {
  std::string dir = scratch_dir(name);
  SynthStoreConfig sc;
  sc.out_dir = dir;
  sc.tokens = 200000;
  sc.vocab_size = 8000;
  sc.max_doc_tokens = 20000;
  EXPECT_TRUE(build_synth_store(sc).is_ok());
  return dir;
}

// Overwrites the uint16 token at `index` of a store's tokens.bin.
void poke_token(const std::string& store, uint64_t index, uint16_t value) {
  std::string tb = read_all(store + "/tokens.bin");
  std::memcpy(tb.data() + kStoreHeaderBytes + 2 * index, &value, 2);
  ASSERT_TRUE(write_file_atomic(store + "/tokens.bin", tb).is_ok());
}

void set_json(const std::string& path, const std::string& pointer, const nlohmann::json& v) {
  auto j = read_json_file(path);
  ASSERT_TRUE(j.is_ok());
  (*j)[nlohmann::json::json_pointer(pointer)] = v;
  ASSERT_TRUE(write_json_atomic(path, *j).is_ok());
}

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(Integrity, FlippedStoreTokensAreRefusedByMixAndStoreVerify) {
  std::string store = small_store("flip-store"), root = scratch_dir("flip-mix");
  poke_token(store, 1234, 0xFFFF);  // id 65535 with a vocabulary of 8,000
  std::string args = "mix " + store + " --strategy original --tokens 50K --seq-len 4K --out " + root + "/mix";
  auto r = run_longctx(args);
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(has(r.output, "checksum") || has(r.output, "vocabulary")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(root + "/mix/manifest.json"));
  for (const auto& e : std::filesystem::directory_iterator(root + "/mix"))  // not even a temporary one
    EXPECT_FALSE(has(e.path().filename().string(), ".lcpk")) << "a shard was left from a damaged store: " << e.path();
  r = run_longctx("store verify " + store);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(has(r.output, "token id 65535 is not below the vocabulary size 8000")) << r.output;

  // The random-access reader (packing) checks ids itself, whatever the checksum.
  auto s = DocumentStore::open(store);
  ASSERT_TRUE(s.is_ok());
  auto reader = TokenReader::open(*s);
  ASSERT_TRUE(reader.is_ok());
  std::vector<uint32_t> out(10);
  Status st = reader->read(1230, 10, out.data());
  ASSERT_FALSE(st.is_ok());
  EXPECT_TRUE(has(st.message(), "token 1234")) << st.message();
  EXPECT_TRUE(has(st.message(), "token id 65535 is not below the vocabulary size 8000")) << st.message();
}

TEST(Integrity, InRangeFlipIsCaughtByTheChecksumAndStoreMergeRefuses) {
  std::string store = small_store("flip-in-range"), root = scratch_dir("flip-in-range-out");
  poke_token(store, 777, 5);  // still a valid id: only the checksum can tell
  auto s = DocumentStore::open(store);
  ASSERT_TRUE(s.is_ok());
  MixRunConfig rc;
  rc.mix.strategy = original_strategy();
  rc.mix.total_tokens = 40000;
  rc.mix.seq_len = 4096;
  rc.out_dir = root + "/mix";
  auto sum = run_mix(*s, rc, nullptr);
  ASSERT_FALSE(sum.is_ok());
  EXPECT_TRUE(has(sum.status().message(), "tokens.bin': checksum")) << sum.status().message();
  EXPECT_FALSE(std::filesystem::exists(rc.out_dir + "/manifest.json"));
  for (const auto& e : std::filesystem::directory_iterator(rc.out_dir))
    EXPECT_FALSE(has(e.path().filename().string(), ".lcpk")) << "a shard was left from a damaged store: " << e.path();
  Status merged = merge_stores({store}, root + "/merged");
  ASSERT_FALSE(merged.is_ok());
  EXPECT_TRUE(has(merged.message(), "checksum")) << merged.message();
  EXPECT_FALSE(std::filesystem::exists(root + "/merged/manifest.json"));
}

TEST(Integrity, DocsBinDamageIsCaughtOnOpen) {
  std::string store = small_store("docs-damage");
  std::string db = read_all(store + "/docs.bin");
  db[kStoreHeaderBytes + 36] ^= 1;  // text_bytes of document 0: structurally fine, checksum not
  ASSERT_TRUE(write_file_atomic(store + "/docs.bin", db).is_ok());
  auto s = DocumentStore::open(store);
  ASSERT_FALSE(s.is_ok());
  EXPECT_TRUE(has(s.status().message(), "docs.bin': checksum")) << s.status().message();
}

TEST(Integrity, MixtureRecordsTheChecksumsItComputed) {
  std::string store = small_store("recorded"), root = scratch_dir("recorded-out");
  auto r = run_longctx("mix " + store + " --strategy cut --at 1000 --tokens 60K --seq-len 4K --out " + root + "/mix");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto m = read_json_file(root + "/mix/manifest.json");
  ASSERT_TRUE(m.is_ok());
  // Independent reference: the whole files hashed by the plain streamed checksum.
  EXPECT_EQ((*m)["store"]["checksums"]["tokens.bin"], hex64(*checksum_file(store + "/tokens.bin")));
  EXPECT_EQ((*m)["store"]["checksums"]["docs.bin"], hex64(*checksum_file(store + "/docs.bin")));
}

TEST(Integrity, VocabularyEditsAreCaught) {
  std::string store = small_store("vocab-edit"), root = scratch_dir("vocab-edit-out");
  std::string mix = root + "/mix";
  auto r = run_longctx("mix " + store + " --strategy original --tokens 60K --seq-len 4K --out " + mix);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(run_longctx("verify " + mix).exit_code, 0);
  // The mixture's manifest says the vocabulary has 100 ids: its tokens (3..7999) do not fit.
  set_json(mix + "/manifest.json", "/vocab_size", 100);
  r = run_longctx("verify " + mix);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(has(r.output, "not below the vocabulary size 100")) << r.output;
  for (const char* format : {"jsonl", "megatron", "llmc"}) {
    r = run_longctx(std::string("export ") + mix + " --format " + format + " --out " + root + "/exp-" + format);
    EXPECT_NE(r.exit_code, 0) << format;
    EXPECT_TRUE(has(r.output, "vocabulary size 100")) << r.output;
  }
  for (const auto& e : std::filesystem::directory_iterator(root))
    EXPECT_FALSE(has(e.path().filename().string(), "exp-")) << "published: " << e.path();
  // The store's manifest edited the same way: store verify and mix refuse.
  set_json(store + "/manifest.json", "/tokenizer/vocab_size", 100);
  r = run_longctx("store verify " + store);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(has(r.output, "not below the vocabulary size 100")) << r.output;
  r = run_longctx("mix " + store + " --strategy original --tokens 60K --seq-len 4K --out " + root + "/mix2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(has(r.output, "vocabulary size 100")) << r.output;
}

TEST(Integrity, ExportOfADamagedShardIsRefused) {
  std::string store = small_store("export-damage"), root = scratch_dir("export-damage-out");
  std::string mix = root + "/mix";
  ASSERT_EQ(run_longctx("mix " + store + " --strategy original --tokens 60K --seq-len 4K --shard-tokens 8K --out " + mix).exit_code, 0);
  std::string p = mix + "/shard-00001.lcpk";
  std::string bytes = read_all(p);
  bytes[kPackedHeaderBytes + 10] ^= 1;  // low bit of a token id: in range, only the checksum differs
  ASSERT_TRUE(write_file_atomic(p, bytes).is_ok());
  for (const char* format : {"jsonl", "megatron", "llmc"}) {
    auto r = run_longctx(std::string("export ") + mix + " --format " + format + " --out " + root + "/exp-" + format);
    EXPECT_NE(r.exit_code, 0) << format;
    EXPECT_TRUE(has(r.output, "shard-00001.lcpk': checksum")) << r.output;
  }
  for (const auto& e : std::filesystem::directory_iterator(root))
    EXPECT_FALSE(has(e.path().filename().string(), "exp-")) << "published: " << e.path();
  auto d = open_packed_dir(mix);
  ASSERT_TRUE(d.is_ok());
  EXPECT_FALSE(export_jsonl(*d, root + "/rows.jsonl").is_ok());
  EXPECT_FALSE(std::filesystem::exists(root + "/rows.jsonl"));
}

TEST(Integrity, VerifyChecksExportTokenRangesAndNamesUnknownFiles) {
  std::string store = small_store("verify-kinds"), root = scratch_dir("verify-kinds-out");
  std::string mix = root + "/mix";
  ASSERT_EQ(run_longctx("mix " + store + " --strategy original --tokens 60K --seq-len 4K --out " + mix + " --export megatron,llmc,jsonl").exit_code, 0);
  for (const char* f : {"/megatron.idx", "/llmc_000000.bin", "/rows.jsonl"}) {
    EXPECT_EQ(run_longctx("verify " + mix + f).exit_code, 0) << f;
    // An explicit vocabulary that the ids exceed (ids go up to 7,999).
    auto r = run_longctx("verify " + mix + f + " --vocab-size 50");
    EXPECT_NE(r.exit_code, 0) << f;
    EXPECT_TRUE(has(r.output, "vocabulary size 50")) << r.output;
  }
  // The export beside a manifest whose vocabulary was edited: verify uses that vocabulary.
  set_json(mix + "/manifest.json", "/vocab_size", 10);
  EXPECT_NE(run_longctx("verify " + mix + "/rows.jsonl").exit_code, 0);
  struct Kind {
    std::string path, says;
  };
  ASSERT_TRUE(write_file_atomic(root + "/random.bin", std::string("\x01\x02\x03\x04garbage", 11)).is_ok());
  for (const Kind& k : std::vector<Kind>{{store + "/tokens.bin", "document store's tokens.bin"},
                                         {store + "/docs.bin", "document store's docs.bin"},
                                         {mix + "/shard-00000.lcpk", "native packed shard"},
                                         {mix + "/megatron.bin", "Megatron data file"},
                                         {root + "/random.bin", "first bytes 01 02 03 04"},
                                         {store, "is a document store"}}) {
    auto r = run_longctx("verify " + k.path);
    EXPECT_NE(r.exit_code, 0) << k.path;
    EXPECT_TRUE(has(r.output, k.says)) << k.path << ": " << r.output;
    EXPECT_FALSE(has(r.output, "not an llm.c shard")) << r.output;
  }
}

}  // namespace
}  // namespace longctx
