#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_util.h"
#include "model/checkpoint.h"

namespace longctx::train {

namespace fs = std::filesystem;

namespace {

constexpr char kOptMagic[8] = {'L', 'C', 'T', 'X', 'O', 'P', 'T', '1'};
constexpr uint32_t kOptVersion = 1;

Status fsync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open '{}' to sync it: {}", path, std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return make_error(ErrorCode::kIo, "cannot sync '{}': {}", path, std::strerror(err));
  return Status::ok();
}

Status write_optimizer(const std::string& path, const AdamW& opt) {
  LONGCTX_ASSIGN_OR_RETURN(FileWriter w, FileWriter::open(path));
  const uint32_t head[2] = {kOptVersion, 0};
  const uint64_t counts[2] = {(uint64_t)opt.step(), (uint64_t)opt.m().size()};
  LONGCTX_RETURN_IF_ERROR(w.write(kOptMagic, 8));
  LONGCTX_RETURN_IF_ERROR(w.write(head, sizeof head));
  LONGCTX_RETURN_IF_ERROR(w.write(counts, sizeof counts));
  LONGCTX_RETURN_IF_ERROR(w.write(opt.m().data(), opt.m().size() * sizeof(float)));
  LONGCTX_RETURN_IF_ERROR(w.write(opt.v().data(), opt.v().size() * sizeof(float)));
  LONGCTX_RETURN_IF_ERROR(w.sync());
  return w.close();
}

Status read_optimizer(const std::string& path, AdamW* opt) {
  LONGCTX_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(path));
  const size_t n = opt->m().size(), want = 32 + 8 * n;
  if (f.size() < 32 || std::memcmp(f.data(), kOptMagic, 8) != 0)
    return make_error(ErrorCode::kCorrupt, "'{}': not an optimizer state (magic LCTXOPT1)", path);
  uint32_t version;
  uint64_t counts[2];
  std::memcpy(&version, f.data() + 8, 4);
  std::memcpy(counts, f.data() + 16, 16);
  if (version != kOptVersion) return make_error(ErrorCode::kCorrupt, "'{}': version {}, expected {}", path, version, kOptVersion);
  if (counts[1] != n || f.size() != want)
    return make_error(ErrorCode::kCorrupt, "'{}': {} parameters in {} bytes, the model has {} ({} bytes expected)", path,
                      counts[1], f.size(), n, want);
  std::memcpy(opt->m().data(), f.data() + 32, 4 * n);
  std::memcpy(opt->v().data(), f.data() + 32 + 4 * n, 4 * n);
  opt->set_step((int64_t)counts[0]);
  return Status::ok();
}

Result<std::string> file_checksum(const std::string& path) {
  LONGCTX_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(path));
  return hex64(xxh64_bytes(f.data(), f.size(), 0));
}

Status write_checkpoint_files(const std::string& tmp, const model::LlamaModel& m, const AdamW& opt,
                              const TrainerState& st, const std::vector<std::string>& tok_files) {
  LONGCTX_RETURN_IF_ERROR(model::save_checkpoint(m, tmp, model::SaveOptions{}));
  for (const std::string& f : tok_files) {
    LONGCTX_ASSIGN_OR_RETURN(std::string bytes, read_file(f));
    std::string name = fs::path(f).filename().string();
    if (fs::path(f).extension() == ".model") name = "tokenizer.model";  // the name HF loaders look for
    LONGCTX_RETURN_IF_ERROR(write_file_atomic(tmp + "/" + name, bytes));
  }
  LONGCTX_RETURN_IF_ERROR(write_optimizer(tmp + "/optimizer.bin", opt));
  for (const auto& e : fs::directory_iterator(tmp)) LONGCTX_RETURN_IF_ERROR(fsync_file(e.path().string()));
  LONGCTX_ASSIGN_OR_RETURN(std::string opt_sum, file_checksum(tmp + "/optimizer.bin"));
  LONGCTX_ASSIGN_OR_RETURN(std::string model_sum, file_checksum(tmp + "/model.safetensors"));
  const nlohmann::json state = {{"format", "longctx-train-state"}, {"version", 1}, {"step", st.step},
                                {"tokens", st.tokens}, {"sequences", st.sequences}, {"seed", st.seed},
                                {"metrics_lines", st.metrics_lines},
                                // the data order is a pure function of (seed, step, rank): no other
                                // random state exists to save (docs/training.md "Resume")
                                {"rng", {{"data_order_seed", st.seed}, {"next_sequence", st.sequences}}},
                                {"checksums", {{"optimizer.bin", opt_sum}, {"model.safetensors", model_sum}}}};
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(tmp + "/trainer_state.json", state.dump(2) + "\n"));
  LONGCTX_RETURN_IF_ERROR(fsync_file(tmp + "/trainer_state.json"));
  return sync_directory(tmp);
}

