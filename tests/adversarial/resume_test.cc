// Resume integrity (core/run_dir.h), through the real binary: a killed run's files are checked
// against the checksums its checkpoint recorded before anything is reused, a run that failed on bad
// data is never called "interrupted", and files without resume state are not trusted. The kills
// use the CLI's test hooks (LONGCTX_TEST_KILL_AFTER_DOCS / _CHECKPOINTS): the process sends
// itself SIGKILL, exactly as `kill -9` would.
#include <gtest/gtest.h>

#include <filesystem>

#include "adversarial_util.h"
#include "core/json_util.h"

namespace longctx::adversarial {
namespace {

namespace fs = std::filesystem;

void flip_byte(const std::string& path, uint64_t offset) {
  std::string bytes = read_all(path);
  ASSERT_LT(offset, bytes.size()) << path;
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5A);
  std::FILE* f = std::fopen(path.c_str(), "r+b");  // in place, as a disk error would
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

CommandResult killed(const std::string& hook, const std::string& args) {
  return run_command(hook + " " + std::string(LONGCTX_BINARY) + " -q " + args);
}

// Repro: after a kill, a flipped byte in tokens.bin.partial was trusted by resume and the final
// verify said ok on data that differs from a clean run. docs.bin.partial is checked the same way.
TEST(ResumeIntegrity, TokenizeStartsOverWhenThePartialPrefixChanged) {
  std::string d = scratch_dir("adv-resume-tok");
  testing::write_small_corpus(d + "/corpus", 5, 40);
  const std::string model = testing::tiny_tokenizer();
  const std::string common = "tokenize " + d + "/corpus --tokenizer " + model + " --threads 2 --batch-bytes 4096 --checkpoint-bytes 20000 --out ";
  ASSERT_EQ(run_longctx(common + d + "/clean").exit_code, 0);
  for (const std::string file : {"tokens.bin.partial", "docs.bin.partial"}) {
    SCOPED_TRACE(file);
    const std::string out = d + "/out-" + file.substr(0, file.find('.'));
    auto k = killed("LONGCTX_TEST_KILL_AFTER_DOCS=90", common + out);
    ASSERT_EQ(k.exit_code, 137) << k.output;
    auto ck = read_json_file(out + "/resume.json");
    ASSERT_TRUE(ck.is_ok());
    const uint64_t tokens = (*ck)["state"]["tokens"].get<uint64_t>(), docs = (*ck)["state"]["documents"].get<uint64_t>();
    ASSERT_GT(tokens, 10u);
    ASSERT_GT(docs, 2u);
    // Inside the checkpointed prefix, after the 32-byte header: a uint16 token id (the tiny
    // vocabulary), or a 40-byte document record's num_tokens field (docs/formats.md).
    flip_byte(out + "/" + file, file[0] == 't' ? 32 + 2 * (tokens / 2) : 32 + 40 * (docs / 2) + 24);
    auto r = run_longctx(common + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, file + "' does not match its checkpoint")) << r.output;
    EXPECT_TRUE(contains(r.output, "starting over")) << r.output;
    EXPECT_FALSE(contains(r.output, "resumed an interrupted run")) << r.output;
    EXPECT_EQ(read_all(out + "/tokens.bin"), read_all(d + "/clean/tokens.bin"));
    EXPECT_EQ(read_all(out + "/docs.bin"), read_all(d + "/clean/docs.bin"));
    EXPECT_EQ(run_longctx("store verify " + out).exit_code, 0);
  }
}

// Repro: a flipped byte in a finished shard was reused by resume, and the manifest recorded the
// damaged shard's checksum so `verify` said ok.
TEST(ResumeIntegrity, MixRewritesAFinishedShardWhoseChecksumChanged) {
  std::string d = scratch_dir("adv-resume-mix");
  std::string store = small_store(d + "/store");
  ASSERT_EQ(run_longctx(mix_args(store, d + "/clean")).exit_code, 0);
  auto k = killed("LONGCTX_TEST_KILL_AFTER_CHECKPOINTS=1", mix_args(store, d + "/out") + " --threads 1");
  ASSERT_EQ(k.exit_code, 137) << k.output;
  ASSERT_TRUE(file_exists(d + "/out/shard-00000.lcpk"));
  ASSERT_FALSE(file_exists(d + "/out/manifest.json"));
  flip_byte(d + "/out/shard-00000.lcpk", 64 + 100);  // a token of the first chunk
  auto r = run_longctx(mix_args(store, d + "/out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "shard-00000.lcpk does not match the checksum recorded when it was written")) << r.output;
  EXPECT_TRUE(contains(r.output, "(0 reused)")) << r.output;
  EXPECT_TRUE(tree(d + "/out") == tree(d + "/clean"));
  EXPECT_EQ(run_longctx("verify " + d + "/out").exit_code, 0);

  // An intact finished shard is reused.
  k = killed("LONGCTX_TEST_KILL_AFTER_CHECKPOINTS=1", mix_args(store, d + "/out2") + " --threads 1");
  ASSERT_EQ(k.exit_code, 137) << k.output;
  r = run_longctx(mix_args(store, d + "/out2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "(1 reused)")) << r.output;
  EXPECT_TRUE(tree(d + "/out2") == tree(d + "/clean"));
}

// Shards without a manifest or resume state (a finished mixture whose manifest was deleted, or an
// older version's run) cannot be checked, so they are not reused unless --overwrite starts over.
TEST(ResumeIntegrity, ShardsWithoutResumeStateAreNotTrusted) {
  std::string d = scratch_dir("adv-resume-nostate");
  std::string store = small_store(d + "/store");
  ASSERT_EQ(run_longctx(mix_args(store, d + "/mix")).exit_code, 0);
  const auto clean = tree(d + "/mix");
  fs::remove(d + "/mix/manifest.json");
  flip_byte(d + "/mix/shard-00001.lcpk", 64 + 10);
  auto r = run_longctx(mix_args(store, d + "/mix"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "neither its manifest nor resume state")) << r.output;
  r = run_longctx(mix_args(store, d + "/mix") + " --overwrite");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(tree(d + "/mix") == clean);
}

// Repro: a run that stopped on bad data was described as "interrupted" afterwards.
TEST(ResumeIntegrity, AFailedRunIsNotCalledInterrupted) {
  std::string d = scratch_dir("adv-failed");
  fs::create_directories(d + "/corpus");
  ASSERT_TRUE(write_file_atomic(d + "/corpus/a.jsonl", "{\"text\": \"fine\"}\n{oops\n{\"text\": \"also fine\"}\n").is_ok());
  const std::string args = "tokenize " + d + "/corpus --tokenizer " + testing::tiny_tokenizer() + " --out " + d + "/out";
  auto r = run_longctx(args);
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "a.jsonl:2")) << r.output;
  r = run_longctx("store info " + d + "/out");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "a run that failed")) << r.output;
  EXPECT_TRUE(contains(r.output, "a.jsonl:2")) << r.output;
  EXPECT_FALSE(contains(r.output, "interrupted")) << r.output;
  r = run_longctx(args + " --skip-bad-records");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "discarded the partial output of an earlier run that failed")) << r.output;
  EXPECT_FALSE(contains(r.output, "interrupted")) << r.output;
  EXPECT_EQ(run_longctx("store verify " + d + "/out").exit_code, 0);
}

