// A needle sweep's output directory: an interrupted sweep resumes and ends with the results of an
// uninterrupted one; a finished sweep is found and not rerun; the command writes every output.
#include <gtest/gtest.h>

#include "core/json_util.h"
#include "eval/needle_run.h"
#include "model/checkpoint.h"
#include "test_util.h"

using namespace longctx;
using namespace longctx::eval;

namespace {

// Answers from a fixed function of the prompt; fails after `fail_after` calls when >= 0.
class FakeGenerator : public Generator {
 public:
  explicit FakeGenerator(int fail_after) : fail_after_(fail_after) {}
  Result<Completion> complete(const GenerationRequest& req, const TextSink&) override {
    if (fail_after_ >= 0 && calls_ >= fail_after_) return make_error(ErrorCode::kIo, "simulated crash");
    ++calls_;
    Completion c;
    c.text = req.prompt_ids.size() % 2 ? "eat a sandwich" : "sit in dolores park";
    c.completion_tokens = 3;
    return c;
  }
  std::optional<int64_t> context_length() const override { return 500; }
  bool concurrent() const override { return false; }
  std::string describe() const override { return "fake"; }
  int calls_ = 0;

 private:
  int fail_after_;
};

NeedleRunConfig run_config(const std::string& out) {
  NeedleRunConfig rc;
  rc.needle.lengths = {260, 300, 700};  // 700 - 200 + the template exceeds the fake context of 500
  rc.needle.depths = {0, 50, 100};
  rc.needle = rc.needle.resolved();
  rc.out_dir = out;
  rc.identity = {{"model", "fake"}};
  return rc;
}

std::string without_seconds(const SweepSummary& s) {
  std::string out;
  for (auto c : s.cells) {
    c.seconds = 0;
    out += cell_to_json(c).dump() + "\n";
  }
  return out;
}

}  // namespace

TEST(NeedleRun, InterruptedSweepResumesToTheSameResults) {
  auto codec = word_codec();
  std::vector<int32_t> hay;
  ASSERT_TRUE(codec->encode(longctx::testing::fake_text(3, 5000), &hay).is_ok());
  const std::string base = longctx::testing::scratch_dir("needle-run");

  FakeGenerator whole(-1);
  auto ref = run_needle(run_config(base + "/whole"), hay, *codec, whole, nullptr, nullptr);
  ASSERT_TRUE(ref.is_ok()) << ref.status().message();
  EXPECT_EQ(ref->summary.cells.size(), 9u);
  EXPECT_EQ(ref->summary.skipped, 3u);

  FakeGenerator crashing(4);
  auto first = run_needle(run_config(base + "/resumed"), hay, *codec, crashing, nullptr, nullptr);
  ASSERT_FALSE(first.is_ok());
  EXPECT_FALSE(file_exists(base + "/resumed/needle.json"));  // nothing published
  EXPECT_TRUE(file_exists(base + "/resumed/results.partial.jsonl"));
  // The lifecycle's resume file: the kind, the failure, and the checkpoint after the 4th cell.
  auto resume = read_json_file(base + "/resumed/resume.json");
  ASSERT_TRUE(resume.is_ok());
  EXPECT_EQ((*resume)["kind"], "needle-run");
  EXPECT_EQ((*resume)["state"]["cells"], 4);
  EXPECT_TRUE((*resume)["failed"].get<std::string>().find("simulated crash") != std::string::npos) << resume->dump();
  // a torn last line (a crash mid-write) is dropped on resume
  {
    auto f = FileWriter::open(base + "/resumed/results.partial.jsonl", "ab");
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE(f->write("{\"length\": 3").is_ok());
    ASSERT_TRUE(f->close().is_ok());
  }
  FakeGenerator rest(-1);
  auto second = run_needle(run_config(base + "/resumed"), hay, *codec, rest, nullptr, nullptr);
  ASSERT_TRUE(second.is_ok()) << second.status().message();
  // 4 measured cells (the lengths 260 and 300 at depth 0) came from the first run
  EXPECT_EQ(second->reused, 4u);
  ASSERT_EQ(second->notes.size(), 2u);
  EXPECT_NE(second->notes[0].find("the previous run failed (length 300 depth 50: simulated crash)"), std::string::npos)
      << second->notes[0];
  EXPECT_EQ(second->notes[1], "resuming: 4 cell(s) already measured");
  EXPECT_EQ(rest.calls_, 6 - 4);
  EXPECT_EQ(without_seconds(second->summary), without_seconds(ref->summary));
  EXPECT_FALSE(file_exists(base + "/resumed/resume.json"));

  // the same sweep again: found finished, nothing run
  FakeGenerator again(-1);
  auto third = run_needle(run_config(base + "/resumed"), hay, *codec, again, nullptr, nullptr);
  ASSERT_TRUE(third.is_ok());
  EXPECT_TRUE(third->already_done);
  EXPECT_EQ(again.calls_, 0);
  // another sweep in the same folder is refused without --overwrite
  NeedleRunConfig other = run_config(base + "/resumed");
  other.needle.depths = {0};
  EXPECT_FALSE(run_needle(other, hay, *codec, again, nullptr, nullptr).is_ok());
  auto back = read_needle_run(base + "/resumed");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(back->summary.cells.size(), 9u);
  EXPECT_DOUBLE_EQ(back->summary.mean_score, ref->summary.mean_score);
}

