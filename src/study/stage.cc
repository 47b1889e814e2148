#include "study/stage.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"

namespace longctx::study {

std::string_view stage_state_name(StageState s) {
  switch (s) {
    case StageState::kUpToDate: return "up to date";
    case StageState::kRan: return "ran";
    case StageState::kFailed: return "failed";
    case StageState::kUnavailable: return "not available";
    case StageState::kWaiting: return "waiting";
    case StageState::kNotReached: return "not reached";
  }
  return "?";
}

std::string stage_record_path(const std::string& dir, const std::string& name) {
  return dir + "/stages/" + name + ".json";
}

Result<nlohmann::json> read_stage_record(const std::string& dir, const std::string& name) {
  const std::string path = stage_record_path(dir, name);
  if (!file_exists(path)) return nlohmann::json();
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json r, read_json_file(path));
  if (!r.is_object() || r.value("stage", "") != name || !r.contains("fingerprint") || !r.contains("digests") ||
      !r["digests"].is_object()) {
    return make_error(ErrorCode::kCorrupt, "'{}': not a stage record of '{}' (expected stage, fingerprint, digests)", path, name);
  }
  return r;
}

Result<std::string> output_digest(const std::string& dir, const StageOutput& out) {
  const std::string path = dir + "/" + (out.digest_file.empty() ? out.path : out.path + "/" + out.digest_file);
  LONGCTX_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(path));
  return hex64(xxh64_bytes(f.data(), f.size(), 0));
}

namespace {

// The recorded digests of the stages in `inputs` (they have run or were up to date, so their
// records exist and were checked).
Result<nlohmann::json> input_digests(const std::string& dir, const Stage& stage) {
  nlohmann::json inputs = nlohmann::json::object();
  for (const auto& in : stage.inputs) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json rec, read_stage_record(dir, in));
    if (rec.is_null()) {
      return make_error(ErrorCode::kInternal, "stage '{}' reads '{}', which has no record", stage.name, in);
    }
    inputs[in] = rec["digests"];
  }
  return inputs;
}

// Why the stage must run, or "" when its record matches (fingerprint and every output digest).
Result<std::string> why_run(const std::string& dir, const Stage& stage, const nlohmann::json& fingerprint) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json rec, read_stage_record(dir, stage.name));
  if (rec.is_null()) return std::string("no record of an earlier run");
  if (rec["fingerprint"] != fingerprint) return std::string("its inputs or parameters changed");
  for (const auto& out : stage.outputs) {
    auto d = output_digest(dir, out);
    if (!d.is_ok()) return fmt::format("{} is missing", out.path);
    if (rec["digests"].value(out.path, "") != *d) return fmt::format("{} changed since it was written", out.path);
  }
  return std::string();
}

Status check_list(const std::vector<Stage>& stages, const RunOptions& o) {
  std::set<std::string> seen;
  for (const auto& s : stages) {
    bool ok = !s.name.empty();
    for (char c : s.name) ok &= std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!ok) return make_error(ErrorCode::kInternal, "stage name '{}' is not a file name", s.name);
    for (const auto& in : s.inputs) {
      if (!seen.count(in)) return make_error(ErrorCode::kInternal, "stage '{}' reads '{}', which is not an earlier stage", s.name, in);
    }
    if (!seen.insert(s.name).second) return make_error(ErrorCode::kInternal, "two stages are named '{}'", s.name);
  }
  for (const auto& [flag, name] : {std::pair{"--from", o.from}, std::pair{"--until", o.until}}) {
    if (!name.empty() && !seen.count(name)) {
      std::string all;
      for (const auto& s : stages) all += (all.empty() ? "" : ", ") + s.name;
      return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not a stage of this study (stages: {})", flag, name, all);
    }
  }
  return Status::ok();
}

size_t index_of(const std::vector<Stage>& stages, const std::string& name, size_t fallback) {
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i].name == name) return i;
  return fallback;
}

// Runs one stage whose record did not match: removes the record, runs, records the outputs.
Status run_one(const std::string& dir, const Stage& stage, const nlohmann::json& fingerprint, const RunOptions& o,
               StageResult* res) {
  const std::string rec_path = stage_record_path(dir, stage.name);
  const bool had_record = file_exists(rec_path);
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(rec_path));
  StageContext ctx;
  ctx.dir = dir;
  ctx.threads = o.threads;
  if (o.progress) ctx.progress = o.progress(stage);
  ctx.notes = &res->notes;
  ctx.external = o.external;
  ctx.resume = !had_record && res->why.rfind("--from", 0) != 0;
  for (const auto& out : stage.outputs) ctx.replace |= std::filesystem::exists(dir + "/" + out.path);
  const auto t0 = std::chrono::steady_clock::now();
  auto summary = stage.run(ctx);
  res->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!summary.is_ok()) return summary.status().with_context("stage " + stage.name);
  nlohmann::json digests = nlohmann::json::object();
  for (const auto& out : stage.outputs) {
    auto d = output_digest(dir, out);
    if (!d.is_ok()) return d.status().with_context(fmt::format("stage {}: its output {}", stage.name, out.path));
    digests[out.path] = *d;
  }
  nlohmann::json rec = {{"stage", stage.name}, {"fingerprint", fingerprint}, {"digests", digests},
                        {"seconds", res->seconds}, {"summary", *summary}};
  return write_json_atomic(rec_path, rec);
}

}  // namespace