// results.jsonl without the per-cell "seconds" (wall time differs between runs).
std::string results_without_seconds(const std::string& path) {
  std::string out, text = read_all(path);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    auto j = nlohmann::json::parse(text.substr(pos, e - pos));
    j.erase("seconds");
    out += j.dump() + "\n";
    pos = e + 1;
  }
  return out;
}

// A needle sweep killed after its 2nd cell resumes at the 3rd and ends with a clean run's results
// (every file but the per-cell wall time); a changed byte in the cells a checkpoint kept starts
// the sweep over instead of trusting it.
TEST(ResumeIntegrity, NeedleSweepResumesAtTheNextCell) {
  std::string d = scratch_dir("adv-resume-needle");
  const std::string model = tiny_model_with_tokenizer(d + "/m"), hay = d + "/hay.txt";
  ASSERT_TRUE(write_file_atomic(hay, testing::fake_text(1, 6000)).is_ok());
  ASSERT_EQ(run_longctx(needle_args(model, hay, d + "/clean")).exit_code, 0);
  auto same_as_clean = [&](const std::string& out) {
    EXPECT_EQ(results_without_seconds(out + "/results.jsonl"), results_without_seconds(d + "/clean/results.jsonl"));
    for (const char* f : {"needle.json", "heatmap.png", "heatmap.svg"}) EXPECT_EQ(read_all(out + "/" + f), read_all(d + "/clean/" + f)) << f;
    EXPECT_FALSE(file_exists(out + "/resume.json"));
    EXPECT_FALSE(file_exists(out + "/results.partial.jsonl"));
  };
  for (const bool flip : {false, true}) {
    SCOPED_TRACE(flip ? "flipped" : "intact");
    const std::string out = d + (flip ? "/flipped" : "/out");
    auto k = killed("LONGCTX_TEST_KILL_AFTER_CHECKPOINTS=2", needle_args(model, hay, out));
    ASSERT_EQ(k.exit_code, 137) << k.output;
    ASSERT_FALSE(file_exists(out + "/needle.json"));
    auto ck = read_json_file(out + "/resume.json");
    ASSERT_TRUE(ck.is_ok());
    EXPECT_EQ((*ck)["kind"], "needle-run");
    EXPECT_EQ((*ck)["state"]["cells"], 2);
    if (flip) flip_byte(out + "/results.partial.jsonl", 3);
    auto r = run_longctx(needle_args(model, hay, out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (flip) {
      EXPECT_TRUE(contains(r.output, "results.partial.jsonl does not match its checkpoint's checksum; starting over")) << r.output;
      EXPECT_FALSE(contains(r.output, "resuming")) << r.output;
    } else {
      EXPECT_TRUE(contains(r.output, "resuming: 2 cell(s) already measured")) << r.output;
    }
    same_as_clean(out);
  }
}

}  // namespace
}  // namespace longctx::adversarial
