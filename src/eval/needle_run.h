// A needle sweep's output directory (docs/evaluation.md "Outputs"): results.jsonl and
// results.csv (one row per cell), needle.json (the configuration, the model, the summary; written
// last: its presence marks a finished sweep) and whatever figures the caller adds. An
// interrupted sweep resumes: each finished cell is appended to results.partial.jsonl (flushed and
// synced) under a resume.json that records the run's fingerprint; a rerun with the same
// fingerprint skips the cells already there.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

// Runs (or resumes, or finds finished) the sweep. `add_outputs(summary, dir)` writes extra files
// (figures) into the directory before needle.json is published.
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
