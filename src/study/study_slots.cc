// The training and evaluation stages of a study. Each is one call into the library behind the
// command it lists: training calls src/train (`run_training`, behind `longctx train`), the
// retrieval sweeps call src/eval's `run_needle` (behind `longctx needle`) with the native engine,
// and the loss stage calls `evaluate_loss` (behind `longctx loss`). The stage's parameters,
// inputs, outputs and equivalent commands are fixed here; running the command by hand gives the
// same files.
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

#include "train/communicator.h"
#include "train/trainer.h"

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/progress.h"
#include "eval/figures.h"
#include "eval/generator.h"
#include "eval/loss_eval.h"
#include "eval/needle.h"
#include "eval/needle_run.h"
#include "eval/text_codec.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"
#include "study/study.h"
#include "study/study_config.h"
#include "study/study_internal.h"

namespace longctx::study {
namespace {

using nlohmann::json;


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

// The run as `longctx train` would be given it (the stage's command has the same flags). One
// process; under mpirun the same run is `longctx train` by hand.
train::TrainConfig train_config(const StudyConfig& c, const StudyModel& m, const StageContext& ctx) {
  const TrainSpec& t = m.continued ? c.continued.train : c.pretrain.train;
  train::TrainConfig tc;
  tc.data = ctx.dir + "/" + layout::mixture(m.mixture);
  if (m.continued) {
    tc.model = ctx.dir + "/" + layout::checkpoint("base", c.pretrain.train.steps);
    // Always given, also for the control (the base model's own theta): a given rope_theta lets
    // max_position_embeddings rise to the new sequence length (train_config.h apply_rope_flags).
    tc.rope_theta = m.rope_theta;
  } else {
    tc.init = ctx.dir + "/" + layout::kModelConfig;
    tc.init_seed = c.seed;
    tc.tokenizer = tokenizer_path(c, ctx.dir);
  }
  tc.out = ctx.dir + "/" + layout::run(m.name);
  // A killed run continues (train resumes a run of the same configuration); a changed one is
  // replaced (only the run's own files go).
  tc.overwrite = ctx.replace && !ctx.resume;
  tc.seq_len = static_cast<int64_t>(m.context);
  tc.lr = t.lr;
  tc.schedule = t.schedule;
  tc.warmup = static_cast<int64_t>(t.warmup);
  tc.min_lr = t.min_lr;
  tc.batch_tokens = t.batch_tokens;
  tc.micro_batch = static_cast<int>(t.micro_batch);
  tc.steps = static_cast<int64_t>(t.steps);
  tc.seed = c.seed;
  return tc;
}

Result<json> run_train_stage(const StudyConfig& c, const StudyModel& m, const StageContext& ctx) {
  const train::TrainConfig tc = train_config(c, m, ctx);
  LONGCTX_RETURN_IF_ERROR(tc.validate());
  ProgressThrottle bar(ctx.progress);
  const train::TrainProgressFn progress = [&](const train::TrainProgress& p) {
    if (p.kind == train::TrainProgress::Kind::kNote && ctx.notes) ctx.notes->push_back(p.message);
    if (p.kind != train::TrainProgress::Kind::kStep) return;
    ProgressSnapshot snap;
    snap.phase = "train";
    snap.docs = static_cast<uint64_t>(p.step);
    snap.bytes = static_cast<uint64_t>(p.step);  // the bar's measure of work: steps of the plan
    snap.bytes_total = static_cast<uint64_t>(p.steps);
    snap.tokens = p.tokens;
    snap.elapsed_s = p.elapsed_s;
    snap.final = p.step == p.steps;
    bar.report(snap, snap.final);
  };
  train::SingleProcess comm;
  LONGCTX_ASSIGN_OR_RETURN(train::TrainSummary r, train::run_training(tc, progress, comm));
  if (r.interrupted) return make_error(ErrorCode::kInternal, "training of {} stopped at step {} (asked to stop); rerun to continue it", m.name, r.step);
  return json{{"step", r.step}, {"tokens", r.tokens}, {"loss", r.loss}, {"val_loss", r.val_loss}};
}

Stage train_slot(const StudyConfig& c, const std::string& dir, const StudyModel& m) {
  Stage s;
  s.name = m.stage;
  s.group = "train";
  s.run = [c, m](const StageContext& ctx) { return run_train_stage(c, m, ctx); };
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
                              fmt::format(" --rope-theta {}", m.rope_theta))};
  }
  return s;
}