bool parse_step_name(const std::string& name, int64_t* step) {
  if (name.size() < 11 || name.compare(0, 5, "step-") != 0) return false;
  int64_t v = 0;
  for (size_t i = 5; i < name.size(); i++) {
    if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (name[i] - '0');
  }
  *step = v;
  return true;
}

// The files a run writes (what --overwrite may remove).
bool run_member(const std::string& name) {
  int64_t s;
  if (parse_step_name(name, &s)) return true;
  if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 && parse_step_name(name.substr(0, name.size() - 4), &s))
    return true;
  for (const char* f : {"run.json", "metrics.jsonl", "summary.json", "loss.png", "loss.svg", "val-loss.png", "val-loss.svg",
                        ".lock"})
    if (name == f) return true;
  return false;
}

// "lr 0.001 (recorded) vs 2e-05 (now)" for the keys that differ.
std::string identity_difference(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  for (auto it = b.begin(); it != b.end(); ++it) {
    const nlohmann::json old = a.contains(it.key()) ? a.at(it.key()) : nlohmann::json();
    if (old != it.value()) out += fmt::format("{}{} {} (recorded) vs {} (now)", out.empty() ? "" : ", ", it.key(), old.dump(), it.value().dump());
  }
  return out.empty() ? "the recorded identity differs" : out;
}

}  // namespace

std::string checkpoint_name(int64_t step) { return fmt::format("step-{:06d}", step); }

std::vector<int64_t> list_checkpoints(const std::string& run) {
  std::vector<int64_t> steps;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(run, ec)) {
    int64_t s;
    if (e.is_directory() && !e.is_symlink() && parse_step_name(e.path().filename().string(), &s) &&
        file_exists(e.path().string() + "/trainer_state.json"))
      steps.push_back(s);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

Status save_training_checkpoint(const std::string& run, const model::LlamaModel& m, const AdamW& opt,
                                const TrainerState& st, const std::vector<std::string>& tok_files, int keep_last) {
  const std::string final_dir = run + "/" + checkpoint_name(st.step), tmp = final_dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  Status s = make_dirs(tmp);
  if (s.is_ok()) s = write_checkpoint_files(tmp, m, opt, st, tok_files);
  if (s.is_ok() && fs::exists(final_dir)) fs::remove_all(final_dir, ec);  // same step saved again
  if (s.is_ok()) {
    fs::rename(tmp, final_dir, ec);
    if (ec) s = make_error(ErrorCode::kIo, "cannot rename '{}' to '{}': {}", tmp, final_dir, ec.message());
  }
  if (s.is_ok()) s = sync_directory(run);
  if (!s.is_ok()) {
    fs::remove_all(tmp, ec);  // never leave a checkpoint that could pass for a complete one
    return s.with_context(fmt::format("saving the checkpoint of step {}", st.step));
  }
  if (keep_last > 0) {
    std::vector<int64_t> all = list_checkpoints(run);
    for (size_t i = 0; i + (size_t)keep_last < all.size(); i++) fs::remove_all(run + "/" + checkpoint_name(all[i]), ec);
  }
  return Status::ok();
}

Status load_training_checkpoint(const std::string& run, int64_t step, model::LlamaModel* m, AdamW* opt,
                                TrainerState* st) {
  const std::string dir = run + "/" + checkpoint_name(step);
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(dir + "/trainer_state.json"));
  try {
    for (const char* f : {"optimizer.bin", "model.safetensors"}) {
      LONGCTX_ASSIGN_OR_RETURN(std::string sum, file_checksum(dir + "/" + f));
      const std::string want = j.at("checksums").at(f).get<std::string>();
      if (sum != want)
        return make_error(ErrorCode::kCorrupt, "'{}/{}': checksum {} differs from trainer_state.json's {}", dir, f, sum, want);
    }
    st->step = j.at("step").get<int64_t>();
    st->tokens = j.at("tokens").get<uint64_t>();
    st->sequences = j.at("sequences").get<uint64_t>();
    st->seed = j.at("seed").get<uint64_t>();
    st->metrics_lines = j.at("metrics_lines").get<int64_t>();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}/trainer_state.json': {}", dir, e.what());
  }
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel loaded, model::load_checkpoint(dir));
  if (loaded.num_params() != m->num_params())
    return make_error(ErrorCode::kCorrupt, "'{}': {} parameters, the run's model has {}", dir, loaded.num_params(), m->num_params());
  std::memcpy(m->params(), loaded.params(), sizeof(float) * (size_t)m->num_params());
  LONGCTX_RETURN_IF_ERROR(read_optimizer(dir + "/optimizer.bin", opt));
  if (opt->step() != st->step)
    return make_error(ErrorCode::kCorrupt, "'{}': optimizer.bin is at step {}, trainer_state.json at {}", dir, opt->step(), st->step);
  return Status::ok();
}

