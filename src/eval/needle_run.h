// A needle sweep's output directory (docs/evaluation.md "Outputs", docs/formats.md "Needle sweep
// folder"): results.jsonl and results.csv (one row per cell), the caller's figures, and
// needle.json (the configuration, the model, the summary) written last: its presence marks a
// finished sweep. The folder is an output kind (core/outputs.h kinds::kNeedleRun) run through the
// shared lifecycle (core/run_dir.h RunDir): lock, fingerprint in resume.json, each finished cell
// appended to results.partial.jsonl and synced, then a checkpoint recording how many bytes of it
// (and their xxHash64) a resume may keep; publish renames results.*.partial into place and writes
// needle.json last. A rerun with the same settings resumes at the next cell (or, finished, finds
// the sweep and measures nothing); other settings are refused unless --overwrite.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run_dir.h"
#include "core/status.h"
#include "eval/needle.h"

namespace longctx::eval {

struct NeedleRunConfig {
  NeedleConfig needle;        // validated and resolved
  std::string out_dir;
  bool overwrite = false;     // replace a finished sweep or another sweep's partial results
  int concurrency = 1;        // cells at once (remote backends)
  nlohmann::json identity;    // the model / endpoint and haystack: part of the fingerprint
};

struct NeedleRunResult {
  SweepSummary summary;
  size_t reused = 0;        // cells taken from an interrupted run
  bool already_done = false;  // a finished sweep with the same fingerprint was found
  std::vector<std::string> notes;
};

nlohmann::json needle_fingerprint(const NeedleRunConfig& cfg);

// A sweep folder opened for one run. open() applies the output policy and the lifecycle before
// any cell is measured, so a caller can refuse or find a finished sweep before loading a model:
//  - a finished sweep with the same fingerprint (needle.json records it) is the result; nothing
//    is measured (with --overwrite it is measured again);
//  - an interrupted sweep with the same fingerprint resumes after its last checkpointed cell (a
//    torn or unrecorded tail of results.partial.jsonl is dropped; a partial file that does not
//    match its checkpoint's checksum is started over, with a note);
//  - another sweep's results, finished or not, are refused unless --overwrite (an unfinished one
//    that recorded a failure is discarded, as every RunDir does);
//  - anything that is not a sweep folder (a store, a mixture, a training run, a non-empty
//    directory of other files, a link, a device) is refused whatever the flags.
class NeedleRun {
 public:
  static Result<NeedleRun> open(const NeedleRunConfig& cfg);

  bool already_done() const { return already_done_; }
  const SweepSummary& finished() const { return finished_; }  // already_done(): the published results
  size_t reused() const { return kept_cells_.size(); }
  const std::vector<std::string>& notes() const { return notes_; }

  // Measures the cells not yet done and publishes. `add_outputs(summary, dir)` writes extra files
  // (figures, members of the folder's kind) before needle.json. An error is recorded in
  // resume.json (RunDir::fail) and returned. When already_done(): the finished results.
  Result<NeedleRunResult> run(std::span<const int32_t> haystack, const TextCodec& codec, Generator& gen,
                              const std::function<void(const SweepProgress&)>& progress,
                              const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs);

 private:
  Status measure_and_publish(std::span<const int32_t> haystack, const TextCodec& codec, Generator& gen,
                             const std::function<void(const SweepProgress&)>& progress,
                             const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs,
                             NeedleRunResult* out);
  NeedleRunConfig cfg_;
  nlohmann::json fingerprint_;
  RunDir run_;                          // not opened when already_done_
  bool already_done_ = false;
  SweepSummary finished_;               // already_done_: the published results
  std::vector<CellResult> kept_cells_;  // resume: the cells of the kept prefix
  std::string kept_;                    // resume: the kept prefix of results.partial.jsonl
  std::vector<std::string> notes_;
};

// open() then run(): runs, resumes or finds finished the sweep.
Result<NeedleRunResult> run_needle(const NeedleRunConfig& cfg, std::span<const int32_t> haystack,
                                   const TextCodec& codec, Generator& gen,
                                   const std::function<void(const SweepProgress&)>& progress,
                                   const std::function<Status(const SweepSummary&, const std::string&)>& add_outputs);

// Reads a finished sweep's directory back (needle compare, reports).
struct NeedleRunData {
  NeedleConfig config;
  nlohmann::json manifest;
  SweepSummary summary;
};
Result<NeedleRunData> read_needle_run(const std::string& dir);

// The CSV of a sweep: header + one line per cell (RFC 4180 quoting).
std::string results_csv(const SweepSummary& s);

}  // namespace longctx::eval
