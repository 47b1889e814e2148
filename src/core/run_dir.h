// The run lifecycle of a command that writes an output directory (docs/architecture.md "Run
// lifecycle: fingerprint, lock, resume, manifest-last publish, output kinds"): tokenize, store
// merge, mix, mix merge, corpus sample/synth, and training.
//
// A RunDir owns, for one run:
//  - the output's KIND (outputs.h): the directory must be missing, empty, unrelated, or of that kind;
//    another kind is refused by name, and --overwrite removes only the kind's own files;
//  - the LOCK: an exclusive flock on "<dir>/.lock" while the object lives (two runs on one directory
//    would corrupt each other);
//  - the FINGERPRINT: a JSON value naming the inputs and every parameter that changes the output's
//    bytes. It is recorded in "<dir>/resume.json" when the run starts, so a rerun can tell "the same
//    command, interrupted" (resume) from "another command" (refused unless --overwrite);
//  - the RESUME STATE: whatever the run needs to continue (input position, counts, checksums of
//    what is already written), saved atomically in resume.json by checkpoint();
//  - the FAILURE record: a run that ends with an error says so in resume.json (fail()), so a rerun
//    with other options discards its partial files instead of calling it "interrupted";
//  - the MANIFEST-LAST PUBLISH: data files written as "<name>.partial" are renamed into place, then
//    the manifest appears, then resume.json goes. A run killed in the middle of publishing is
//    completed by the next open() (the data was already complete), so a directory with a manifest is
//    always a finished output.
//
// Resume integrity is the run's part of the bargain: resume state should carry checksums of what the
// run keeps (a partial file's prefix, each finished shard); when one does not match, the run calls
// start_over() (or rewrites that part) and says so with note(); the CLI prints the notes.
//
// Usage (a sketch; tokenize_corpus in store/build_store.cc and run_mix in mix/mix_run.cc are the
// real ones):
//
//   LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({out, &kinds::kDocumentStore, fingerprint, overwrite}));
//   if (run.start() == RunDir::Start::kAlreadyDone) return summary_of(run.dir());
//   State s = run.start() == RunDir::Start::kResume ? parse(run.state()) : State{};
//   if (!prefix_matches(s)) { LONGCTX_RETURN_IF_ERROR(run.start_over("tokens.bin.partial changed")); s = {}; }
//   for (...) {
//     ... write "<dir>/tokens.bin.partial" ...
//     if (time_for_a_checkpoint) LONGCTX_RETURN_IF_ERROR(run.checkpoint(to_json(s)));
//   }
//   if (!st.is_ok()) return run.fail(st);
//   return run.publish(manifest);  // renames kind.published "<f>.partial" -> f, then writes manifest.json
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/outputs.h"
#include "core/status.h"

namespace longctx {

class RunDir {
 public:
  struct Options {
    std::string dir;
    const OutputKind* kind = nullptr;  // a directory kind
    nlohmann::json fingerprint;        // inputs + parameters; compared with ==
    bool overwrite = false;            // replace a finished output, or discard another command's run
    // false: an unfinished run of this kind is started over whatever its fingerprint (merges:
    // short runs without resume state).
    bool resumable = true;
  };
  enum class Start {
    kFresh,        // nothing to continue: the run writes everything
    kResume,       // the same command was interrupted: state() holds its last checkpoint
    kAlreadyDone,  // the same command finished (its publish was completed just now): nothing to do
  };

  // Checks the directory against the output policy, creates it, takes the lock, completes an
  // interrupted publish and decides how the run starts (see Start). The messages name the kind found.
  static Result<RunDir> open(const Options& o);

  RunDir() = default;
  RunDir(RunDir&&) noexcept = default;
  RunDir& operator=(RunDir&&) noexcept = default;

  Start start() const { return start_; }
  const std::string& dir() const { return dir_; }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  // kResume: what the last checkpoint() saved (never null then).
  const nlohmann::json& state() const { return state_; }

  // Saves the resume state (resume.json, written atomically): the data it describes must already
  // be on disk (fsync it first).
  Status checkpoint(const nlohmann::json& state);
  // Records that the run ended with `error` (kept in resume.json) and returns `error`.
  Status fail(const Status& error);
  // Resume found something it cannot trust: removes the kind's files, records a fresh start and
  // notes `why` ("... ; starting over").
  Status start_over(const std::string& why);
  // Manifest-last publish: renames "<f>.partial" -> f for every f in the kind's published files
  // (already-renamed ones are skipped), writes the manifest atomically, removes resume.json.
  Status publish(const nlohmann::json& manifest);
  // For writers that write their own manifest last (a checkpoint folder's config.json): the run
  // is complete, resume.json goes.
  Status finish();

  // What the lifecycle did that the user should hear about (the CLI prints them as notes).
  void note(std::string message) { notes_.push_back(std::move(message)); }
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  Status write_resume(const nlohmann::json& state, const std::string& failed);
  std::string dir_;
  const OutputKind* kind_ = nullptr;
  nlohmann::json fingerprint_;
  nlohmann::json state_;
  Start start_ = Start::kFresh;
  DirLock lock_;
  std::vector<std::string> notes_;
};

// Manifest-last publish without a RunDir (writers that keep no resume state, such as
// StoreWriter::finish): writes "<manifest>.partial", renames "<f>.partial" -> f for each of
// `files`, then renames the manifest into place and syncs the directory.
Status publish_manifest_last(const std::string& dir, std::span<const std::string_view> files,
                             std::string_view manifest_name, const nlohmann::json& manifest);
// Completes a publish_manifest_last that was interrupted (a "<manifest>.partial" exists): the
// data were complete, so the renames are finished. Returns false when there was nothing to do.
Result<bool> complete_publish(const std::string& dir, std::span<const std::string_view> files,
                              std::string_view manifest_name);

// A short description of an unfinished run directory for readers that meet one ("an interrupted
// run: rerun the same command to resume it" or "a run that failed: <message>").
std::string describe_unfinished_run(const std::string& dir);

}  // namespace longctx