// A run killed (no failure recorded) after its 4th cell: what a resume keeps is exactly what the
// checkpoint vouches for. A cell written after the checkpoint is dropped and measured again; a
// changed byte inside the kept prefix starts the sweep over.
TEST(NeedleRun, ResumeKeepsOnlyTheCheckpointedPrefix) {
  auto codec = word_codec();
  std::vector<int32_t> hay;
  ASSERT_TRUE(codec->encode(longctx::testing::fake_text(3, 5000), &hay).is_ok());
  const std::string base = longctx::testing::scratch_dir("needle-run-prefix");
  FakeGenerator whole(-1);
  auto ref = run_needle(run_config(base + "/whole"), hay, *codec, whole, nullptr, nullptr);
  ASSERT_TRUE(ref.is_ok()) << ref.status().message();
  // As a kill leaves it: the failure record removed, so the run reads as interrupted.
  auto interrupt = [&](const std::string& dir) {
    FakeGenerator crashing(4);
    ASSERT_FALSE(run_needle(run_config(dir), hay, *codec, crashing, nullptr, nullptr).is_ok());
    auto r = read_json_file(dir + "/resume.json");
    ASSERT_TRUE(r.is_ok());
    r->erase("failed");
    ASSERT_TRUE(write_json_atomic(dir + "/resume.json", *r).is_ok());
  };
  const std::string a = base + "/unrecorded";
  interrupt(a);
  {  // a whole, valid cell line the checkpoint does not cover (killed between sync and checkpoint)
    auto f = FileWriter::open(a + "/results.partial.jsonl", "ab");
    ASSERT_TRUE(f.is_ok());
    ASSERT_TRUE(f->write(cell_to_json(ref->summary.cells[4]).dump() + "\n").is_ok());
    ASSERT_TRUE(f->close().is_ok());
  }
  FakeGenerator rest(-1);
  auto resumed = run_needle(run_config(a), hay, *codec, rest, nullptr, nullptr);
  ASSERT_TRUE(resumed.is_ok()) << resumed.status().message();
  EXPECT_EQ(resumed->reused, 4u);
  EXPECT_EQ(rest.calls_, 2);
  EXPECT_EQ(without_seconds(resumed->summary), without_seconds(ref->summary));
  EXPECT_FALSE(file_exists(a + "/results.partial.jsonl"));

  const std::string b = base + "/changed";
  interrupt(b);
  std::string text = longctx::testing::read_all(b + "/results.partial.jsonl");
  const size_t at = text.find("\"depth\":50");
  ASSERT_NE(at, std::string::npos) << text;
  text[at + 8] = '7';  // depth 50 -> 70 in the second cell: still JSON, but not what was recorded
  ASSERT_TRUE(write_file_atomic(b + "/results.partial.jsonl", text).is_ok());
  FakeGenerator again(-1);
  auto over = run_needle(run_config(b), hay, *codec, again, nullptr, nullptr);
  ASSERT_TRUE(over.is_ok()) << over.status().message();
  EXPECT_EQ(over->reused, 0u);
  EXPECT_EQ(again.calls_, 6);
  ASSERT_EQ(over->notes.size(), 1u);
  EXPECT_NE(over->notes[0].find("results.partial.jsonl does not match its checkpoint's checksum; starting over"),
            std::string::npos) << over->notes[0];
  EXPECT_EQ(without_seconds(over->summary), without_seconds(ref->summary));
}

