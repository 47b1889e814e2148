#include "eval/needle_run.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/json_util.h"

namespace longctx::eval {
namespace {

constexpr const char* kManifest = "needle.json";
constexpr const char* kResume = "resume.json";
constexpr const char* kPartial = "results.partial.jsonl";
constexpr const char* kResults = "results.jsonl";
constexpr const char* kCsv = "results.csv";
constexpr const char* kFormat = "longctx-needle-run";

std::string at(const std::string& dir, const char* name) { return dir + "/" + name; }

nlohmann::json config_json(const NeedleConfig& c) {
  return {{"task", task_name(c.task)},       {"lengths", c.lengths},
          {"depths", c.depths},              {"needle", c.needle},
          {"question", c.question},          {"answer", c.answer},
          {"prompt_template", c.prompt_template}, {"max_new_tokens", c.max_new_tokens},
          {"buffer_tokens", c.buffer_tokens}, {"needles", c.num_needles},
          {"seed", c.seed}};
}

Result<NeedleConfig> config_from_json(const nlohmann::json& j) {
  NeedleConfig c;
  try {
    LONGCTX_ASSIGN_OR_RETURN(c.task, parse_task(j.at("task").get<std::string>()));
    c.lengths = j.at("lengths").get<std::vector<int64_t>>();
    c.depths = j.at("depths").get<std::vector<double>>();
    c.needle = j.at("needle").get<std::string>();
    c.question = j.at("question").get<std::string>();
    c.answer = j.at("answer").get<std::string>();
    c.prompt_template = j.at("prompt_template").get<std::string>();
    c.max_new_tokens = j.at("max_new_tokens").get<int>();
    c.buffer_tokens = j.at("buffer_tokens").get<int64_t>();
    c.num_needles = j.at("needles").get<int>();
    c.seed = j.at("seed").get<uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorrupt, "needle configuration: {}", e.what());
  }
  return c;
}

// Cells of a JSON-lines file; a torn last line (a crash mid-write) is dropped, any other bad line
// is an error naming the line.
Result<std::vector<CellResult>> read_cells(const std::string& path, bool allow_torn_tail) {
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  std::vector<CellResult> cells;
  size_t pos = 0, line = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    ++line;
    if (e == std::string::npos) {
      if (allow_torn_tail) break;
      e = text.size();
    }
    auto j = nlohmann::json::parse(text.substr(pos, e - pos), nullptr, false);
    if (j.is_discarded()) return make_error(ErrorCode::kCorrupt, "{}:{}: not a JSON object", path, line);
    auto c = cell_from_json(j);
    if (!c.is_ok()) return c.status().with_context(fmt::format("{}:{}", path, line));
    cells.push_back(*c);
    pos = e + 1;
  }
  return cells;
}

std::string jsonl(const SweepSummary& s) {
  std::string out;
  for (const auto& c : s.cells) out += cell_to_json(c).dump() + "\n";
  return out;
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

}  // namespace

std::string results_csv(const SweepSummary& s) {
  std::string out = "length,depth,prompt_tokens,needle_position,completion_tokens,score,rouge1_f,seconds,skipped,response\n";
  for (const auto& c : s.cells) {
    out += fmt::format("{},{},{},{},{},{},{},{:.3f},{},{}\n", c.length, c.depth, c.prompt_tokens, c.needle_position,
                       c.completion_tokens, c.skipped ? "" : fmt::format("{:.6g}", c.score),
                       c.skipped ? "" : fmt::format("{:.6g}", c.rouge1_f), c.seconds, csv_quote(c.skip_reason),
                       csv_quote(c.response));
  }
  return out;
}

nlohmann::json needle_fingerprint(const NeedleRunConfig& cfg) {
  return {{"format", kFormat}, {"config", config_json(cfg.needle)}, {"identity", cfg.identity}};
}