Result<RunFiles> RunFiles::open(const TrainConfig& c) {
  RunFiles r;
  r.dir_ = c.out;
  std::error_code ec;
  const auto st = fs::symlink_status(c.out, ec);
  if (fs::is_symlink(st)) return make_error(ErrorCode::kInvalidArgument, "--out '{}' is a symbolic link; give a directory", c.out);
  if (fs::exists(st) && !fs::is_directory(st))
    return make_error(ErrorCode::kInvalidArgument, "--out '{}' exists and is not a directory; choose another --out", c.out);
  LONGCTX_RETURN_IF_ERROR(make_dirs(c.out));
  LONGCTX_ASSIGN_OR_RETURN(r.lock_, DirLock::acquire(c.out));
  const std::string run_json = c.out + "/run.json";
  bool ours = file_exists(run_json);
  std::vector<std::string> foreign;
  for (const auto& e : fs::directory_iterator(c.out, ec))
    if (!run_member(e.path().filename().string())) foreign.push_back(e.path().filename().string());
  if (!foreign.empty())
    return make_error(ErrorCode::kInvalidArgument, "--out '{}' is not a training run directory (it holds '{}'); choose another --out",
                      c.out, foreign.front());
  if (ours) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(run_json));
    const nlohmann::json recorded = j.value("identity", nlohmann::json());
    const nlohmann::json now = run_identity(c);
    if (j.value("format", std::string()) != kRunFormat)
      return make_error(ErrorCode::kCorrupt, "'{}': not a training run record (format '{}')", run_json, j.value("format", std::string()));
    if (recorded != now && !c.overwrite)
      return make_error(ErrorCode::kInvalidArgument,
                        "--out '{}' holds another training run ({}); continue it with `longctx train --resume {}`, "
                        "replace it with --overwrite, or choose another --out",
                        c.out, identity_difference(recorded, now), c.out);
    if (recorded != now) ours = false;  // --overwrite: start again below
  }
  if (!ours || c.overwrite) {
    // a fresh run (or --overwrite): only the run's own files go
    for (const auto& e : fs::directory_iterator(c.out, ec))
      if (e.path().filename() != ".lock") fs::remove_all(e.path(), ec);
    const nlohmann::json j = {{"format", kRunFormat}, {"version", 1}, {"config", config_to_json(c)}, {"identity", run_identity(c)}};
    LONGCTX_RETURN_IF_ERROR(write_file_atomic(run_json, j.dump(2) + "\n"));
  }
  for (const auto& e : fs::directory_iterator(c.out, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) fs::remove_all(e.path(), ec);
  }
  r.finished_ = file_exists(c.out + "/summary.json");
  return r;
}

Result<TrainConfig> read_run_config(const std::string& run) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(run + "/run.json"));
  if (j.value("format", std::string()) != kRunFormat || !j.contains("config"))
    return make_error(ErrorCode::kCorrupt, "'{}/run.json': not a training run record", run);
  LONGCTX_ASSIGN_OR_RETURN(TrainConfig c, config_from_json(j.at("config")));
  c.out = run;
  return c;
}

std::vector<std::string> tokenizer_files(const TrainConfig& c) {
  std::vector<std::string> files;
  if (!c.tokenizer.empty()) {
    if (fs::is_directory(c.tokenizer)) {
      for (const char* f : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json"})
        if (file_exists(c.tokenizer + "/" + f)) files.push_back(c.tokenizer + "/" + f);
    } else {
      files.push_back(c.tokenizer);
    }
    return files;
  }
  if (c.model.empty()) return files;
  for (const char* f : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "generation_config.json"})
    if (file_exists(c.model + "/" + f)) files.push_back(c.model + "/" + f);
  return files;
}

}  // namespace longctx::train
