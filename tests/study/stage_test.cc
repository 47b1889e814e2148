// The stage runner: records and fingerprints, skipping, reruns when parameters, inputs or
// outputs change, --from and --until, failures and crashes, slots and the stages that wait for them.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/file_io.h"
#include "core/json_util.h"
#include "study/stage.h"
#include "test_util.h"

namespace longctx::study {
namespace {

using nlohmann::json;

// Three stages a -> b -> c, each writing one file whose content is a function of its parameter
// (and, for b and c, of what they read), counting their runs.
struct Fixture {
  std::string dir;
  std::map<std::string, int> runs;
  std::map<std::string, std::string> content;  // what each stage writes ("" = its default)
  std::string fail_in;                         // a stage that fails (after writing a partial file)
  std::vector<Stage> stages;
  std::vector<StageEvent> events;

  explicit Fixture(const std::string& name) : dir(testing::scratch_dir(name)) {
    for (const char* n : {"a", "b", "c"}) content[n] = std::string("output of ") + n;
  }
  Stage make(const std::string& name, std::vector<std::string> inputs, json params = json::object()) {
    Stage s;
    s.name = name;
    s.group = "data";
    s.title = "stage " + name;
    s.inputs = std::move(inputs);
    s.params = std::move(params);
    s.outputs = {{name + ".txt", ""}};
    s.run = [this, name](const StageContext& ctx) -> Result<json> {
      ++runs[name];
      if (fail_in == name) {
        (void)write_file_atomic(ctx.dir + "/" + name + ".txt", "partial");
        return make_error(ErrorCode::kIo, "disk full");
      }
      LONGCTX_RETURN_IF_ERROR(write_file_atomic(ctx.dir + "/" + name + ".txt", content[name]));
      return json{{"replaced", ctx.replace}};
    };
    return s;
  }
  void build() { stages = {make("a", {}, {{"p", 1}}), make("b", {"a"}, {{"p", 2}}), make("c", {"b"})}; }
  RunResult run(RunOptions o = {}) {
    events.clear();
    o.on_event = [this](const StageEvent& e) { events.push_back(e); };
    auto r = run_stages(dir, stages, o);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? *r : RunResult{};
  }
  std::vector<StageState> states(const RunResult& r) {
    std::vector<StageState> s;
    for (const auto& x : r.stages) s.push_back(x.state);
    return s;
  }
};

using S = StageState;

TEST(Stages, SecondRunSkipsEverything) {
  Fixture f("stages-skip");
  f.build();
  auto r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kRan, S::kRan, S::kRan}));
  EXPECT_TRUE(r.status.is_ok());
  auto rec = read_stage_record(f.dir, "b");
  ASSERT_TRUE(rec.is_ok());
  EXPECT_EQ((*rec)["fingerprint"]["params"], (json{{"p", 2}}));
  // b's fingerprint carries a's output digest: xxh64 of "output of a".
  EXPECT_EQ((*rec)["fingerprint"]["inputs"]["a"]["a.txt"], hex64(xxh64("output of a")));
  EXPECT_EQ((*rec)["digests"]["b.txt"], hex64(xxh64("output of b")));
  EXPECT_EQ((*rec)["summary"]["replaced"], false);

  r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kUpToDate, S::kUpToDate, S::kUpToDate}));
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}));
  // Events: a plan line per stage, then an end per stage (no start: nothing ran).
  ASSERT_EQ(f.events.size(), 6u);
  EXPECT_EQ(f.events[0].kind, StageEvent::Kind::kPlan);
  EXPECT_EQ(f.events[0].state, S::kUpToDate);
  EXPECT_EQ(f.events[5].kind, StageEvent::Kind::kEnd);
}

TEST(Stages, ChangedParametersRerunDownstreamOnlyWhenBytesChange) {
  Fixture f("stages-params");
  f.build();
  f.run();
  // b's parameter changes but it writes the same bytes: b reruns, c is still up to date.
  f.stages[1].params = {{"p", 3}};
  auto r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kUpToDate, S::kRan, S::kUpToDate}));
  EXPECT_EQ(r.stages[1].why, "its inputs or parameters changed");
  // Now b writes other bytes: c reruns too.
  f.stages[1].params = {{"p", 4}};
  f.content["b"] = "another b";
  r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kUpToDate, S::kRan, S::kRan}));
  EXPECT_EQ(f.runs["c"], 2);
  // The rerun replaced an existing output.
  EXPECT_EQ((*read_stage_record(f.dir, "b"))["summary"]["replaced"], true);
}