Result<NeedleRunResult> run_needle(const NeedleRunConfig& cfg, std::span<const int32_t> haystack,
                                   const TextCodec& codec, Generator& gen,
                                   const std::function<void(const SweepProgress&)>& progress,
                                   const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs) {
  namespace fs = std::filesystem;
  const std::string& dir = cfg.out_dir;
  const nlohmann::json fp = needle_fingerprint(cfg);
  NeedleRunResult out;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return make_error(ErrorCode::kInvalidArgument, "--out '{}' exists and is not a directory", dir);
  }
  if (fs::is_symlink(dir, ec)) return make_error(ErrorCode::kInvalidArgument, "--out '{}' is a symbolic link", dir);
  LONGCTX_RETURN_IF_ERROR(make_dirs(dir));
  DirLock lock;
  LONGCTX_ASSIGN_OR_RETURN(lock, DirLock::acquire(dir));

  // A finished sweep: the same one is done; another is replaced only with --overwrite.
  if (file_exists(at(dir, kManifest))) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, read_json_file(at(dir, kManifest)));
    if (m.value("fingerprint", nlohmann::json()) == fp && !cfg.overwrite) {
      LONGCTX_ASSIGN_OR_RETURN(auto cells, read_cells(at(dir, kResults), false));
      out.summary = summarize(cfg.needle, std::move(cells));
      out.already_done = true;
      return out;
    }
    if (!cfg.overwrite) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' holds a finished needle sweep with other settings; choose another --out or pass --overwrite", dir);
    }
    for (const char* f : {kManifest, kResults, kCsv}) LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(at(dir, f)));
  } else if (!fs::is_empty(dir, ec) && !file_exists(at(dir, kResume))) {
    bool only_lock = true;
    for (const auto& e : fs::directory_iterator(dir, ec)) only_lock = only_lock && e.path().filename() == ".lock";
    if (!only_lock) {
      return make_error(ErrorCode::kInvalidArgument, "--out '{}' is a directory with other files; choose an empty or new one", dir);
    }
  }

  // Resume the partial results of the same sweep; discard another sweep's.
  std::vector<CellResult> done;
  if (file_exists(at(dir, kResume))) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json r, read_json_file(at(dir, kResume)));
    if (r.value("fingerprint", nlohmann::json()) == fp && file_exists(at(dir, kPartial))) {
      LONGCTX_ASSIGN_OR_RETURN(done, read_cells(at(dir, kPartial), true));
      out.reused = done.size();
      out.notes.push_back(fmt::format("resuming: {} cell(s) already measured", done.size()));
    } else if (!(r.value("fingerprint", nlohmann::json()) == fp) && !cfg.overwrite) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' holds an unfinished needle sweep with other settings; rerun that command to resume it, "
                        "or pass --overwrite", dir);
    }
  }
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(at(dir, kResume), {{"fingerprint", fp}}));
  // Rewrite the partial file with the whole cells only (drops a torn last line).
  {
    std::string keep;
    for (const auto& c : done) keep += cell_to_json(c).dump() + "\n";
    LONGCTX_RETURN_IF_ERROR(write_file_atomic(at(dir, kPartial), keep));
  }
  LONGCTX_ASSIGN_OR_RETURN(FileWriter partial, FileWriter::open(at(dir, kPartial), "ab"));
  std::vector<CellResult> cells = done;
  auto on_cell = [&](const CellResult& c) -> Status {
    LONGCTX_RETURN_IF_ERROR(partial.write(cell_to_json(c).dump() + "\n"));
    LONGCTX_RETURN_IF_ERROR(partial.sync());
    cells.push_back(c);
    return Status::ok();
  };
  LONGCTX_RETURN_IF_ERROR(run_sweep(cfg.needle, haystack, codec, gen, cfg.concurrency, done, on_cell, progress));
  LONGCTX_RETURN_IF_ERROR(partial.close());

  // Publish: results in grid order, figures, then the manifest; the partial files go last.
  out.summary = summarize(cfg.needle, std::move(cells));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(at(dir, kResults), jsonl(out.summary)));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(at(dir, kCsv), results_csv(out.summary)));
  if (add_outputs) LONGCTX_RETURN_IF_ERROR(add_outputs(out.summary, dir));
  nlohmann::json manifest = {{"format", kFormat},
                             {"version", 1},
                             {"fingerprint", fp},
                             {"backend", gen.describe()},
                             {"tokens", codec.describe()},
                             {"cells", out.summary.cells.size()},
                             {"measured", out.summary.measured},
                             {"skipped", out.summary.skipped},
                             {"mean_score", out.summary.mean_score},
                             {"mean_rouge1_f", out.summary.mean_rouge1_f}};
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(at(dir, kManifest), manifest));
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(at(dir, kPartial)));
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(at(dir, kResume)));
  return out;
}

Result<NeedleRunData> read_needle_run(const std::string& dir) {
  NeedleRunData d;
  if (!file_exists(at(dir, kManifest))) {
    return make_error(ErrorCode::kNotFound, "'{}' holds no finished needle sweep (no {})", dir, kManifest);
  }
  LONGCTX_ASSIGN_OR_RETURN(d.manifest, read_json_file(at(dir, kManifest)));
  if (d.manifest.value("format", "") != kFormat) {
    return make_error(ErrorCode::kCorrupt, "{}: not a needle sweep manifest", at(dir, kManifest));
  }
  try {
    LONGCTX_ASSIGN_OR_RETURN(d.config, config_from_json(d.manifest.at("fingerprint").at("config")));
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorrupt, "{}: {}", at(dir, kManifest), e.what());
  }
  LONGCTX_ASSIGN_OR_RETURN(auto cells, read_cells(at(dir, kResults), false));
  d.summary = summarize(d.config, std::move(cells));
  return d;
}

}  // namespace longctx::eval
