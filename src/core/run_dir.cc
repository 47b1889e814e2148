#include "core/run_dir.h"

#include "core/json_util.h"

namespace longctx {
namespace {

constexpr std::string_view kResumeFile = "resume.json";

std::string partial(std::string_view name) { return std::string(name) + ".partial"; }

}  // namespace

Status publish_manifest_last(const std::string& dir, std::span<const std::string_view> files,
                             std::string_view manifest_name, const nlohmann::json& manifest) {
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(dir + "/" + partial(manifest_name), manifest));
  LONGCTX_ASSIGN_OR_RETURN(bool done, complete_publish(dir, files, manifest_name));
  (void)done;
  return Status::ok();
}

Result<bool> complete_publish(const std::string& dir, std::span<const std::string_view> files,
                              std::string_view manifest_name) {
  const std::string manifest_partial = dir + "/" + partial(manifest_name);
  if (path_type(manifest_partial) != PathType::kRegular) return false;
  for (std::string_view f : files) {
    const std::string final_path = dir + "/" + std::string(f);
    if (path_type(final_path + ".partial") == PathType::kRegular)
      LONGCTX_RETURN_IF_ERROR(rename_file(final_path + ".partial", final_path));
    else if (path_type(final_path) != PathType::kRegular)
      return make_error(ErrorCode::kCorrupt, "'{}': cannot finish publishing: '{}' is missing", dir, final_path);
  }
  LONGCTX_RETURN_IF_ERROR(rename_file(manifest_partial, dir + "/" + std::string(manifest_name)));
  LONGCTX_RETURN_IF_ERROR(sync_directory(dir));
  return true;
}

std::string describe_unfinished_run(const std::string& dir) {
  auto j = read_json_file(dir + "/" + std::string(kResumeFile));
  if (j.is_ok() && j->is_object() && j->contains("failed") && (*j)["failed"].is_string())
    return fmt::format("a run that failed ({}); fix the cause and rerun the command", (*j)["failed"].get<std::string>());
  return "an interrupted run: rerun the same command to resume it";
}

// ---------------- RunDir ----------------

Result<RunDir> RunDir::open(const Options& o) {
  if (!o.kind || !o.kind->directory)
    return make_error(ErrorCode::kInternal, "RunDir '{}': a directory kind is required", o.dir);
  LONGCTX_RETURN_IF_ERROR(check_output(o.dir, *o.kind, /*overwrite=*/true));
  LONGCTX_RETURN_IF_ERROR(make_dirs(o.dir));
  RunDir r;
  r.dir_ = o.dir;
  r.kind_ = o.kind;
  r.fingerprint_ = o.fingerprint;
  LONGCTX_ASSIGN_OR_RETURN(r.lock_, DirLock::acquire(o.dir));
  // Under the lock: what is there now is what counts.
  LONGCTX_RETURN_IF_ERROR(check_output(o.dir, *o.kind, /*overwrite=*/true));

  const std::string resume_path = r.path(kResumeFile);
  nlohmann::json resume;
  if (path_type(resume_path) == PathType::kRegular) {
    auto j = read_json_file(resume_path);
    const bool ours = j.is_ok() && j->is_object() && j->contains("kind") && (*j)["kind"].is_string() &&
                      (*j)["kind"].get<std::string>() == o.kind->id;
    if (ours) resume = *j;
    else r.note(fmt::format("'{}' is unreadable or not this run's; ignoring it", resume_path));
  }
  const bool same = resume.is_object() && resume.contains("fingerprint") && resume["fingerprint"] == o.fingerprint;
  const std::string failed = resume.is_object() && resume.contains("failed") && resume["failed"].is_string()
                                 ? resume["failed"].get<std::string>() : std::string();

  // A run killed while publishing: its data were complete, finish the renames.
  LONGCTX_ASSIGN_OR_RETURN(bool completed, complete_publish(o.dir, o.kind->published, o.kind->manifest));
  if (completed) r.note("completed the publish of an interrupted run");

  if (output_finished(o.dir, *o.kind)) {
    if (same) {  // this very command, finished but not cleaned up: that is the result
      LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(resume_path));
      r.start_ = Start::kAlreadyDone;
      return r;
    }
    if (!o.overwrite)
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' already holds {} (finished); pass --overwrite to replace it, or choose another --out",
                        o.dir, o.kind->name);
    LONGCTX_RETURN_IF_ERROR(remove_kind_files(o.dir, *o.kind));
  } else if (resume.is_object()) {
    if (same && o.resumable && resume.contains("state") && !resume["state"].is_null()) {
      r.state_ = resume["state"];
      r.start_ = Start::kResume;
      if (!failed.empty()) r.note(fmt::format("the previous run failed ({}); resuming from its last checkpoint", failed));
      return r;
    }
    if (!same && failed.empty() && !o.overwrite && o.resumable)
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' holds an interrupted run of a different command (other inputs or options); rerun the "
                        "original command to finish it, or pass --overwrite to discard it", o.dir);
    if (!same && !failed.empty()) r.note(fmt::format("discarded the partial output of an earlier run that failed ({})", failed));
    else if (!same) r.note("discarded the partial output of an unfinished earlier run");
    LONGCTX_RETURN_IF_ERROR(remove_kind_files(o.dir, *o.kind));
  } else if (holds_kind_members(o.dir, *o.kind)) {
    // Files of this kind without a manifest or resume state: no way to know what made them.
    if (!o.overwrite)
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' holds files of {} but neither its manifest nor resume state (an older version's run, or "
                        "edited by hand); pass --overwrite to start over", o.dir, o.kind->name);
    LONGCTX_RETURN_IF_ERROR(remove_kind_files(o.dir, *o.kind));
  }
  // A fresh start is recorded at once, so even a run killed before its first checkpoint leaves a
  // directory that says what it is and which command made it.
  LONGCTX_RETURN_IF_ERROR(r.write_resume(nullptr, ""));
  return r;
}

Status RunDir::write_resume(const nlohmann::json& state, const std::string& failed) {
  nlohmann::json j = {{"kind", std::string(kind_->id)}, {"fingerprint", fingerprint_}, {"state", state}};
  if (!failed.empty()) j["failed"] = failed;
  return write_json_atomic(path(kResumeFile), j);
}

Status RunDir::checkpoint(const nlohmann::json& state) {
  state_ = state;
  return write_resume(state_, "");
}

Status RunDir::fail(const Status& error) {
  if (error.is_ok() || !kind_) return error;
  (void)write_resume(state_, error.message());  // best effort: the error itself is what matters
  return error;
}

Status RunDir::start_over(const std::string& why) {
  note(why + "; starting over");
  LONGCTX_RETURN_IF_ERROR(remove_kind_files(dir_, *kind_));
  state_ = nullptr;
  start_ = Start::kFresh;
  return write_resume(nullptr, "");
}

Status RunDir::publish(const nlohmann::json& manifest) {
  LONGCTX_RETURN_IF_ERROR(publish_manifest_last(dir_, kind_->published, kind_->manifest, manifest));
  return remove_file_if_exists(path(kResumeFile));
}

Status RunDir::finish() { return remove_file_if_exists(path(kResumeFile)); }

}  // namespace longctx