Result<nlohmann::json> stage_fingerprint(const std::string& dir, const Stage& stage) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json inputs, input_digests(dir, stage));
  return nlohmann::json{{"stage", stage.name}, {"params", stage.params}, {"inputs", inputs}};
}

namespace {

struct Bounds {
  size_t from, until;  // first forced stage (size() when none), last stage to run
  bool failed = false;
};

// What happens to stage i given the states of the stages before it: the same rule for the plan
// (from the records as they are) and for the run (after the stages before it ran).
StageResult decide(const std::string& dir, const std::vector<Stage>& stages, size_t i, const Bounds& b,
                   std::map<std::string, StageState>& states, const std::string& from, nlohmann::json* fingerprint) {
  const Stage& s = stages[i];
  StageResult r;
  r.name = s.name;
  bool waits = false;
  for (const auto& in : s.inputs) waits |= states[in] == StageState::kUnavailable || states[in] == StageState::kWaiting;
  if (i > b.until || b.failed) {
    r.state = StageState::kNotReached;
    r.why = b.failed ? "an earlier stage failed" : "after --until";
  } else if (!s.available) {
    r.state = StageState::kUnavailable, r.why = s.unavailable_reason;
  } else if (waits) {
    r.state = StageState::kWaiting, r.why = "reads the output of a stage that cannot run yet";
  } else {
    auto fp = stage_fingerprint(dir, s);
    if (i >= b.from) r.why = "--from " + from;
    else if (!fp.is_ok()) r.why = "an input has no record yet";
    else if (auto why = why_run(dir, s, *fp); why.is_ok()) r.why = *why;
    else r.why = why.status().message();
    if (fp.is_ok()) *fingerprint = *fp;
    r.state = r.why.empty() ? StageState::kUpToDate : StageState::kRan;
    if (r.state == StageState::kUpToDate) {
      auto rec = read_stage_record(dir, s.name);
      r.seconds = rec.is_ok() ? rec->value("seconds", 0.0) : 0.0;
    }
  }
  states[s.name] = r.state;
  return r;
}

}  // namespace

Result<RunResult> run_stages(const std::string& dir, const std::vector<Stage>& stages, const RunOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_list(stages, o));
  if (!o.plan_only) LONGCTX_RETURN_IF_ERROR(make_dirs(dir + "/stages"));
  Bounds b{o.from.empty() ? stages.size() : index_of(stages, o.from, stages.size()),
           o.until.empty() ? stages.size() - 1 : index_of(stages, o.until, stages.size() - 1)};
  auto emit = [&](StageEvent::Kind kind, size_t i, const StageResult& r, const Status& st = Status::ok()) {
    if (o.on_event) o.on_event({kind, &stages[i], i, stages.size(), r.state, r.why, r.seconds, st});
  };
  // The plan, from the records as they are: a stage whose upstream is rebuilt with other bytes
  // will run although the plan called it up to date (its end event says what happened).
  std::map<std::string, StageState> planned;
  nlohmann::json fp;
  RunResult result;
  for (size_t i = 0; i < stages.size(); ++i) {
    StageResult r = decide(dir, stages, i, b, planned, o.from, &fp);
    emit(StageEvent::Kind::kPlan, i, r);
    if (o.plan_only) result.stages.push_back(std::move(r));
  }
  if (o.plan_only) return result;

  std::map<std::string, StageState> states;
  for (size_t i = 0; i < stages.size(); ++i) {
    StageResult r = decide(dir, stages, i, b, states, o.from, &fp);
    if (r.state == StageState::kRan) {
      emit(StageEvent::Kind::kStart, i, r);
      LONGCTX_ASSIGN_OR_RETURN(fp, stage_fingerprint(dir, stages[i]));
      Status st = run_one(dir, stages[i], fp, o, &r);
      if (!st.is_ok()) {
        r.state = states[r.name] = StageState::kFailed;
        result.status = st;
        b.failed = true;
      }
      emit(StageEvent::Kind::kEnd, i, r, st);
    } else {
      emit(StageEvent::Kind::kEnd, i, r);
    }
    result.stages.push_back(std::move(r));
  }
  return result;
}

}  // namespace longctx::study
