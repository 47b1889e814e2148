// `longctx reproduce` (docs/reproduce.md): the paper's study as a list of stages over one study
// directory, built from a StudyConfig.
//
//   corpus -> tokenizer -> store (+ store-validation) -> stats -> mix-<name> per mixture
//     -> model-config -> pretrain -> continue-<mixture> per long mixture, control
//     -> needle-<model>, passkey-<model>, loss-<model> per model
//
// Training and evaluation are slots in this build (stage.h): their configurations and output
// layouts are fixed here, their libraries are not part of the build yet.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"
#include "study/stage.h"
#include "study/study_config.h"

namespace longctx::study {

// Paths inside a study directory (docs/reproduce.md "The study directory").
namespace layout {
inline constexpr const char* kConfig = "study.json";       // the resolved configuration, every field
inline constexpr const char* kReport = "report.html";
inline constexpr const char* kCorpus = "corpus";           // corpus sample / synth output
inline constexpr const char* kCorpusValidation = "corpus-validation";  // synth: the held-out corpus
inline constexpr const char* kCorpusList = "corpus.json";  // source "path": the input files and sizes
inline constexpr const char* kTokenizer = "tokenizer/tokenizer.model";
inline constexpr const char* kStore = "store";
inline constexpr const char* kStoreValidation = "store-validation";
inline constexpr const char* kStats = "stats";             // stats.json, stats.md, stats.svg, stats.png
inline constexpr const char* kModelConfig = "model/config.json";
inline std::string mixture(const std::string& name) { return "mix/" + name; }
// A `longctx train --out` directory (docs/training.md): metrics.jsonl, summary.json when finished,
// and a Hugging Face checkpoint folder per saved step, the last one step-<steps, 6 digits>.
inline std::string run(const std::string& name) { return "runs/" + name; }
inline constexpr const char* kRunSummary = "summary.json";
inline constexpr const char* kRunMetrics = "metrics.jsonl";
std::string checkpoint(const std::string& name, uint64_t steps);
// `longctx needle --out` folders (needle.json written last) and `longctx loss --out` (loss.json).
inline std::string eval(const std::string& model) { return "eval/" + model; }
}  // namespace layout

// A model the study trains and evaluates.
struct StudyModel {
  std::string name;     // "base", "continue-<mixture>", "control": the run's and the eval's directory
  std::string stage;    // the stage that trains it: "pretrain", "continue-<mixture>", "control"
  std::string label;    // for figures: "base (256)", "per-source", "per-source, base 10K kept"
  std::string mixture;  // what it was trained on last
  uint64_t context = 0; // its training length
  double rope_theta = 0;
  bool continued = false;
};
// base, then one continued model per continued.mixtures entry, then the control (if any).
std::vector<StudyModel> study_models(const StudyConfig& c);

// The corpus files the stages read: the training split and the held-out split (may be empty).
struct CorpusInputs {
  std::vector<std::string> train, validation;
};
CorpusInputs corpus_inputs(const StudyConfig& c, const std::string& dir);

// The stage list of a study whose directory is `dir` (as the user wrote it: it appears in the
// stages' equivalent commands, never in a fingerprint, so a study directory can be moved).
std::vector<Stage> study_stages(const StudyConfig& c, const std::string& dir);

// Validates the configuration, takes the directory's lock, writes study.json and runs the stages
// (stage.h). The directory must be new, empty, or a study directory (one with study.json).
Result<RunResult> run_study(const StudyConfig& c, const std::string& dir, const RunOptions& options);

// Reads "<dir>/study.json" (written by run_study).
Result<StudyConfig> read_study_dir(const std::string& dir);

}  // namespace longctx::study
