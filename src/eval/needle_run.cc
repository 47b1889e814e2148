#include "eval/needle_run.h"

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/outputs.h"

namespace longctx::eval {
namespace {

constexpr const char* kManifest = "needle.json";
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

// Cells of JSON-lines text read from `path`; with allow_torn_tail a last line without its newline
// is dropped, any other bad line is an error naming the line.
Result<std::vector<CellResult>> read_cells_text(const std::string& text, const std::string& path, bool allow_torn_tail) {
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

Result<std::vector<CellResult>> read_cells(const std::string& path, bool allow_torn_tail) {
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  return read_cells_text(text, path, allow_torn_tail);
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

namespace {

// The manifest of a finished sweep in `dir` when it records `fp`, else null.
Result<nlohmann::json> finished_manifest_of(const std::string& dir, const nlohmann::json& fp) {
  if (path_type(dir) != PathType::kDirectory || identify_output(dir) != &kinds::kNeedleRun ||
      !output_finished(dir, kinds::kNeedleRun))
    return nlohmann::json();
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, read_json_file(at(dir, kManifest)));
  if (m.is_object() && m.contains("fingerprint") && m["fingerprint"] == fp) return m;
  return nlohmann::json();
}

// Resume state (RunDir::checkpoint): how many cells and bytes of results.partial.jsonl were
// synced, and the xxHash64 of those bytes.
nlohmann::json cells_state(size_t cells, uint64_t bytes, uint64_t hash) {
  return {{"cells", cells}, {"bytes", bytes}, {"xxh64", hex64(hash)}};
}

// The prefix of results.partial.jsonl a checkpoint vouches for, or why it cannot be trusted.
Result<std::string> checked_prefix(const std::string& path, const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("bytes") || !state["bytes"].is_number_unsigned() ||
      !state.contains("xxh64") || !state["xxh64"].is_string())
    return make_error(ErrorCode::kCorrupt, "its resume state is not a needle sweep's");
  const uint64_t bytes = state["bytes"].get<uint64_t>();
  if (path_type(path) != PathType::kRegular) return make_error(ErrorCode::kCorrupt, "{} is missing", kPartial);
  LONGCTX_ASSIGN_OR_RETURN(uint64_t size, file_size(path));
  if (size < bytes)
    return make_error(ErrorCode::kCorrupt, "{} holds {} bytes, fewer than the {} its checkpoint recorded", kPartial,
                      size, bytes);
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  text.resize(static_cast<size_t>(bytes));
  if (hex64(xxh64(text)) != state["xxh64"].get<std::string>())
    return make_error(ErrorCode::kCorrupt, "{} does not match its checkpoint's checksum", kPartial);
  return text;
}

}  // namespace

Result<NeedleRun> NeedleRun::open(const NeedleRunConfig& cfg) {
  NeedleRun r;
  r.cfg_ = cfg;
  r.fingerprint_ = needle_fingerprint(cfg);
  const std::string& dir = cfg.out_dir;
  // Refused before anything else: a link, device or another kind, whatever the flags.
  LONGCTX_RETURN_IF_ERROR(check_output(dir, kinds::kNeedleRun, /*overwrite=*/true));
  if (!cfg.overwrite) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, finished_manifest_of(dir, r.fingerprint_));
    if (!m.is_null()) {  // this very sweep, finished: read it back under the folder's lock
      LONGCTX_ASSIGN_OR_RETURN(DirLock lock, DirLock::acquire(dir));
      LONGCTX_ASSIGN_OR_RETURN(auto cells, read_cells(at(dir, kResults), false));
      r.finished_ = summarize(cfg.needle, std::move(cells));
      r.already_done_ = true;
      return r;
    }
  }
  LONGCTX_ASSIGN_OR_RETURN(r.run_, RunDir::open({dir, &kinds::kNeedleRun, r.fingerprint_, cfg.overwrite}));
  if (r.run_.start() == RunDir::Start::kAlreadyDone) {  // finished, its clean-up interrupted
    LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(at(dir, kPartial)));
    LONGCTX_ASSIGN_OR_RETURN(auto cells, read_cells(at(dir, kResults), false));
    r.finished_ = summarize(cfg.needle, std::move(cells));
    r.already_done_ = true;
  } else if (r.run_.start() == RunDir::Start::kResume) {
    // Keep what the checkpoint vouches for, or start over saying why.
    Status kept = [&]() -> Status {
      LONGCTX_ASSIGN_OR_RETURN(std::string prefix, checked_prefix(at(dir, kPartial), r.run_.state()));
      LONGCTX_ASSIGN_OR_RETURN(r.kept_cells_, read_cells_text(prefix, at(dir, kPartial), false));
      r.kept_ = std::move(prefix);
      return Status::ok();
    }();
    if (kept.is_ok()) {
      r.run_.note(fmt::format("resuming: {} cell(s) already measured", r.kept_cells_.size()));
    } else {
      r.kept_cells_.clear();
      LONGCTX_RETURN_IF_ERROR(r.run_.start_over(fmt::format("'{}': {}", dir, kept.message())));
    }
  }
  r.notes_ = r.run_.notes();
  return r;
}