TEST(Stages, ChangedOrMissingOutputsRerun) {
  Fixture f("stages-outputs");
  f.build();
  f.run();
  ASSERT_TRUE(write_file_atomic(f.dir + "/b.txt", "edited by hand").is_ok());
  auto r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kUpToDate, S::kRan, S::kUpToDate}));
  EXPECT_EQ(r.stages[1].why, "b.txt changed since it was written");
  std::filesystem::remove(f.dir + "/a.txt");
  r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kRan, S::kUpToDate, S::kUpToDate}));
  EXPECT_EQ(r.stages[0].why, "a.txt is missing");
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"a", 2}, {"b", 2}, {"c", 1}}));
}

TEST(Stages, FromAndUntil) {
  Fixture f("stages-from");
  f.build();
  RunOptions o;
  o.until = "b";
  auto r = f.run(o);
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kRan, S::kRan, S::kNotReached}));
  EXPECT_FALSE(file_exists(stage_record_path(f.dir, "c")));
  o = {};
  o.from = "b";
  r = f.run(o);
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kUpToDate, S::kRan, S::kRan}));
  EXPECT_EQ(r.stages[1].why, "--from b");
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 1}}));
  o.from = "z";
  auto bad = run_stages(f.dir, f.stages, o);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(), "--from: 'z' is not a stage of this study (stages: a, b, c)");
}

TEST(Stages, AFailureStopsAndTheRerunContinues) {
  Fixture f("stages-fail");
  f.build();
  f.fail_in = "b";
  auto r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kRan, S::kFailed, S::kNotReached}));
  ASSERT_FALSE(r.status.is_ok());
  EXPECT_EQ(r.status.message(), "stage b: disk full");
  EXPECT_FALSE(file_exists(stage_record_path(f.dir, "b")));  // a partial output is never recorded
  EXPECT_TRUE(file_exists(stage_record_path(f.dir, "a")));
  // Fixed: the rerun skips a and continues with b, which replaces its partial file.
  f.fail_in.clear();
  r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kUpToDate, S::kRan, S::kRan}));
  EXPECT_EQ((*read_stage_record(f.dir, "b"))["summary"]["replaced"], true);
  EXPECT_EQ(testing::read_all(f.dir + "/b.txt"), "output of b");
}

TEST(Stages, SlotsWaitAndOthersGoOn) {
  Fixture f("stages-slots");
  f.build();
  Stage train;
  train.name = "train";
  train.group = "train";
  train.inputs = {"a"};
  train.available = false;
  train.unavailable_reason = "longctx train is not in this build";
  Stage eval;
  eval.name = "eval";
  eval.group = "eval";
  eval.inputs = {"train"};
  eval.run = [](const StageContext&) -> Result<json> { return make_error(ErrorCode::kInternal, "must not run"); };
  f.stages = {f.stages[0], train, eval, f.stages[1]};
  auto r = f.run();
  EXPECT_EQ(f.states(r), (std::vector<S>{S::kRan, S::kUnavailable, S::kWaiting, S::kRan}));
  EXPECT_TRUE(r.status.is_ok());
  EXPECT_EQ(r.stages[1].why, "longctx train is not in this build");
}

TEST(Stages, BadListsAreRefused) {
  Fixture f("stages-bad");
  f.build();
  f.stages[2].inputs = {"d"};
  EXPECT_FALSE(run_stages(f.dir, f.stages, {}).is_ok());
  f.build();
  f.stages[2].name = "a";
  EXPECT_FALSE(run_stages(f.dir, f.stages, {}).is_ok());
  f.build();
  f.stages[2].name = "../c";
  EXPECT_FALSE(run_stages(f.dir, f.stages, {}).is_ok());
  // A damaged record is reported, not trusted.
  f.build();
  f.run();
  ASSERT_TRUE(write_file_atomic(stage_record_path(f.dir, "b"), "{\"stage\": \"x\"}").is_ok());
  auto r = f.run();
  EXPECT_EQ(r.stages[1].state, S::kRan);
  EXPECT_NE(r.stages[1].why.find("not a stage record of 'b'"), std::string::npos) << r.stages[1].why;
}

}  // namespace
}  // namespace longctx::study
