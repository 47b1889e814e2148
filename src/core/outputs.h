// Safe outputs: one policy for every writer (docs/architecture.md
// "Run lifecycle: fingerprint, lock, resume, manifest-last publish, output kinds").
//
// 1. Nothing but a regular file is ever written to or replaced: an output path that is a symbolic
//    link, a device, a FIFO or a socket is refused (the writers in file_io.h check this on open and
//    again right before each rename, so not even a rename can put a file over /dev/full).
// 2. An existing output is replaced only with --overwrite.
// 3. --overwrite replaces only an output of the same KIND, and removes only the files that kind
//    owns: a mixture never replaces a document store, an export never a store's data file, a
//    checkpoint folder only a checkpoint folder. A file or directory longctx does not recognise is
//    never replaced or emptied.
//
// Every output longctx writes has a kind (the table in outputs.cc). A kind recognises an existing
// output of itself from its content (magic bytes, a manifest's format name, marker files), so the
// refusal can name what is there: "'data/store' is a document store, not a mixture; choose another
// --out".
#pragma once
#include <span>
#include <string>
#include <string_view>

#include "core/file_io.h"
#include "core/status.h"

namespace longctx {

struct OutputKind {
  std::string_view id = {};    // stable identifier, recorded in a run directory's resume.json
  std::string_view name = {};  // for messages: "'X' is {name}"
  bool directory = false;
  bool stdout_ok = false;  // "-" means standard output (commands that print data)
  // Whether an existing path (a regular file, or a directory for directory kinds) is of this kind.
  bool (*recognise)(const std::string& path) = nullptr;
  // ---- directory kinds ----
  std::string_view manifest = {};  // written last: its presence marks a finished output
  // Entries (names directly inside the directory, without a trailing ".tmp") that make up the
  // output; --overwrite removes these and nothing else ("train" or "validation" are removed whole).
  bool (*member)(std::string_view entry) = nullptr;
  // Files the output's command writes beside its members (mix --export): removed with them by
  // --overwrite, but recognised by their own file kind when named directly.
  bool (*attachment)(std::string_view entry) = nullptr;
  // Data files published together with the manifest: written as "<name>.partial" and renamed by
  // RunDir::publish before the manifest appears (run_dir.h).
  std::span<const std::string_view> published = {};
  // A folder of its own: an existing directory not of this kind must be empty (the lock file
  // aside), rather than merely free of the kind's entry names. For outputs that are a whole
  // folder a user names per run (an evaluation's results), not files dropped among others'.
  bool sole = false;
};

namespace kinds {
// Directories.
extern const OutputKind kDocumentStore;   // tokenize, store merge, mix synth-store
extern const OutputKind kMixture;         // mix, mix merge (packed shards + manifest.json)
extern const OutputKind kCheckpoint;      // model init (Hugging Face layout); a training run's step-N/
extern const OutputKind kTrainingRun;     // train --out (run.json, step-N/, metrics, summary.json)
extern const OutputKind kNeedleRun;       // needle --out (results.jsonl/csv, heatmap, needle.json last)
extern const OutputKind kLossRun;         // loss --out (loss.json last, loss.md, difference.*, position-loss.*)
extern const OutputKind kSampleCorpus;    // corpus sample
extern const OutputKind kSynthCorpus;     // corpus synth
// Files.
extern const OutputKind kMegatronExport;  // export --format megatron: PREFIX.bin + PREFIX.idx
extern const OutputKind kLlmcShard;       // export --format llmc: PREFIX_000000.bin, ...
extern const OutputKind kJsonlRows;       // export --format jsonl
extern const OutputKind kFigure;          // --figure: PNG or SVG
extern const OutputKind kStatsJson;       // stats --json
extern const OutputKind kReportJson;      // mix report --json, mix --report-json
extern const OutputKind kPlanJson;        // mix --plan-only --out DIR: DIR/plan.json
extern const OutputKind kMarkdown;        // stats / mix report / mix compare --markdown
extern const OutputKind kNpy;             // model forward --out
extern const OutputKind kGguf;            // model export-gguf --out
extern const OutputKind kTokenizerModel;  // tokenizer train --out (PREFIX.model)
extern const OutputKind kTokenizerVocab;  // tokenizer train (PREFIX.vocab beside the model)
// Recognised so that refusals can name them; no command writes them as a file of their own.
extern const OutputKind kStoreDataFile;   // a store's tokens.bin / docs.bin (magic LCTXTOK1 / LCTXDOC1)
extern const OutputKind kPackedShard;     // shard-NNNNN.lcpk (magic LCTXPAK1)
extern const OutputKind kSafetensors;     // model weights
}  // namespace kinds

// The kind of an existing path: a file by its content, else (a file directly inside a directory of
// a known kind) the kind it is a member of, reported through `owner`. nullptr: not recognised.
const OutputKind* identify_output(const std::string& path, std::string* owner = nullptr);

// The whole policy for writing an output of `kind` at `path`, checked before any work:
//  - "-" is accepted only where kind.stdout_ok;
//  - a path that does not exist is accepted;
//  - a symbolic link, device, FIFO or socket is refused; so is a file where a directory is wanted
//    and the other way round;
//  - an existing output of the same kind is accepted only with `overwrite` (for a directory kind:
//    a finished one; an unfinished one is for the run lifecycle to resume or refuse);
//  - anything else (another kind, or content longctx does not recognise) is refused;
//  - a directory that is not recognised but holds an entry the kind would write is refused (for a
//    kind marked `sole`: any entry at all).
// `flag` names the option in the hint ("choose another --out").
Status check_output(const std::string& path, const OutputKind& kind, bool overwrite, std::string_view flag = "--out");

// Whether `dir` holds a finished output of directory kind `kind` (its manifest exists).
bool output_finished(const std::string& dir, const OutputKind& kind);
// Whether `dir` holds any member of directory kind `kind` (the lock file aside).
bool holds_kind_members(const std::string& dir, const OutputKind& kind);
// Removes the members and attachments of directory kind `kind` from `dir` (never anything else,
// never the lock file); used by --overwrite and when a run starts over.
Status remove_kind_files(const std::string& dir, const OutputKind& kind);

}  // namespace longctx
