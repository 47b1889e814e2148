// The training and evaluation stages of a study. In this build they are SLOTS (stage.h): their
// parameters, inputs, outputs and equivalent commands are fixed here, and the runner lists them
// as "not available" until the libraries that do the work (src/train: `longctx train`; src/eval:
// `longctx needle`, `longctx loss`) are part of the build. Wiring one in is writing its `run`.
//
// Output layout (docs/reproduce.md "Stages"; the formats are docs/formats.md's):
//   runs/<model>/                 a `longctx train --out` directory: metrics.jsonl, summary.json
//                                 (written when the run finished: its digest stands for the run)
//                                 and the final checkpoint step-<steps>/ (Hugging Face layout)
//   eval/<model>/needle/          a `longctx needle --out` folder: results.jsonl (one line per
//   eval/<model>/passkey/         (length, depth) cell), heatmap.svg/png, needle.json last
//   eval/<model>/loss/            a `longctx loss --out` folder: loss.json (per-domain loss before
//                                 and after the split, loss by position buckets)
#include <fmt/format.h>

#include "study/study.h"
#include "study/study_config.h"
#include "study/study_internal.h"

namespace longctx::study {
namespace {

using nlohmann::json;

constexpr const char* kTrainMissing = "needs `longctx train` (src/train), which is not in this build yet";
constexpr const char* kEvalMissing = "needs `longctx needle` / `longctx loss` (src/eval), which are not in this build yet";


std::string train_flags(const TrainSpec& t, uint64_t seq_len, uint64_t seed) {
  std::string s = fmt::format("--seq-len {} --steps {} --batch-tokens {} --micro-batch {} --lr {} --schedule {}", seq_len,
                              t.steps, t.batch_tokens, t.micro_batch, t.lr, t.schedule);
  if (t.warmup) s += fmt::format(" --warmup {}", t.warmup);
  if (t.schedule != "constant") s += fmt::format(" --min-lr {}", t.min_lr);
  return s + fmt::format(" --seed {}", seed);
}

json train_params(const TrainSpec& t) {
  return {{"steps", t.steps},       {"batch_tokens", t.batch_tokens}, {"micro_batch", t.micro_batch}, {"lr", t.lr},
          {"schedule", t.schedule}, {"warmup", t.warmup},             {"min_lr", t.min_lr}};
}

Stage train_slot(const StudyConfig& c, const std::string& dir, const StudyModel& m) {
  Stage s;
  s.name = m.stage;
  s.group = "train";
  s.available = false;
  s.unavailable_reason = kTrainMissing;
  const TrainSpec& t = m.continued ? c.continued.train : c.pretrain.train;
  s.params = {{"train", train_params(t)}, {"seq_len", m.context}, {"rope_theta", m.rope_theta}, {"seed", c.seed}};
  s.outputs = {{layout::run(m.name), layout::kRunSummary}};
  const std::string data = dir_arg(dir, layout::mixture(m.mixture)), out = dir_arg(dir, layout::run(m.name));
  if (!m.continued) {
    s.title = fmt::format("pretrain the base model from scratch on {} at {} tokens", m.mixture, m.context);
    s.inputs = {"model-config", "mix-" + m.mixture};
    s.commands = {fmt::format("longctx train --init {} --tokenizer {} --data {} --out {} {}", dir_arg(dir, layout::kModelConfig),
                              shell_quote(tokenizer_path(c, dir)), data, out, train_flags(t, m.context, c.seed))};
  } else {
    const bool raised = m.rope_theta != c.model.rope_theta;
    s.title = fmt::format("continue the base model on {} at {} tokens, RoPE base {}", m.mixture, m.context,
                          raised ? fmt::format("raised to {}", m.rope_theta) : std::string("kept (the control)"));
    s.inputs = {"pretrain", "mix-" + m.mixture};
    s.commands = {fmt::format("longctx train --model {} --data {} --out {} {}{}",
                              dir_arg(dir, layout::checkpoint("base", c.pretrain.train.steps)), data, out,
                              train_flags(t, m.context, c.seed),
                              raised ? fmt::format(" --rope-theta {}", m.rope_theta) : std::string())};
  }
  return s;
}

std::string sweep_flags(const SweepSpec& w, uint64_t train_length, uint64_t seed) {
  return fmt::format("--lengths {}:{}:{} --depths {} --max-new-tokens {} --train-length {} --seed {}", w.min_length, w.max_length,
                     w.lengths, w.depths, w.max_new_tokens, train_length, seed);
}

// The final checkpoint of a model's run.
std::string final_checkpoint(const StudyConfig& c, const StudyModel& m) {
  return layout::checkpoint(m.name, m.continued ? c.continued.train.steps : c.pretrain.train.steps);
}

json sweep_params(const SweepSpec& w) {
  return {{"min_length", w.min_length}, {"max_length", w.max_length}, {"lengths", w.lengths},
          {"depths", w.depths},         {"max_new_tokens", w.max_new_tokens}};
}

Stage sweep_slot(const StudyConfig& c, const std::string& dir, const StudyModel& m, bool passkey) {
  const SweepSpec& w = passkey ? c.eval.passkey : c.eval.needle;
  const std::string task = passkey ? "passkey" : "needle";
  const std::string out = layout::eval(m.name) + "/" + task;
  Stage s;
  s.name = task + "-" + m.name;
  s.group = "eval";
  s.title = fmt::format("{} of {}: {} lengths in [{}, {}] x {} depths", passkey ? "passkey retrieval" : "needle in a haystack",
                        m.label, w.lengths, w.min_length, w.max_length, w.depths);
  s.inputs = {m.stage};
  s.available = false;
  s.unavailable_reason = kEvalMissing;
  s.params = {{"task", task}, {"sweep", sweep_params(w)}, {"seed", c.seed}};
  s.outputs = {{out, "needle.json"}};
  s.commands = {fmt::format("longctx needle{} --model {} {} --out {}", passkey ? " --task passkey" : "",
                            dir_arg(dir, final_checkpoint(c, m)), sweep_flags(w, m.context, c.seed), dir_arg(dir, out))};
  return s;
}

Stage loss_slot(const StudyConfig& c, const std::string& dir, const StudyModel& m, bool has_validation) {
  const std::string out = layout::eval(m.name) + "/loss";
  Stage s;
  s.name = "loss-" + m.name;
  s.group = "eval";
  s.title = fmt::format("loss of {} on the held-out split: per domain before/after {} tokens, and by position", m.label,
                        c.loss_split());
  s.inputs = {m.stage};
  if (has_validation) s.inputs.push_back("store-validation");
  s.available = false;
  s.unavailable_reason = has_validation ? kEvalMissing : "the corpus has no held-out split (validation/)";
  s.params = {{"split", c.loss_split()}, {"max_tokens", c.eval.loss.max_tokens}, {"seq_len", c.long_context}};
  s.outputs = {{out, "loss.json"}};
  s.commands = {fmt::format("longctx loss --model {} --data {} --seq-len {} --split {} --max-tokens {} --seed {} --out {}",
                            dir_arg(dir, final_checkpoint(c, m)), dir_arg(dir, layout::kStoreValidation), c.long_context,
                            c.loss_split(), c.eval.loss.max_tokens, c.seed, dir_arg(dir, out))};
  return s;
}

}  // namespace

std::vector<Stage> training_stages(const StudyConfig& c, const std::string& dir) {
  std::vector<Stage> stages;
  for (const auto& m : study_models(c)) stages.push_back(train_slot(c, dir, m));
  return stages;
}

std::vector<Stage> evaluation_stages(const StudyConfig& c, const std::string& dir) {
  const bool has_validation = !corpus_inputs(c, dir).validation.empty();
  std::vector<Stage> stages;
  for (const auto& m : study_models(c)) {
    if (c.eval.needle.enabled) stages.push_back(sweep_slot(c, dir, m, false));
    if (c.eval.passkey.enabled) stages.push_back(sweep_slot(c, dir, m, true));
    if (c.eval.loss.enabled) stages.push_back(loss_slot(c, dir, m, has_validation));
  }
  return stages;
}

}  // namespace longctx::study