Result<NeedleRunResult> NeedleRun::run(std::span<const int32_t> haystack, const TextCodec& codec, Generator& gen,
                                       const std::function<void(const SweepProgress&)>& progress,
                                       const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs) {
  NeedleRunResult out;
  out.notes = notes_;
  if (already_done_) {
    out.summary = finished_;
    out.already_done = true;
    return out;
  }
  out.reused = kept_cells_.size();
  Status st = measure_and_publish(haystack, codec, gen, progress, add_outputs, &out);
  if (!st.is_ok()) return run_.fail(st);
  return out;
}

Status NeedleRun::measure_and_publish(std::span<const int32_t> haystack, const TextCodec& codec, Generator& gen,
                                      const std::function<void(const SweepProgress&)>& progress,
                                      const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs,
                                      NeedleRunResult* out) {
  const std::string& dir = cfg_.out_dir;
  // The kept cells only: whatever followed the last checkpoint (a torn line, a cell measured but
  // not recorded) is dropped.
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(at(dir, kPartial), kept_));
  LONGCTX_ASSIGN_OR_RETURN(FileWriter partial, FileWriter::open(at(dir, kPartial), "ab"));
  Xxh64Stream hash;
  hash.update(kept_.data(), kept_.size());
  uint64_t bytes = kept_.size();
  std::vector<CellResult> cells = kept_cells_;
  auto on_cell = [&](const CellResult& c) -> Status {  // called under run_sweep's lock
    const std::string line = cell_to_json(c).dump() + "\n";
    LONGCTX_RETURN_IF_ERROR(partial.write(line));
    LONGCTX_RETURN_IF_ERROR(partial.sync());
    hash.update(line.data(), line.size());
    bytes += line.size();
    cells.push_back(c);
    return run_.checkpoint(cells_state(cells.size(), bytes, hash.digest()));
  };
  LONGCTX_RETURN_IF_ERROR(run_sweep(cfg_.needle, haystack, codec, gen, cfg_.concurrency, kept_cells_, on_cell, progress));
  LONGCTX_RETURN_IF_ERROR(partial.close());

  // Publish: results in grid order (as .partial), figures, then RunDir renames the results into
  // place and writes needle.json last; the cell log goes after that.
  out->summary = summarize(cfg_.needle, std::move(cells));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(at(dir, kResults) + ".partial", jsonl(out->summary)));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(at(dir, kCsv) + ".partial", results_csv(out->summary)));
  if (add_outputs) LONGCTX_RETURN_IF_ERROR(add_outputs(out->summary, dir));
  nlohmann::json manifest = {{"format", kFormat},
                             {"version", 1},
                             {"fingerprint", fingerprint_},
                             {"backend", gen.describe()},
                             {"tokens", codec.describe()},
                             {"cells", out->summary.cells.size()},
                             {"measured", out->summary.measured},
                             {"skipped", out->summary.skipped},
                             {"mean_score", out->summary.mean_score},
                             {"mean_rouge1_f", out->summary.mean_rouge1_f}};
  LONGCTX_RETURN_IF_ERROR(run_.publish(manifest));
  return remove_file_if_exists(at(dir, kPartial));
}

Result<NeedleRunResult> run_needle(const NeedleRunConfig& cfg, std::span<const int32_t> haystack,
                                   const TextCodec& codec, Generator& gen,
                                   const std::function<void(const SweepProgress&)>& progress,
                                   const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs) {
  LONGCTX_ASSIGN_OR_RETURN(NeedleRun run, NeedleRun::open(cfg));
  return run.run(haystack, codec, gen, progress, add_outputs);
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
