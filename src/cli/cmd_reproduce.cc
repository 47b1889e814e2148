// longctx reproduce | report (docs/reproduce.md)
#include "cli/cmd_reproduce.h"

#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/file_io.h"
#include "core/units.h"
#include "core/validate.h"
#include "study/study.h"
#include "study/study_report.h"

namespace longctx::cli {
namespace {

namespace fs = std::filesystem;
using study::StageEvent;
using study::StageState;

// One line per stage: what the runner will do with it.
void print_plan_line(const StageEvent& e) {
  std::string what;
  switch (e.state) {
    case StageState::kUpToDate: what = "up to date"; break;
    case StageState::kRan: what = "to run: " + e.why; break;
    case StageState::kUnavailable: what = "slot: " + e.why; break;
    case StageState::kWaiting: what = "waits for a slot"; break;
    default: what = std::string(study::stage_state_name(e.state)); break;
  }
  fmt::print("  {:>2}. {:<28} {}\n", e.index + 1, e.stage->name, what);
}

// Prints the plan, a header and a progress bar per stage that runs, and its end.
class StagePrinter {
 public:
  void on_event(const StageEvent& e) {
    if (e.kind == StageEvent::Kind::kPlan) {
      if (e.index == 0) fmt::print("stages of the study ({}):\n", e.count);
      print_plan_line(e);
      return;
    }
    if (e.kind == StageEvent::Kind::kStart) {
      ++started_;
      fmt::print("[{}/{}] {}: {}\n", e.index + 1, e.count, e.stage->name, e.stage->title);
      std::fflush(stdout);
      return;
    }
    if (bar_) bar_->finish(), bar_.reset();
    if (e.state == StageState::kRan) fmt::print("        done in {}\n", format_duration(e.seconds));
    if (e.state == StageState::kFailed) fmt::print("        failed after {}\n", format_duration(e.seconds));
  }
  ProgressFn progress(const study::Stage& s) {
    bar_ = std::make_unique<ProgressBar>(s.name);
    // The units the stage's command shows (train, needle, loss); data stages count documents.
    if (s.group == "train") bar_->set_units("steps", "steps");
    if (s.name.starts_with("needle-") || s.name.starts_with("passkey-")) bar_->set_units("cells", "tok");
    if (s.name.starts_with("loss-")) bar_->set_units("sequences", "positions");
    return bar_->fn();
  }
  int started() const { return started_; }

 private:
  std::unique_ptr<ProgressBar> bar_;
  int started_ = 0;
};

void print_summary(const study::RunResult& r) {
  double ran_s = 0;
  int counts[6] = {};
  for (const auto& s : r.stages) {
    ++counts[static_cast<int>(s.state)];
    if (s.state == StageState::kRan) ran_s += s.seconds;
  }
  fmt::print("\n{:<28} {:<14} {:>9}\n", "stage", "state", "time");
  for (const auto& s : r.stages) {
    const bool timed = s.state == StageState::kRan || s.state == StageState::kUpToDate || s.state == StageState::kFailed;
    fmt::print("{:<28} {:<14} {:>9}\n", s.name, study::stage_state_name(s.state), timed ? format_duration(s.seconds) : "-");
    for (const auto& n : s.notes) fmt::print("  note: {}\n", n);
  }
  fmt::print("{} ran ({}), {} up to date, {} slots not in this build, {} waiting for them\n",
             counts[static_cast<int>(StageState::kRan)], format_duration(ran_s), counts[static_cast<int>(StageState::kUpToDate)],
             counts[static_cast<int>(StageState::kUnavailable)], counts[static_cast<int>(StageState::kWaiting)]);
}

}  // namespace

Result<study::StudyConfig> ReproduceOptions::resolve() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, -1, kMaxThreads));
  if (!preset.empty() && !config.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--preset and --config: give one of them");
  }
  if (out.empty() && !print_config) return make_error(ErrorCode::kInvalidArgument, "--out: the study directory is required");
  study::StudyConfig c;
  if (!preset.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(c, study::study_preset(preset));
  } else if (!config.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(c, study::read_study_config(config));
  } else if (!out.empty() && file_exists(out + "/" + study::layout::kConfig)) {
    LONGCTX_ASSIGN_OR_RETURN(c, study::read_study_dir(out));
  } else {
    return make_error(ErrorCode::kInvalidArgument, "give --preset ({}) or --config FILE", fmt::join(study::study_preset_names(), ", "));
  }
  // Paths are kept absolute in study.json, so a study means the same from any working directory.
  if (!corpus.empty()) {
    c.corpus.source = study::CorpusSource::kPath;
    c.corpus.path = fs::absolute(corpus).lexically_normal().string();
  }
  if (!tokenizer.empty()) c.tokenizer.path = fs::absolute(tokenizer).lexically_normal().string();
  if (threads >= 0) c.threads = threads;
  LONGCTX_RETURN_IF_ERROR(study::validate_study_config(c).with_context(config.empty() ? "the study" : config));
  // --from and --until name stages of this study (the runner checks again; here it is before any work).
  for (const auto& [flag, name] : {std::pair{"--from", from}, std::pair{"--until", until}}) {
    if (name.empty()) continue;
    std::string all;
    bool found = false;
    for (const auto& s : study::study_stages(c, out)) {
      found |= s.name == name;
      all += (all.empty() ? "" : ", ") + s.name;
    }
    if (!found) return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a stage of this study (stages: {})", flag, name, all);
  }
  return c;
}

