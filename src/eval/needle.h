// Needle in a haystack and the retrieval tasks built on it (paper.md "Needle in a haystack";
// docs/evaluation.md "Protocol"). The construction follows the paper's code exactly, in model
// tokens:
//   1. the haystack (repeated until long enough) is cut to `length - buffer - needle tokens`;
//   2. the needle ("\n" + needle + "\n") goes at floor(depth% x kept tokens), then moves back to
//      just after the previous token that is a period (or to the start when there is none);
//      depth 100 appends it at the end without moving it;
//   3. the prompt is BOS + template-before-{context} + context + template-after-{context} with
//      {question} filled in, each part tokenised on its own (so the needle's token position is
//      exact and the same prompt can be sent as token ids to a server).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "core/status.h"
#include "eval/generator.h"
#include "eval/text_codec.h"

namespace longctx::eval {

enum class RetrievalTask {
  kNeedle,      // the paper's needle; score: word recall of the answer
  kPasskey,     // a 5-digit number in repeated filler sentences; score: 1 if the number is answered
  kMultikey,    // several "special magic number for KEY" needles, one key asked (RULER)
  kMultivalue,  // several values of one key, all asked (RULER); score: share of values answered
};
Result<RetrievalTask> parse_task(const std::string& name);
std::string task_name(RetrievalTask t);

// The paper's defaults (paper.md "Needle in a haystack").
inline constexpr const char* kPaperNeedle =
    "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.";
inline constexpr const char* kPaperQuestion = "What is the best thing to do in San Francisco?";
inline constexpr const char* kPaperAnswer = "eat a sandwich and sit in dolores park on a sunny day";
inline constexpr const char* kPaperTemplate =
    "<|im_start|> This is a very long story book: <book> {context} </book>.\n Based on the content of the book, "
    "Question: {question}\nAnswer:";

struct NeedleConfig {
  RetrievalTask task = RetrievalTask::kNeedle;
  std::vector<int64_t> lengths;  // context lengths in model tokens (ascending after validate)
  std::vector<double> depths;    // percent, in [0, 100]
  // Empty: the task's default (the paper's for kNeedle; docs/evaluation.md for the others).
  std::string needle, question, answer, prompt_template;
  int max_new_tokens = 50;
  int64_t buffer_tokens = 200;  // room left for the template, question and answer (the paper's 200)
  int num_needles = 4;          // multikey: keys inserted (1 asked); multivalue: values of the key
  uint64_t seed = 0;            // keys and values of passkey/multikey/multivalue, distractor depths
  Status validate() const;
  // The defaults filled in (task texts); call after validate().
  NeedleConfig resolved() const;
};

// linspace(lo, hi, n) rounded to integers, as the paper's grid (np.round(np.linspace(...))).
std::vector<int64_t> linspace_lengths(int64_t lo, int64_t hi, int n);
std::vector<double> linspace_depths(int n);  // 0 .. 100, rounded to integers
// "1K:128K:40" (linspace, K = 1000 as in the paper's grid) or "1000,2000,4K" (a list).
Result<std::vector<int64_t>> parse_lengths(const std::string& text);
// "10" (that many depths from 0 to 100) or "0,50,100" (a list in percent).
Result<std::vector<double>> parse_depths(const std::string& text);

// One needle placed in a context: the step-1/2 rule above on token ids.
struct PlacedNeedle {
  std::vector<int32_t> ids;
  double depth = 0;  // percent
};
struct Insertion {
  std::vector<int32_t> context;       // haystack cut + needles
  std::vector<int64_t> needle_start;  // token offset of each needle in `context` (input order)
  int64_t haystack_tokens = 0;        // haystack tokens kept
};
// `haystack` is repeated when shorter than needed. Errors: length too small for the buffer and
// the needles, an empty haystack.
Result<Insertion> insert_needles(std::span<const int32_t> haystack, std::span<const PlacedNeedle> needles,
                                 int64_t length, int64_t buffer_tokens, const TextCodec& codec);

// A cell's prompt and what a correct answer holds.
struct CellPrompt {
  std::vector<int32_t> ids;     // the whole prompt, BOS first when the codec has one
  int64_t needle_position = 0;  // token index in `ids` of the first token of the asked needle
  std::string question;
  std::string answer;                // reference for ROUGE-1 (and the paper's word recall)
  std::vector<std::string> values;   // passkey/multikey/multivalue: what the answer must contain
};
// `cfg` resolved. Deterministic in (cfg.seed, length, depth).
Result<CellPrompt> build_cell_prompt(const NeedleConfig& cfg, std::span<const int32_t> haystack, int64_t length,
                                     double depth, const TextCodec& codec);

// The task's score of a response (word recall for kNeedle, values_found otherwise).
double task_score(const NeedleConfig& cfg, const CellPrompt& p, const std::string& response);

// The haystack text: files (a file, or the .txt/.md files of a directory in name order,
// concatenated), or, when `path` is empty, the book-like default (docs/evaluation.md
// "Haystack"): the Debian Reference (the sample corpus's RedPajamaBook document from
// debian-reference-en, corpus/sample_corpus.h). kPasskey ignores it (repeated filler).
Result<std::string> load_haystack(const std::string& path, const std::string& dpkg_dir = "/var/lib/dpkg");

// The text a task's haystack is made of: kPasskey's repeated filler sentences, else
// load_haystack(path, dpkg_dir).
Result<std::string> task_haystack(const NeedleConfig& cfg, const std::string& path,
                                  const std::string& dpkg_dir = "/var/lib/dpkg");

struct CellResult {
  int64_t length = 0;
  double depth = 0;
  bool skipped = false;
  std::string skip_reason;
  int64_t prompt_tokens = 0, needle_position = 0, completion_tokens = 0;
  std::string response;
  double score = 0, rouge1_f = 0;
  double seconds = 0;
};
nlohmann::json cell_to_json(const CellResult& c);
Result<CellResult> cell_from_json(const nlohmann::json& j);

struct SweepSummary {
  std::vector<CellResult> cells;  // (lengths x depths), length-major, in config order
  double mean_score = 0, mean_rouge1_f = 0;  // over measured (not skipped) cells
  size_t measured = 0, skipped = 0;
};
SweepSummary summarize(const NeedleConfig& cfg, std::vector<CellResult> cells);

struct SweepProgress {
  size_t done = 0, total = 0;
  int64_t prompt_tokens_done = 0, prompt_tokens_total = 0;
  double last_score = 0;
};

// Runs every cell not in `done` (keyed by length and depth), calling on_cell with each result as
// it arrives (the caller appends it to its resumable results) and in order of completion. Up to
// `concurrency` cells at once when the generator allows it. A length whose prompt + new tokens
// exceeds the generator's context is recorded as skipped, with the reason.
Status run_sweep(const NeedleConfig& cfg, std::span<const int32_t> haystack, const TextCodec& codec, Generator& gen,
                 int concurrency, const std::vector<CellResult>& done,
                 const std::function<Status(const CellResult&)>& on_cell,
                 const std::function<void(const SweepProgress&)>& progress);

}  // namespace longctx::eval