std::string sweep_flags(const SweepSpec& w, uint64_t train_length, uint64_t seed) {
  return fmt::format("--lengths {}:{}:{} --depths {} --max-new-tokens {} --buffer {} --train-length {} --seed {} --allow-beyond-context",
                     w.min_length, w.max_length, w.lengths, w.depths, w.max_new_tokens, w.buffer, train_length, seed);
}

// The final checkpoint of a model's run.
std::string final_checkpoint(const StudyConfig& c, const StudyModel& m) {
  return layout::checkpoint(m.name, m.continued ? c.continued.train.steps : c.pretrain.train.steps);
}

json sweep_params(const SweepSpec& w) {
  return {{"min_length", w.min_length},         {"max_length", w.max_length}, {"lengths", w.lengths},
          {"depths", w.depths},                 {"max_new_tokens", w.max_new_tokens}, {"buffer", w.buffer},
          {"allow_beyond_context", true}};
}

// The model a stage evaluates: the run's final checkpoint, with the study's tokenizer.
struct LoadedModel {
  model::LlamaModel model;
  std::shared_ptr<const Tokenizer> tok;
  nlohmann::json identity;  // for the sweep's resume fingerprint: a retrained model starts over
};

Result<LoadedModel> load_study_model(const StudyConfig& c, const StudyModel& m, const StageContext& ctx) {
  const std::string ck = ctx.dir + "/" + final_checkpoint(c, m);
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel lm, model::load_checkpoint(ck));
  LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(tokenizer_path(c, ctx.dir)));
  LONGCTX_ASSIGN_OR_RETURN(std::string summary, read_file(ctx.dir + "/" + layout::run(m.name) + "/" + layout::kRunSummary));
  json id = {{"model", final_checkpoint(c, m)}, {"run_summary_xxh64", hex64(xxh64(summary))}};
  return LoadedModel{std::move(lm), std::move(tok), std::move(id)};
}

// A stage's progress bar fed from a sweep: cells done, prompt tokens as the work measure.
std::function<void(const eval::SweepProgress&)> sweep_progress(ProgressThrottle& bar) {
  return [&bar](const eval::SweepProgress& p) {
    ProgressSnapshot snap;
    snap.phase = "cells";
    snap.docs = p.done;
    snap.bytes = static_cast<uint64_t>(p.prompt_tokens_done);
    snap.bytes_total = static_cast<uint64_t>(p.prompt_tokens_total);
    snap.final = p.done == p.total;
    bar.report(snap, snap.final);
  };
}

