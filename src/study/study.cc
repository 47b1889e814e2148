#include "study/study.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/json_util.h"
#include "study/study_internal.h"

namespace longctx::study {

namespace fs = std::filesystem;

std::string shell_quote(std::string_view word) {
  bool safe = !word.empty();
  for (char ch : word) {
    safe &= std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("/._-+=:,@%").find(ch) != std::string_view::npos;
  }
  if (safe) return std::string(word);
  std::string out = "'";
  for (char ch : word) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + shell_quote(w);
  return out;
}

std::string layout::checkpoint(const std::string& name, uint64_t steps) { return fmt::format("{}/step-{:06}", run(name), steps); }

std::string dir_arg(const std::string& dir, std::string_view rel) { return shell_quote(dir + "/" + std::string(rel)); }

std::vector<StudyModel> study_models(const StudyConfig& c) {
  const auto theta = [](double t) { return t >= 1000 && std::fmod(t, 1000) == 0 ? fmt::format("{}K", t / 1000) : fmt::format("{}", t); };
  std::vector<StudyModel> models;
  models.push_back({"base", "pretrain", fmt::format("base ({})", c.short_context), c.pretrain.mixture, c.short_context,
                    c.model.rope_theta, false});
  for (const auto& mix : c.continued.mixtures) {
    models.push_back({"continue-" + mix, "continue-" + mix, mix, mix, c.long_context, c.continued.rope_theta, true});
  }
  if (!c.continued.control.empty()) {
    models.push_back({"control", "control", fmt::format("{}, base {} kept", c.continued.control, theta(c.model.rope_theta)),
                      c.continued.control, c.long_context, c.model.rope_theta, true});
  }
  return models;
}

std::vector<Stage> study_stages(const StudyConfig& c, const std::string& dir) {
  std::vector<Stage> stages = corpus_stages(c, dir);
  for (auto* part : {&store_and_mix_stages, &training_stages, &evaluation_stages}) {
    for (auto& s : (*part)(c, dir)) stages.push_back(std::move(s));
  }
  return stages;
}

Result<StudyConfig> read_study_dir(const std::string& dir) {
  const std::string path = dir + "/" + layout::kConfig;
  if (!file_exists(path)) {
    return make_error(ErrorCode::kNotFound, "'{}' is not a study directory: it has no {} (written by longctx reproduce)", dir,
                      layout::kConfig);
  }
  return read_study_config(path);
}

Result<RunResult> run_study(const StudyConfig& c, const std::string& dir, const RunOptions& options) {
  LONGCTX_RETURN_IF_ERROR(validate_study_config(c));
  // The directory: new, empty, or a study directory; never a link or a file.
  std::error_code ec;
  const auto st = fs::symlink_status(dir, ec);
  if (fs::is_symlink(st)) return make_error(ErrorCode::kInvalidArgument, "--out '{}' is a symbolic link; give the directory itself", dir);
  if (fs::exists(st) && !fs::is_directory(st)) return make_error(ErrorCode::kInvalidArgument, "--out '{}' is not a directory", dir);
  if (fs::is_directory(st) && !fs::is_empty(dir, ec) && !file_exists(dir + "/" + layout::kConfig)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--out '{}' holds other files and is not a study directory (no {}); choose another --out", dir,
                      layout::kConfig);
  }
  LONGCTX_RETURN_IF_ERROR(make_dirs(dir));
  LONGCTX_ASSIGN_OR_RETURN(DirLock lock, DirLock::acquire(dir));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(dir + "/" + layout::kConfig, study_config_json(c).dump(2) + "\n"));
  RunOptions o = options;
  if (o.threads == 0) o.threads = c.threads;
  return run_stages(dir, study_stages(c, dir), o);
}

}  // namespace longctx::study
