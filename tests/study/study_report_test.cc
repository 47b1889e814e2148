// The report's training, retrieval and loss sections, from outputs written by hand in the formats
// of docs/formats.md ("Training run", "Needle sweep folder", "Loss results") with stage records
// that match them: the tables must hold the values worked out here from those files, and the
// sections whose stages have no record must say they have not run.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "core/file_io.h"
#include "core/json_util.h"
#include "study/stage.h"
#include "study/study.h"
#include "study/study_report.h"
#include "study/browser.h"
#include "study/html_tables.h"
#include "test_util.h"

namespace longctx::study {
namespace {

using nlohmann::json;

struct FakeStudy {
  std::string dir = testing::scratch_dir("study_report");
  StudyConfig c = study_preset("smoke").value();
  std::vector<Stage> stages;

  FakeStudy() {
    EXPECT_TRUE(write_file_atomic(dir + "/study.json", study_config_json(c).dump(2)).is_ok());
    stages = study_stages(c, dir);
  }
  void write(const std::string& rel, const std::string& text) {
    ASSERT_TRUE(make_dirs(parent_directory(dir + "/" + rel)).is_ok());
    ASSERT_TRUE(write_file_atomic(dir + "/" + rel, text).is_ok());
  }
  // The record the runner would have written after the stage ran.
  void record(const std::string& name) {
    for (const auto& s : stages) {
      if (s.name != name) continue;
      json digests = json::object();
      for (const auto& o : s.outputs) digests[o.path] = output_digest(dir, o).value();
      write("stages/" + name + ".json", json{{"stage", name}, {"fingerprint", json::object()}, {"digests", digests}, {"seconds", 1.5}}.dump());
      return;
    }
    FAIL() << "no stage " << name;
  }
};

TEST(StudyReport, ModelSectionsFromTheRunsOutputs) {
  FakeStudy f;
  // The base model's run: two steps and a validation line (not a training step).
  f.write("runs/base/metrics.jsonl",
          "{\"step\":1,\"tokens\":4096,\"loss\":7.0,\"lr\":0.003}\n{\"step\":2,\"tokens\":8192,\"loss\":6.5,\"lr\":0.003}\n"
          "{\"step\":2,\"val_loss\":6.6}\n");
  f.write("runs/base/summary.json", "{\"step\":2,\"tokens\":8192,\"loss\":6.5}");
  f.record("pretrain");
  // Needle sweeps: base scores 0, 0.5 and 0 (one cell skipped): mean 1/6; per-source 1, 1, .5, .5: mean .75.
  f.write("eval/base/needle/results.jsonl",
          "{\"length\":128,\"depth\":0,\"score\":0}\n{\"length\":128,\"depth\":50,\"score\":0.5}\n"
          "{\"length\":1024,\"depth\":0,\"skipped\":\"too long\"}\n{\"length\":1024,\"depth\":50,\"score\":0}\n");
  f.write("eval/base/needle/needle.json", "{}");
  f.record("needle-base");
  f.write("eval/continue-per-source/needle/results.jsonl",
          "{\"length\":128,\"depth\":0,\"score\":1}\n{\"length\":128,\"depth\":50,\"score\":1}\n"
          "{\"length\":1024,\"depth\":0,\"score\":0.5}\n{\"length\":1024,\"depth\":50,\"score\":0.5}\n");
  f.write("eval/continue-per-source/needle/needle.json", "{}");
  f.record("needle-continue-per-source");
  // Loss: per-source minus original = Book -0.1 / +0.1, C4 +0.005 / +0.05.
  auto loss = [](double b0, double b1, double c0, double c1) {
    return json{{"format", "longctx-loss"},
                {"domains", {{{"domain", "RedPajamaBook"}, {"mean_before", b0}, {"mean_after", b1}},
                             {{"domain", "RedPajamaC4"}, {"mean_before", c0}, {"mean_after", c1}}}},
                // Positions [0, 128) and [128, 256) before the base model's length, [256, 1024) past it.
                {"buckets", {{{"lo", 0}, {"hi", 128}, {"mean", b0 + 0.5}, {"sum", 100 * (b0 + 0.5)}, {"count", 100}},
                             {{"lo", 128}, {"hi", 256}, {"mean", b0}, {"sum", 100 * b0}, {"count", 100}},
                             {{"lo", 256}, {"hi", 1024}, {"mean", b1}, {"sum", 300 * b1}, {"count", 300}}}}}
        .dump();
  };
  f.write("eval/continue-original/loss/loss.json", loss(3.0, 2.5, 2.0, 1.9));
  f.record("loss-continue-original");
  f.write("eval/continue-per-source/loss/loss.json", loss(2.9, 2.6, 2.005, 1.95));
  f.record("loss-continue-per-source");

  ASSERT_TRUE(write_study_report(f.dir).is_ok());
  const std::string page = read_file(f.dir + "/report.html").value();

  const auto training = testing::table_rows(page, "training");
  ASSERT_EQ(training.size(), 1u);
  EXPECT_EQ(training[0], (std::vector<std::string>{"base", "2", "8192", "6.5000"}));

  const auto retrieval = testing::table_rows(page, "retrieval");
  ASSERT_EQ(retrieval.size(), 2u);
  EXPECT_EQ(retrieval[0], (std::vector<std::string>{"base", "needle", "0.167"}));
  EXPECT_EQ(retrieval[1], (std::vector<std::string>{"continue-per-source", "needle", "0.750"}));

  const auto diff = testing::table_rows(page, "loss-difference");
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0], (std::vector<std::string>{"continue-per-source", "RedPajamaBook", "-0.100", "+0.100"}));
  EXPECT_EQ(diff[1], (std::vector<std::string>{"continue-per-source", "RedPajamaC4", "+0.005", "+0.050"}));
  EXPECT_NE(page.find("<td class=\"num better\">-0.100</td>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"num same\">+0.005</td>"), std::string::npos);