// `longctx needle [--task passkey] --model runs/<model>/step-N ... --out eval/<model>/<task>`.
Result<json> run_sweep_stage(const StudyConfig& c, const StudyModel& m, bool passkey, const StageContext& ctx) {
  const SweepSpec& w = passkey ? c.eval.passkey : c.eval.needle;
  eval::NeedleConfig nc;
  nc.task = passkey ? eval::RetrievalTask::kPasskey : eval::RetrievalTask::kNeedle;
  nc.lengths = eval::linspace_lengths(static_cast<int64_t>(w.min_length), static_cast<int64_t>(w.max_length),
                                      static_cast<int>(w.lengths));
  nc.depths = eval::linspace_depths(static_cast<int>(w.depths));
  nc.max_new_tokens = static_cast<int>(w.max_new_tokens);
  nc.buffer_tokens = static_cast<int64_t>(w.buffer);
  nc.seed = c.seed;
  LONGCTX_RETURN_IF_ERROR(nc.validate());
  nc = nc.resolved();
  LONGCTX_ASSIGN_OR_RETURN(LoadedModel lm, load_study_model(c, m, ctx));
  std::unique_ptr<eval::TextCodec> codec = eval::tokenizer_codec(lm.tok);
  LONGCTX_ASSIGN_OR_RETURN(std::string hay_text, eval::task_haystack(nc, ""));
  std::vector<int32_t> hay;
  LONGCTX_RETURN_IF_ERROR(codec->encode(hay_text, &hay));
  eval::NativeGenerator gen(lm.model, lm.tok, m.name);
  // Every model is measured at every length, also past its own context: the base model's cells
  // beyond its training length are the paper's point of comparison, not cells to skip.
  gen.set_allow_beyond_context(true);

  eval::NeedleRunConfig rc;
  rc.needle = nc;
  rc.out_dir = ctx.dir + "/" + layout::eval(m.name) + "/" + (passkey ? "passkey" : "needle");
  rc.overwrite = ctx.replace && !ctx.resume;
  rc.identity = lm.identity;
  rc.identity["haystack_xxh64"] = hex64(xxh64(hay_text));
  rc.identity["tokens"] = codec->describe();
  rc.identity["beyond_context"] = true;
  ProgressThrottle bar(ctx.progress);
  const double train_length = static_cast<double>(m.context);
  auto figures = [&](const eval::SweepSummary& s, const std::string& out) {
    return eval::render_needle_heatmap(nc, s, m.label, train_length, out + "/heatmap");
  };
  LONGCTX_ASSIGN_OR_RETURN(eval::NeedleRunResult r, eval::run_needle(rc, hay, *codec, gen, sweep_progress(bar), figures));
  if (ctx.notes) ctx.notes->insert(ctx.notes->end(), r.notes.begin(), r.notes.end());
  return json{{"mean_score", r.summary.mean_score}, {"mean_rouge1_f", r.summary.mean_rouge1_f},
              {"cells", r.summary.measured}, {"skipped", r.summary.skipped}};
}

// `longctx loss --model runs/<model>/step-N --data store-validation ... --out eval/<model>/loss`:
// the same files (loss.json last, since its digest stands for the stage's output).
Result<json> run_loss_stage(const StudyConfig& c, const StudyModel& m, const StageContext& ctx) {
  eval::LossEvalConfig lc;
  lc.data = ctx.dir + "/" + layout::kStoreValidation;
  lc.split = static_cast<int64_t>(c.loss_split());
  lc.seq_len = static_cast<int64_t>(c.long_context);
  lc.max_tokens = c.eval.loss.max_tokens;
  lc.seed = c.seed;
  LONGCTX_RETURN_IF_ERROR(lc.validate());
  LONGCTX_ASSIGN_OR_RETURN(LoadedModel lm, load_study_model(c, m, ctx));
  LONGCTX_ASSIGN_OR_RETURN(eval::LossEvalResult r, eval::evaluate_loss(lm.model, lc, ctx.progress));
  r.model = m.name;
  const std::string out = ctx.dir + "/" + layout::eval(m.name) + "/loss";
  LONGCTX_RETURN_IF_ERROR(make_dirs(out));
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(out + "/loss.json"));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(out + "/loss.md", eval::loss_table_markdown(r)));
  for (const char* ext : {".png", ".svg"}) {
    LONGCTX_RETURN_IF_ERROR(eval::render_loss_curves({r}, {m.label}, out + "/position-loss" + ext));
  }
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(out + "/loss.json", eval::loss_result_json(r)));
  double sum = 0;
  int64_t n = 0;
  for (const auto& b : r.buckets) {
    sum += b.sum;
    n += b.count;
  }
  return json{{"sequences", r.sequences}, {"positions", r.positions}, {"mean_loss", n ? sum / static_cast<double>(n) : 0.0}};
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
  s.run = [c, m, passkey](const StageContext& ctx) { return run_sweep_stage(c, m, passkey, ctx); };
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
  if (has_validation) {
    s.run = [c, m](const StageContext& ctx) { return run_loss_stage(c, m, ctx); };
  } else {
    s.available = false;
    s.unavailable_reason = "the corpus has no held-out split (validation/)";
  }
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
