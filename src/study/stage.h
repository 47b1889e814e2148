// The stage graph of a study (docs/reproduce.md "Stages"): each stage is one call into another
// library (corpus, tokenizer, store, stats, mix, model, and later train and eval) that reads the
// outputs of earlier stages and writes its own under the study directory. This file does no
// stage's work; it decides which stages run, in what order, and records what each produced.
//
// Skipping. A stage's FINGERPRINT is a JSON value of its parameters and the digests of the
// outputs of the stages it reads. When a stage finishes, the runner records the fingerprint, the
// DIGEST of each of its outputs and its summary in "<dir>/stages/<name>.json" (written atomically,
// after the outputs are complete). A later run skips the stage when that record exists, its
// fingerprint equals the new one, and every output still has the recorded digest. A stage
// whose upstream produced the same bytes again (outputs are deterministic) is therefore still
// skipped; one whose upstream changed runs again.
//
// Digests are cheap: a directory output's manifest file (manifest.json, which carries the
// checksums of its data files, or the file the stage names), a file output's own bytes.
// `longctx verify` is the deep check.
//
// Crashes. The record is removed before a stage runs and written only after it succeeds, so a
// killed study reruns the stage it was in; that stage's library resumes its own partial output
// (docs/architecture.md "Run lifecycle"). `from` forces a stage and every stage after it to run
// again.
//
// Slots. A stage whose library is not part of this build (training and evaluation, for now) is
// listed with `available = false`: the runner reports it, and every stage that reads its outputs,
// as waiting, and carries on with the stages that do not.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "core/status.h"

namespace longctx::study {

// What a stage's run function gets.
struct StageContext {
  std::string dir;          // the study directory (outputs are relative to it)
  int threads = 0;          // 0: all cores
  ProgressFn progress;      // the stage's library progress (may be empty)
  // True when the stage runs although an output of an earlier run exists (its fingerprint
  // changed, or `from`): the stage replaces that output (the libraries' --overwrite).
  bool replace = false;
  // True when the stage had no record and was not forced by `from`: an earlier run of it may have
  // been killed, and a library that resumes its own partial output (training) should continue it
  // rather than replace it.
  bool resume = false;
  std::vector<std::string>* notes = nullptr;  // lines the CLI prints after the stage
  // Runs a call into a library that writes to the terminal itself (the SentencePiece trainer
  // logs to stderr); the CLI passes one that silences it. Empty: call it as it is.
  std::function<Status(const std::function<Status()>&)> external;
  Status call_external(const std::function<Status()>& fn) const { return external ? external(fn) : fn(); }
};

// An output of a stage, relative to the study directory. `digest_file` is the file whose bytes
// stand for the output (for a directory: its manifest); empty: `path` itself is a file.
struct StageOutput {
  std::string path;
  std::string digest_file;
};

struct Stage {
  std::string name;   // unique: "store", "mix-per-source", "continue-per-source", ...
  std::string group;  // "data", "train", "eval": the report's sections
  std::string title;  // one line for the stage list
  std::vector<std::string> inputs;    // names of the stages whose outputs it reads
  nlohmann::json params;              // everything else that changes its outputs
  std::vector<StageOutput> outputs;
  // The `longctx` commands that do the same work by hand (docs/reproduce.md: every stage can be
  // run, inspected and rerun on its own).
  std::vector<std::string> commands;
  bool available = true;
  std::string unavailable_reason;  // for a slot: what is missing ("longctx train is not in this build")
  // Does the work; returns a summary (JSON object) kept in the record. Unused for slots.
  std::function<Result<nlohmann::json>(const StageContext&)> run;
};

// The state of a stage once the runner has looked at it.
enum class StageState {
  kUpToDate,     // skipped: the record matches
  kRan,          // ran now
  kFailed,       // ran and failed (the run stops)
  kUnavailable,  // a slot whose library is not in this build
  kWaiting,      // reads the output of a stage that is unavailable or waiting
  kNotReached,   // after the last stage asked for (`until`), or after a failure
};
std::string_view stage_state_name(StageState s);

// What the runner knows before a stage starts (kPlan), and after it ends.
struct StageEvent {
  enum class Kind { kPlan, kStart, kEnd } kind = Kind::kPlan;
  const Stage* stage = nullptr;
  size_t index = 0, count = 0;    // position in the list
  StageState state = StageState::kNotReached;  // kPlan: what will happen (kRan: will run); kEnd: what did
  std::string why;                // kPlan / kEnd: the reason in words ("fingerprint changed", "from")
  double seconds = 0;             // kEnd: wall time of the run
  Status status;                  // kEnd with kFailed
};
using StageEventFn = std::function<void(const StageEvent&)>;

struct RunOptions {
  std::string from;   // rerun this stage and every stage after it
  std::string until;  // stop after this stage (empty: run to the end)
  bool plan_only = false;  // report the plan (kPlan events) and run nothing
  int threads = 0;
  std::function<ProgressFn(const Stage&)> progress;  // a progress callback per stage (may be empty)
  StageEventFn on_event;
  std::function<Status(const std::function<Status()>&)> external;  // StageContext::external
};

struct StageResult {
  std::string name;
  StageState state = StageState::kNotReached;
  std::string why;
  double seconds = 0;  // this run's wall time (kRan), else the recorded one (kUpToDate)
  std::vector<std::string> notes;
};

struct RunResult {
  std::vector<StageResult> stages;  // the list's order
  Status status;                    // the first failure, else ok
};

// Checks the list (unique names, inputs naming earlier stages, from/until naming stages), then
// runs it. Returns an error only for a bad list or options; a stage's failure is in the result.
Result<RunResult> run_stages(const std::string& dir, const std::vector<Stage>& stages, const RunOptions& options);

// The record of a finished stage, or null when there is none. Records live in
// "<dir>/stages/<name>.json": {"stage", "fingerprint", "digests": {path: hex}, "seconds", "summary"}.
Result<nlohmann::json> read_stage_record(const std::string& dir, const std::string& name);
std::string stage_record_path(const std::string& dir, const std::string& name);

// The fingerprint the runner records for `stage` given its inputs' records (docs above).
Result<nlohmann::json> stage_fingerprint(const std::string& dir, const Stage& stage);

// The digest of one output (xxh64 of its digest file, hex), or an error when it is missing.
Result<std::string> output_digest(const std::string& dir, const StageOutput& out);

}  // namespace longctx::study
