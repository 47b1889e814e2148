// A whole study end to end, run once for the suite on a shrunken smoke preset. The data half
// (corpus -> tokenizer -> store -> stats -> mixtures): what ran, what a rerun skips, what --from
// reruns, that the outputs are the same bytes again, and the report's tables read back and
// checked against the JSON outputs they were built from (stats.json, each mixture's manifest).
// Then training and evaluation: every model trained and evaluated, and the report's training,
// retrieval and loss-difference tables checked against metrics.jsonl, results.jsonl, loss.json.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

#include "core/file_io.h"
#include "core/json_util.h"
#include "study/study.h"
#include "study/study_report.h"
#include "plot/html_report.h"
#include "study/browser.h"
#include "study/html_tables.h"
#include "test_util.h"

namespace longctx::study {
namespace {

using nlohmann::json;
using S = StageState;

// The smoke preset with smaller mixtures and tokenizer: the suite runs it in a few seconds. The
// corpus stays the preset's (a smaller one may hold no book at all, and the books mixture needs one).
StudyConfig small_smoke() {
  StudyConfig c = study_preset("smoke").value();
  c.tokenizer.vocab_size = 600;
  c.tokenizer.training_bytes = 150000;
  c.mixture_tokens = 65536;
  // One thread: ctest runs another test beside this one on a 2-core machine, and two OpenMP
  // threads on a shared core wait at every barrier.
  c.threads = 1;
  // Training and evaluation cut to the fewest steps and cells that still run every stage.
  c.pretrain.train.steps = 8;
  c.pretrain.train.warmup = 1;
  c.continued.train.steps = 2;
  for (SweepSpec* w : {&c.eval.needle, &c.eval.passkey}) {
    w->lengths = 2;
    w->depths = 2;
    w->max_new_tokens = 4;
  }
  c.eval.loss.max_tokens = 2048;
  return c;
}

// The data half only: training is in the build, and the suite trains once, on its own (below).
RunOptions data_half() {
  RunOptions o;
  o.until = "model-config";
  return o;
}

std::map<std::string, S> states(const RunResult& r) {
  std::map<std::string, S> m;
  for (const auto& s : r.stages) m[s.name] = s.state;
  return m;
}

bool is_data(const std::string& name) {
  return name.rfind("corpus", 0) == 0 || name == "tokenizer" || name.rfind("store", 0) == 0 || name == "stats" ||
         name.rfind("mix-", 0) == 0 || name == "model-config";
}

void check_first_run(const std::string& dir, const RunResult& first) {
  for (const auto& [name, state] : states(first)) {
    if (is_data(name)) {
      EXPECT_EQ(state, S::kRan) << name;
    } else {
      EXPECT_EQ(state, S::kNotReached) << name << ": " << stage_state_name(state);
    }
  }
  for (const char* f : {"study.json", "store/manifest.json", "store-validation/manifest.json", "stats/stats.json",
                        "stats/stats.png", "mix/pretrain/manifest.json", "mix/per-source/manifest.json", "model/config.json",
                        "tokenizer/tokenizer.model"}) {
    EXPECT_TRUE(file_exists(dir + "/" + f)) << f;
  }
  // The pretraining mixture packs short_context tokens per chunk, the long ones long_context.
  auto pre = read_json_file(dir + "/mix/pretrain/manifest.json");
  auto per = read_json_file(dir + "/mix/per-source/manifest.json");
  ASSERT_TRUE(pre.is_ok() && per.is_ok());
  EXPECT_EQ(pre->dump().find("\"seq_len\":256") != std::string::npos, true);
  EXPECT_EQ(per->dump().find("\"seq_len\":1024") != std::string::npos, true);
}

void check_rerun_and_from(const std::string& dir) {
  auto again = run_study(small_smoke(), dir, data_half());
  ASSERT_TRUE(again.is_ok() && again->status.is_ok());
  for (const auto& [name, state] : states(*again)) {
    if (is_data(name)) {
      EXPECT_EQ(state, S::kUpToDate) << name;
    }
  }
  auto before = read_stage_record(dir, "mix-global");
  RunOptions o = data_half();
  o.from = "mix-cut";
  auto from = run_study(small_smoke(), dir, o);
  ASSERT_TRUE(from.is_ok() && from->status.is_ok());
  bool after_from = false;
  for (const auto& s : from->stages) {
    after_from |= s.name == "mix-cut";
    if (!is_data(s.name)) continue;
    EXPECT_EQ(s.state, after_from ? S::kRan : S::kUpToDate) << s.name;
  }
  // Mixtures are deterministic: the rerun wrote the same manifest bytes.
  auto after = read_stage_record(dir, "mix-global");
  ASSERT_TRUE(before.is_ok() && after.is_ok());
  EXPECT_EQ((*before)["digests"], (*after)["digests"]);
}

void check_changed_parameter(const std::string& dir) {
  StudyConfig c = small_smoke();
  for (auto& m : c.mixtures)
    if (m.name == "global") m.options["keep_short"] = 0.2;
  auto r = run_study(c, dir, data_half());
  ASSERT_TRUE(r.is_ok() && r->status.is_ok());
  for (const auto& [name, state] : states(*r)) {
    if (is_data(name)) {
      EXPECT_EQ(state, name == "mix-global" ? S::kRan : S::kUpToDate) << name;
    }
  }
  // Back to the suite's configuration for the other tests.
  auto back = run_study(small_smoke(), dir, data_half());
  ASSERT_TRUE(back.is_ok() && back->status.is_ok());
  EXPECT_EQ(states(*back)["mix-global"], S::kRan);
}

// The command a stage lists (the report prints it) does the same work: run by hand into another
// directory, it writes the same bytes as the stage.
void check_equivalent_command(const std::string& dir) {
  for (const auto& stage : study_stages(small_smoke(), dir)) {
    if (stage.name != "mix-cut") continue;
    ASSERT_EQ(stage.commands.size(), 1u);
    std::string cmd = stage.commands[0];
    ASSERT_EQ(cmd.rfind("longctx ", 0), 0u) << cmd;
    const std::string out = dir + "/mix/cut";
    ASSERT_NE(cmd.find(out), std::string::npos) << cmd;
    cmd.replace(cmd.find(out), out.size(), dir + "/cut-by-hand");
    const auto r = testing::run_command(std::string(LONGCTX_BINARY) + " -q" + cmd.substr(7));
    ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    for (const char* f : {"manifest.json", "shard-00000.lcpk"}) {
      EXPECT_EQ(read_file(dir + "/cut-by-hand/" + f).value(), read_file(dir + "/mix/cut/" + f).value()) << f;
    }
  }
}

// ---- the report read back --------------------------------------------------------------------

// "12.34%" -> 0.1234.
double share(const std::string& cell) {
  EXPECT_EQ(cell.back(), '%') << cell;
  return std::stod(cell) / 100.0;
}

void check_corpus_table(const std::string& dir, const std::string& page) {
  const json st = read_json_file(dir + "/stats/stats.json").value();
  const auto rows = testing::table_rows(page, "corpus-stats");
  ASSERT_EQ(rows.size(), st["domains"].size() + 1);
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& d = i < st["domains"].size() ? st["domains"][i] : st["total"];
    ASSERT_EQ(rows[i].size(), 9u);
    EXPECT_EQ(rows[i][0], d["domain"].get<std::string>());
    EXPECT_EQ(std::stoull(rows[i][1]), d["documents"].get<uint64_t>());
    EXPECT_EQ(std::stoull(rows[i][2]), d["tokens"].get<uint64_t>());
    EXPECT_NEAR(share(rows[i][3]), d["token_share"].get<double>(), 5e-5);
    EXPECT_EQ(std::stoull(rows[i][4]), d["median"].get<uint64_t>());
    EXPECT_NEAR(share(rows[i][7]), d["long_token_share"]["256"].get<double>(), 5e-5);
    EXPECT_NEAR(share(rows[i][8]), d["long_token_share"]["1024"].get<double>(), 5e-5);
  }
}

void check_mixture_tables(const std::string& dir, const std::string& page) {
  for (const char* name : {"pretrain", "original", "cut", "per-source", "global", "books"}) {
    const json rep = read_json_file(dir + "/mix/" + name + "/manifest.json").value()["report"];
    const auto rows = testing::table_rows(page, std::string("mix-") + name);
    ASSERT_EQ(rows.size(), rep["after"].size()) << name;
    for (size_t i = 0; i < rows.size(); ++i) {
      const json &b = rep["before"][i], &a = rep["after"][i];
      EXPECT_EQ(rows[i][0], a["name"].get<std::string>());
      EXPECT_NEAR(share(rows[i][1]), b["token_share"].get<double>(), 5e-5) << name << " " << rows[i][0];
      EXPECT_NEAR(share(rows[i][2]), a["token_share"].get<double>(), 5e-5) << name << " " << rows[i][0];
      EXPECT_NEAR(share(rows[i][4]), a["long_share"].get<double>(), 5e-5) << name << " " << rows[i][0];
      EXPECT_EQ(std::stoul(rows[i][6]), a["max_repeat"].get<uint32_t>());
    }
  }
  // Cut at the short context leaves nothing longer than it.
  for (const auto& row : testing::table_rows(page, "mix-cut")) EXPECT_EQ(share(row[4]), 0.0) << row[0];
}

void check_stages_paper_and_pending(const std::string& dir, const std::string& page) {
  std::map<std::string, std::string> state;
  for (const auto& row : testing::table_rows(page, "stages")) state[row[0]] = row[2];
  EXPECT_EQ(state["store"], "done");
  EXPECT_EQ(state["mix-books"], "done");
  EXPECT_EQ(state["pretrain"], "not run");
  // Per-source upsampling raises the long share over the original, recomputed from the manifests.
  auto total_long = [&](const char* name) {
    const json rep = read_json_file(dir + "/mix/" + name + "/manifest.json").value()["report"];
    double s = 0;
    for (const auto& a : rep["after"]) s += a["token_share"].get<double>() * a["long_share"].get<double>();
    return s;
  };
  const auto paper = testing::table_rows(page, "paper-vs-here");
  ASSERT_GE(paper.size(), 5u);
  const bool raised = total_long("per-source") > total_long("original");
  EXPECT_EQ(paper[0][3], raised ? "yes" : "no");
  EXPECT_EQ(paper[4][2], "not run");
  for (const char* id : {"id=\"training\"", "id=\"retrieval\"", "id=\"loss\""}) {
    const size_t at = page.find(id);
    ASSERT_NE(at, std::string::npos) << id;
    EXPECT_NE(page.find("Not run.", at), std::string::npos) << id;
  }
  // Self-contained: no file or network reference.
  EXPECT_EQ(page.find("src=\"report-figures"), std::string::npos);
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("href=\"http"), std::string::npos);
}