// The folder's policy, through the library: another sweep is refused unless overwrite, and
// overwrite replaces only a sweep folder's own files; other kinds and foreign folders never.
TEST(NeedleRun, OtherSettingsNeedOverwriteAndOtherContentIsNeverReplaced) {
  auto codec = word_codec();
  std::vector<int32_t> hay;
  ASSERT_TRUE(codec->encode(longctx::testing::fake_text(3, 5000), &hay).is_ok());
  const std::string base = longctx::testing::scratch_dir("needle-run-policy");
  FakeGenerator g(-1);
  ASSERT_TRUE(run_needle(run_config(base + "/sweep"), hay, *codec, g, nullptr, nullptr).is_ok());
  const std::string before = longctx::testing::read_all(base + "/sweep/results.jsonl");
  NeedleRunConfig other = run_config(base + "/sweep");
  other.needle.depths = {0};
  auto refused = run_needle(other, hay, *codec, g, nullptr, nullptr);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("already holds a needle sweep folder (finished); pass --overwrite"),
            std::string::npos) << refused.status().message();
  EXPECT_EQ(longctx::testing::read_all(base + "/sweep/results.jsonl"), before);
  other.overwrite = true;
  auto replaced = run_needle(other, hay, *codec, g, nullptr, nullptr);
  ASSERT_TRUE(replaced.is_ok()) << replaced.status().message();
  EXPECT_EQ(replaced->summary.cells.size(), 3u);
  // An unfinished sweep with other settings (interrupted, not failed) is refused too.
  NeedleRunConfig third = run_config(base + "/sweep");
  third.needle.depths = {100};
  FakeGenerator crashing(0);
  third.overwrite = true;
  ASSERT_FALSE(run_needle(third, hay, *codec, crashing, nullptr, nullptr).is_ok());
  auto r = read_json_file(base + "/sweep/resume.json");
  ASSERT_TRUE(r.is_ok());
  r->erase("failed");
  ASSERT_TRUE(write_json_atomic(base + "/sweep/resume.json", *r).is_ok());
  auto unfinished = run_needle(run_config(base + "/sweep"), hay, *codec, g, nullptr, nullptr);
  ASSERT_FALSE(unfinished.is_ok());
  EXPECT_NE(unfinished.status().message().find("holds an interrupted run of a different command"), std::string::npos)
      << unfinished.status().message();

  // A folder of other files, or a store, is never a sweep folder, whatever the flags.
  const std::string foreign = base + "/foreign";
  std::filesystem::create_directories(foreign);
  ASSERT_TRUE(write_file_atomic(foreign + "/notes.txt", "mine").is_ok());
  NeedleRunConfig into = run_config(foreign);
  into.overwrite = true;
  auto no = run_needle(into, hay, *codec, g, nullptr, nullptr);
  ASSERT_FALSE(no.is_ok());
  EXPECT_NE(no.status().message().find("holds 'notes.txt', which is not part of a needle sweep folder"), std::string::npos)
      << no.status().message();
  EXPECT_EQ(longctx::testing::read_all(foreign + "/notes.txt"), "mine");
  EXPECT_FALSE(file_exists(foreign + "/resume.json"));
  const std::string store = base + "/store";
  std::filesystem::create_directories(store);
  ASSERT_TRUE(write_file_atomic(store + "/manifest.json", R"({"format": {"name": "longctx-document-store"}})").is_ok());
  into.out_dir = store;
  no = run_needle(into, hay, *codec, g, nullptr, nullptr);
  ASSERT_FALSE(no.is_ok());
  EXPECT_NE(no.status().message().find("is a document store, not a needle sweep folder"), std::string::npos)
      << no.status().message();
}

TEST(NeedleCli, WritesResultsAndHeatmaps) {
  const std::string dir = longctx::testing::scratch_dir("needle-cli");
  // a tiny model with the tiny tokenizer in its folder
  auto tok = load_tokenizer(longctx::testing::tiny_tokenizer());
  ASSERT_TRUE(tok.is_ok());
  model::LlamaConfig c;
  c.vocab_size = static_cast<int>((*tok)->vocab_size());
  c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 1, c.num_attention_heads = 2;
  c.num_key_value_heads = 2, c.max_position_embeddings = 512;
  auto m = model::LlamaModel::create(c);
  ASSERT_TRUE(m.is_ok());
  model::init_params(c, 1, 0.3f, m->params());
  ASSERT_TRUE(model::save_checkpoint(*m, dir + "/m", {}).is_ok());
  std::filesystem::copy_file(longctx::testing::tiny_tokenizer(), dir + "/m/tokenizer.model");
  ASSERT_TRUE(write_file_atomic(dir + "/hay.txt", longctx::testing::fake_text(1, 6000)).is_ok());
  auto r = longctx::testing::run_longctx("needle --model " + dir + "/m --haystack " + dir +
                                         "/hay.txt --lengths 300,450,700 --depths 0,100 --max-new-tokens 4 "
                                         "--train-length 400 --out " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"results.jsonl", "results.csv", "heatmap.png", "heatmap.svg", "needle.json"}) {
    EXPECT_TRUE(file_exists(dir + "/out/" + f)) << f;
  }
  // 700 + template + 4 > 512 positions: skipped and said so
  std::string csv = longctx::testing::read_all(dir + "/out/results.csv");
  EXPECT_NE(csv.find("exceed the model's context of 512"), std::string::npos) << csv;
  EXPECT_NE(r.output.find("(2 skipped)"), std::string::npos) << r.output;
  auto again = longctx::testing::run_longctx("needle --model " + dir + "/m --haystack " + dir +
                                             "/hay.txt --lengths 300,450,700 --depths 0,100 --max-new-tokens 4 "
                                             "--out " + dir + "/out");
  // the train length is not part of the results: the finished sweep is found
  EXPECT_EQ(again.exit_code, 0) << again.output;
  auto cmp = longctx::testing::run_longctx("needle compare " + dir + "/out " + dir + "/out --names a,b --out " + dir +
                                           "/compare.png");
  EXPECT_EQ(cmp.exit_code, 0) << cmp.output;
  EXPECT_TRUE(file_exists(dir + "/compare.png"));
  auto bad = longctx::testing::run_longctx("needle --model " + dir + "/m --depths 0,101 --out " + dir + "/x");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}