  // Loss just inside the base length and past it: the bucket [128, 256) against [256, 1024).
  const auto position = testing::table_rows(page, "loss-position");
  ASSERT_EQ(position.size(), 2u);
  EXPECT_EQ(position[0], (std::vector<std::string>{"continue-original", "3.000", "2.500", "-0.500"}));
  EXPECT_EQ(position[1], (std::vector<std::string>{"continue-per-source", "2.900", "2.600", "-0.300"}));

  std::map<std::string, std::vector<std::string>> paper;
  for (const auto& r : testing::table_rows(page, "paper-vs-here")) paper[r[0].substr(0, 40)] = r;
  const auto row = [&](const char* prefix) { return paper[std::string(prefix).substr(0, 40)]; };
  EXPECT_EQ(row("continued pretraining on per-source upsampling makes")[3], "yes");
  EXPECT_EQ(row("raising the RoPE base matters (the control keeps it)")[2], "not run");
  EXPECT_EQ(row("per-source: loss difference from the original mix, Book")[2], "-0.100");
  EXPECT_EQ(row("per-source: loss difference from the original mix, Book")[3], "yes");
  EXPECT_EQ(row("per-source: no significant loss increase (> 0.01)")[3], "no");
  EXPECT_EQ(row("the base model's loss rises past its training length")[2], "not run");
  EXPECT_EQ(row("after continued pretraining (per-source) the loss stays flat")[2], "2.900 -> 2.600");
  EXPECT_EQ(row("after continued pretraining (per-source) the loss stays flat")[3], "yes");
  EXPECT_EQ(row("the control (RoPE base kept) has a higher loss past the base")[2], "not run");

  // Figures drawn for what exists; the stages without records are named as not run.
  for (const char* fig : {"training.svg", "needle-base.svg", "needle-continue-per-source.svg", "loss-position.svg"}) {
    EXPECT_TRUE(file_exists(f.dir + "/report-figures/" + fig)) << fig;
  }
  EXPECT_NE(page.find("<code>continue-original</code>"), std::string::npos);
  EXPECT_NE(page.find("<code>passkey-base</code>"), std::string::npos);
  EXPECT_NE(page.find("No <code>mix-*</code> stage has run yet"), std::string::npos);

  // The heatmaps and curves draw in a browser, with nothing on the console.
  if (testing::have_chromium()) {
    const auto b = testing::check_in_chromium(f.dir + "/report.html");
    ASSERT_TRUE(b.error.empty()) << b.error;
    EXPECT_EQ(b.svgs, 4);
    EXPECT_TRUE(b.bad.empty());
    EXPECT_TRUE(b.console.empty()) << b.console[0];
  }
}

}  // namespace
}  // namespace longctx::study