Status run_reproduce(const ReproduceOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(study::StudyConfig c, o.resolve());
  if (o.print_config) {
    fmt::print("{}\n", study::study_config_json(c).dump(2));
    return Status::ok();
  }
  StagePrinter printer;
  study::RunOptions ro;
  ro.from = o.from;
  ro.until = o.until;
  ro.plan_only = o.list;
  ro.on_event = [&](const StageEvent& e) { printer.on_event(e); };
  ro.progress = [&](const study::Stage& s) { return printer.progress(s); };
  ro.external = [](const std::function<Status()>& fn) { return with_quiet_stderr(fn); };
  if (o.list) {
    LONGCTX_RETURN_IF_ERROR(study::run_stages(o.out, study::study_stages(c, o.out), ro).status());
    return Status::ok();
  }
  LONGCTX_ASSIGN_OR_RETURN(study::RunResult r, study::run_study(c, o.out, ro));
  print_summary(r);
  if (!o.no_report) {
    Status st = study::write_study_report(o.out);
    if (st.is_ok()) fmt::print("report: {}\n", o.out + "/" + study::layout::kReport);
    if (r.status.is_ok()) LONGCTX_RETURN_IF_ERROR(st);
    else if (!st.is_ok()) report_error(st.message());
  }
  return r.status;
}

Status run_report(const ReportOptions& o) {
  LONGCTX_RETURN_IF_ERROR(study::write_study_report(o.dir));
  fmt::print("report: {}\n", o.dir + "/" + study::layout::kReport);
  return Status::ok();
}

void register_reproduce_commands(CLI::App& app) {
  {
    auto o = std::make_shared<ReproduceOptions>();
    auto* c = app.add_subcommand("reproduce", "Run the paper's study in miniature (corpus, tokenizer, store, statistics, mixtures, "
                                              "training, evaluation) and write one HTML report");
    c->add_option("--preset", o->preset, "A built-in study: smoke (seconds), tiny (about 30 minutes), small (more cores)");
    c->add_option("--config", o->config, "A study configuration file (docs/reproduce.md; may \"extends\" a preset)");
    c->add_option("--out", o->out, "The study directory (created; rerun the same command to continue it)");
    c->add_option("--corpus", o->corpus, "Use this corpus (SlimPajama's root, or corpus files) instead of building one");
    c->add_option("--tokenizer", o->tokenizer, "Use this tokenizer (.model, tokenizer.json, or a model folder) instead of training one");
    c->add_option("--from", o->from, "Run this stage and every stage after it again (see --list)");
    c->add_option("--until", o->until, "Stop after this stage");
    add_number(c, "--threads", o->threads, "Worker threads (0 = all cores; default: the configuration's)");
    c->add_flag("--list", o->list, "Print the stages and what a run would do with each, and run nothing");
    c->add_flag("--print-config", o->print_config, "Print the whole configuration (a template for --config) and exit");
    c->add_flag("--no-report", o->no_report, "Do not write report.html at the end");
    set_examples(c,
                 {"longctx reproduce --preset smoke --out study-smoke",
                  "longctx reproduce --preset tiny --out study-tiny --list",
                  "longctx reproduce --preset tiny --print-config > my-study.json",
                  "longctx reproduce --config my-study.json --out my-study --from mix-per-source",
                  "longctx reproduce --preset small --corpus /data/SlimPajama-627B --tokenizer llama-2-7b/tokenizer.model --out study"},
                 "A stage whose outputs match its inputs is skipped, so a rerun of a killed study continues where it stopped.");
    set_run(c, o, run_reproduce);
  }
  {
    auto o = std::make_shared<ReportOptions>();
    auto* c = app.add_subcommand("report", "Rebuild a study's report.html from the outputs in its directory");
    c->add_option("dir", o->dir, "The study directory (written by longctx reproduce)")->required();
    set_examples(c, {"longctx report study-smoke"});
    set_run(c, o, run_report);
  }
}

}  // namespace longctx::cli