// Every figure of the report loads in Chromium and nothing is logged; the screenshot is kept in
// the study directory (report.png) for a person to look at.
void check_report_in_browser(const std::string& dir, const std::string& page) {
  if (!testing::have_chromium()) {
    GTEST_SKIP() << "chromium is not installed (scripts/packages/report.txt)";
  }
  const auto r = testing::check_in_chromium(dir + "/report.html", dir + "/report-screenshot.png");
  ASSERT_TRUE(r.error.empty()) << r.error;
  size_t imgs = 0, svgs = 0;
  for (size_t p = 0; (p = page.find("<img ", p)) != std::string::npos; ++p) ++imgs;
  for (size_t p = 0; (p = page.find("<figure>\n<svg", p)) != std::string::npos; ++p) ++svgs;
  EXPECT_EQ(static_cast<size_t>(r.images), imgs);
  EXPECT_GE(imgs, 1u);  // the statistics figure, embedded PNG
  EXPECT_EQ(static_cast<size_t>(r.svgs), svgs);
  EXPECT_GE(svgs, 14u);  // two per mixture (six) and two for the comparison
  EXPECT_TRUE(r.bad.empty()) << "figures that did not load: " << r.bad.size() << " first " << (r.bad.empty() ? "" : r.bad[0]);
  EXPECT_TRUE(r.console.empty()) << r.console[0];
  auto shot_file = read_file(dir + "/report-screenshot.png");
  const std::string shot = shot_file.is_ok() ? *shot_file : "";
  EXPECT_EQ(shot.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

std::vector<json> jsonl(const std::string& path) {
  std::vector<json> v;
  const std::string text = read_file(path).value();
  for (size_t p = 0, q; (q = text.find('\n', p)) != std::string::npos; p = q + 1) v.push_back(json::parse(text.substr(p, q - p)));
  return v;
}

std::string fixed(double v, int digits) { return fmt::format("{:.{}f}", v, digits); }

// The rest of the study after the data half: the base model pretrained through src/train, the
// continued runs and the control, every model's needle/passkey sweep and loss through src/eval;
// then the report's model tables read back against the files they come from.
void check_whole_study(const std::string& dir) {
  StudyConfig c = small_smoke();
  auto r = run_study(c, dir, {});
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_TRUE(r->status.is_ok()) << r->status.message();
  for (const auto& [name, state] : states(*r)) {
    EXPECT_TRUE(state == S::kRan || (is_data(name) && state == S::kUpToDate)) << name << ": " << stage_state_name(state);
  }
  const auto models = study_models(c);
  ASSERT_EQ(models.size(), 4u);  // base, two continued, the control
  // The control keeps the base model's RoPE base; the continued runs raise it; all reach 1K.
  for (const auto& m : models) {
    const uint64_t steps = m.continued ? c.continued.train.steps : c.pretrain.train.steps;
    const json cfg = read_json_file(fmt::format("{}/runs/{}/step-{:06d}/config.json", dir, m.name, steps)).value();
    EXPECT_EQ(cfg["rope_theta"].get<double>(), m.rope_theta) << m.name;
    EXPECT_EQ(cfg["max_position_embeddings"].get<uint64_t>(), m.context) << m.name;
  }

  ASSERT_TRUE(write_study_report(dir).is_ok());
  const std::string page = read_file(dir + "/report.html").value();
  // Training: one row per model with its last metrics line.
  const auto training = testing::table_rows(page, "training");
  ASSERT_EQ(training.size(), models.size());
  for (size_t i = 0; i < models.size(); ++i) {
    std::vector<json> steps;
    for (auto& j : jsonl(dir + "/runs/" + models[i].name + "/metrics.jsonl"))
      if (j.contains("loss")) steps.push_back(j);
    ASSERT_FALSE(steps.empty());
    EXPECT_EQ(training[i][0], models[i].name);
    EXPECT_EQ(training[i][1], std::to_string(steps.back()["step"].get<int64_t>()));
    EXPECT_EQ(training[i][2], std::to_string(steps.back()["tokens"].get<uint64_t>()));
    EXPECT_EQ(training[i][3], fixed(steps.back()["loss"].get<double>(), 4));
  }
  // Retrieval: the mean score of each sweep over its measured cells (every length is measured,
  // also past a model's context, so nothing is skipped).
  std::map<std::string, std::string> mean;
  for (const auto& row : testing::table_rows(page, "retrieval")) mean[row[0] + "/" + row[1]] = row[2];
  EXPECT_EQ(mean.size(), 2 * models.size());
  for (const auto& m : models) {
    for (const char* task : {"needle", "passkey"}) {
      const auto cells = jsonl(dir + "/eval/" + m.name + "/" + task + "/results.jsonl");
      const SweepSpec& w = std::string(task) == "needle" ? c.eval.needle : c.eval.passkey;
      ASSERT_EQ(cells.size(), size_t{w.lengths} * w.depths) << m.name << " " << task;
      double sum = 0;
      for (const auto& cell : cells) {
        EXPECT_FALSE(cell.contains("skipped")) << cell.dump();
        sum += cell["score"].get<double>();
      }
      EXPECT_EQ(mean[m.name + "/" + task], fixed(sum / static_cast<double>(cells.size()), 3)) << m.name << " " << task;
    }
  }
  // The Table 5 layout: each continued model minus the one continued on the baseline mixture,
  // per domain, before and after the split.
  const std::string base_name = "continue-" + c.eval.loss.baseline;
  const json baseline = read_json_file(dir + "/eval/" + base_name + "/loss/loss.json").value();
  auto domain_mean = [](const json& loss, const std::string& domain, const char* key) {
    for (const auto& d : loss["domains"])
      if (d["domain"] == domain) return d[key].get<double>();
    return std::nan("");
  };
  const auto diff = testing::table_rows(page, "loss-difference");
  ASSERT_FALSE(diff.empty());
  for (const auto& row : diff) {
    const json loss = read_json_file(dir + "/eval/" + row[0] + "/loss/loss.json").value();
    const double before = domain_mean(loss, row[1], "mean_before") - domain_mean(baseline, row[1], "mean_before");
    const double after = domain_mean(loss, row[1], "mean_after") - domain_mean(baseline, row[1], "mean_after");
    if (!std::isnan(before)) EXPECT_EQ(row[2], fmt::format("{:+.3f}", before)) << row[0] << " " << row[1];
    if (!std::isnan(after)) EXPECT_EQ(row[3], fmt::format("{:+.3f}", after)) << row[0] << " " << row[1];
  }
  // Loss just inside the base length and past it, per model, recomputed from loss.json's buckets.
  const auto position = testing::table_rows(page, "loss-position");
  ASSERT_EQ(position.size(), models.size());
  for (size_t i = 0; i < models.size(); ++i) {
    const json loss = read_json_file(dir + "/eval/" + models[i].name + "/loss/loss.json").value();
    double in_sum = 0, in_n = 0, out_sum = 0, out_n = 0;
    for (const auto& b : loss["buckets"]) {
      const auto lo = b["lo"].get<uint64_t>(), hi = b["hi"].get<uint64_t>();
      const double sum = b["sum"].get<double>(), n = b["count"].get<double>();
      if (lo >= c.short_context) out_sum += sum, out_n += n;
      else if (2 * lo >= c.short_context && hi <= c.short_context) in_sum += sum, in_n += n;
    }
    ASSERT_GT(in_n, 0);
    ASSERT_GT(out_n, 0);
    EXPECT_EQ(position[i][0], models[i].name);
    EXPECT_EQ(position[i][1], fixed(in_sum / in_n, 3));
    EXPECT_EQ(position[i][2], fixed(out_sum / out_n, 3));
  }
  // Every section has its results: nothing says "Not run.".
  EXPECT_EQ(page.find("Not run."), std::string::npos);
  // A rerun finds everything done.
  auto again = run_study(c, dir, {});
  ASSERT_TRUE(again.is_ok() && again->status.is_ok());
  for (const auto& [name, state] : states(*again)) EXPECT_EQ(state, S::kUpToDate) << name;
  {
    SCOPED_TRACE("the whole report in chromium");
    check_report_in_browser(dir, page);
  }
}

// One study for the whole test: ctest runs every test case in its own process, and the study is
// the expensive part. Each check is a function; a failure names it.
TEST(Study, SmokeEndToEnd) {
  const std::string dir = testing::scratch_dir("study_run");
  auto first = run_study(small_smoke(), dir, data_half());
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  ASSERT_TRUE(first->status.is_ok()) << first->status.message();
  {
    SCOPED_TRACE("first run");
    check_first_run(dir, *first);
  }
  {
    SCOPED_TRACE("rerun and --from");
    check_rerun_and_from(dir);
  }
  {
    SCOPED_TRACE("changed parameter");
    check_changed_parameter(dir);
  }
  {
    SCOPED_TRACE("the stage's command by hand");
    check_equivalent_command(dir);
  }
  ASSERT_TRUE(write_study_report(dir).is_ok());
  const std::string page = read_file(dir + "/report.html").value();
  {
    SCOPED_TRACE("corpus table");
    check_corpus_table(dir, page);
  }
  {
    SCOPED_TRACE("mixture tables");
    check_mixture_tables(dir, page);
  }
  {
    SCOPED_TRACE("stages, paper vs here, pending sections");
    check_stages_paper_and_pending(dir, page);
  }
  {
    SCOPED_TRACE("in chromium");
    check_report_in_browser(dir, page);
  }
  {
    SCOPED_TRACE("the whole study");
    check_whole_study(dir);
  }
}

// The browser check can fail: a figure that does not load and one that draws nothing are found,
// and the blocked request shows on the console.
TEST(Study, BrowserCheckFindsABrokenFigure) {
  if (!testing::have_chromium()) GTEST_SKIP() << "chromium is not installed (scripts/packages/report.txt)";
  const std::string dir = testing::scratch_dir("browser_negative");
  plot::HtmlReport rep;
  rep.title = "broken";
  rep.self_contained = true;
  rep.sections.push_back({"figures", {plot::HtmlText{"text"}}, "figures"});
  std::string html = plot::render_html_report(rep, dir).value();
  html.insert(html.find("</body>"), "<figure><img src=\"missing.png\" alt=\"x\"></figure><figure><svg width=\"20\" height=\"20\"></svg></figure>");
  ASSERT_TRUE(write_file_atomic(dir + "/broken.html", html).is_ok());
  const auto r = testing::check_in_chromium(dir + "/broken.html");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.images, 1);
  EXPECT_EQ(r.svgs, 1);
  EXPECT_EQ(r.bad, (std::vector<std::string>{"img0", "svg0"}));
  EXPECT_FALSE(r.console.empty());
}

}  // namespace
}  // namespace longctx::study
