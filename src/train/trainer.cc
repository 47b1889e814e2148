#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/json_util.h"
#include "core/units.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/metrics.h"
#include "train/optimizer.h"

namespace longctx::train {

namespace {

std::atomic<int> g_stop{0};
static_assert(std::atomic<int>::is_always_lock_free);  // safe to store from a signal handler

using Clock = std::chrono::steady_clock;

// ---- set-up: model, data, plan ------------------------------------------------------------------

struct Plan {
  int64_t T = 0;           // tokens per sequence
  int micro = 1;           // sequences per micro-batch
  int64_t K = 1;           // micro-batches per step, over all ranks
  int64_t steps = 0;
  uint64_t tokens_per_step = 0;
  double epochs = 0;       // passes over the training units the run makes
  ScheduleParams sched;
};

struct Setup {
  TrainConfig c;
  std::unique_ptr<model::LlamaModel> model;
  std::unique_ptr<TokenSource> train_src, val_own;
  const TokenSource* val_src = nullptr;
  std::vector<uint64_t> train_units, val_units;
  Plan plan;
  std::vector<std::string> tok_files;
};

// The starting model (before the run's RoPE flags): a checkpoint, or a seeded initialisation.
Result<model::LlamaModel> starting_model(const TrainConfig& c) {
  if (!c.model.empty()) return model::load_checkpoint(c.model);
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaConfig cfg, model::read_config(c.init));
  LONGCTX_RETURN_IF_ERROR(model::validate_config(cfg).with_context(c.init));
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel m, model::LlamaModel::create(cfg));
  model::init_params(cfg, c.init_seed, (float)c.init_std, m.params());
  return m;
}

// The model with the run's RoPE settings (the parameters do not depend on them), refusing a
// sequence length beyond what those settings allow.
Result<std::unique_ptr<model::LlamaModel>> run_model(const TrainConfig& c, int64_t T, model::LlamaModel start) {
  model::LlamaConfig cfg = start.config();
  LONGCTX_RETURN_IF_ERROR(apply_rope_flags(c, T, &cfg));
  const int64_t ctx = model::context_length(cfg);
  if (T > ctx)
    return make_error(ErrorCode::kInvalidArgument,
                      "sequence length {} is beyond what the model's RoPE settings allow: max_position_embeddings {}, "
                      "rope_theta {}, rope_scaling {} reach {} positions; raise it with --rope-theta (e.g. 500000) or "
                      "--rope-scaling (e.g. dynamic:{})",
                      T, cfg.max_position_embeddings, cfg.rope_theta, model::rope_type_name(cfg.rope_scaling.type), ctx,
                      (T + cfg.max_position_embeddings - 1) / cfg.max_position_embeddings);
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel m, model::LlamaModel::create(cfg));
  std::memcpy(m.params(), start.params(), sizeof(float) * (size_t)m.num_params());
  return std::make_unique<model::LlamaModel>(std::move(m));
}

Result<Plan> make_plan(const TrainConfig& c, uint64_t n_train, int64_t T, int ranks) {
  Plan p;
  p.T = T;
  p.micro = c.micro_batch;
  const uint64_t seq_tokens = (uint64_t)c.micro_batch * (uint64_t)T;
  const uint64_t want = effective_batch_tokens(c);
  p.K = (int64_t)std::max<uint64_t>(1, (want + seq_tokens - 1) / seq_tokens);
  p.K = (p.K + ranks - 1) / ranks * ranks;  // every rank takes the same number of micro-batches
  p.tokens_per_step = (uint64_t)p.K * seq_tokens;
  const uint64_t seqs_per_step = (uint64_t)p.K * (uint64_t)c.micro_batch;
  if (c.steps > 0) p.steps = c.steps;
  else if (c.tokens > 0) p.steps = (int64_t)((c.tokens + p.tokens_per_step - 1) / p.tokens_per_step);
  else p.steps = (int64_t)std::max<uint64_t>(1, n_train / seqs_per_step);  // one epoch
  p.epochs = (double)p.steps * (double)seqs_per_step / (double)n_train;
  p.sched = {effective_schedule(c), effective_lr(c), c.min_lr, effective_warmup(c, p.steps), p.steps};
  return p;
}

Result<Setup> prepare(const TrainConfig& c, int ranks) {
  Setup s;
  s.c = c;
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel start, starting_model(c));
  const uint64_t vocab = (uint64_t)start.config().vocab_size;
  SourceInfo info;
  LONGCTX_ASSIGN_OR_RETURN(s.train_src, open_token_source(c.data, c.seq_len, vocab, &info));
  const int64_t T = s.train_src->seq_len();
  LONGCTX_ASSIGN_OR_RETURN(s.model, run_model(c, T, std::move(start)));
  split_units(s.train_src->num_units(), c.val_share, &s.train_units, &s.val_units);
  s.val_src = s.train_src.get();
  if (!c.val_data.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(s.val_own, open_token_source(c.val_data, T, vocab));
    s.val_src = s.val_own.get();
    for (uint64_t u = 0; u < s.val_own->num_units(); u++) s.val_units.push_back(u);
  }
  if (s.train_units.empty()) return make_error(ErrorCode::kInvalidArgument, "'{}' holds no sequence of {} tokens", c.data, T);
  LONGCTX_ASSIGN_OR_RETURN(s.plan, make_plan(c, s.train_units.size(), T, ranks));
  s.tok_files = tokenizer_files(c);
  return s;
}

// Keeps the first `lines` lines of metrics.jsonl (a resumed run rewrites what came after its
// checkpoint, so the file never holds a step twice).
Status keep_metric_lines(const std::string& path, int64_t lines) {
  if (!file_exists(path)) return Status::ok();
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  size_t pos = 0;
  for (int64_t i = 0; i < lines && pos < text.size(); i++) {
    const size_t nl = text.find('\n', pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return write_file_atomic(path, std::string_view(text).substr(0, lines > 0 ? pos : 0));
}

// ---- the loop ------------------------------------------------------------------------------------

class Loop {
 public:
  Loop(Setup& s, Communicator& comm, const TrainProgressFn& progress)
      : s_(s), c_(s.c), p_(s.plan), comm_(comm), progress_(progress),
        order_(s.train_units, s.c.seed),
        opt_(s.model->num_params(), {s.c.beta1, s.c.beta2, s.c.eps, s.c.weight_decay}, decay_mask(s.model->layout())) {}

  Result<TrainSummary> run();

 private:
  Status open_run(int64_t* resume_step, bool* finished);
  Status resume_from(int64_t step);
  Status train_step(int64_t t);
  Status evaluate(int64_t t);
  Status save(int64_t t);
  Status write_line(const nlohmann::json& j);
  void emit(TrainProgress p) const {
    if (comm_.rank() == 0 && progress_) progress_(p);
  }
  TrainProgress report(TrainProgress::Kind k, int64_t t) const {
    TrainProgress p;
    p.kind = k, p.step = t, p.steps = p_.steps, p.tokens = state_.tokens;
    return p;
  }
  void note(std::string m) const {
    TrainProgress p = report(TrainProgress::Kind::kNote, state_.step);
    p.message = std::move(m);
    emit(p);
  }
  std::string last_good() const {
    return last_saved_ >= 0 ? c_.out + "/" + checkpoint_name(last_saved_) : "none (no checkpoint was written yet)";
  }
  size_t D() const { return s_.train_src->domains().size(); }

  Setup& s_;
  const TrainConfig& c_;
  const Plan& p_;
  Communicator& comm_;
  const TrainProgressFn& progress_;
  DataOrder order_;
  AdamW opt_;
  std::unique_ptr<model::TrainSession> train_;
  std::unique_ptr<model::ScoreSession> score_;
  std::unique_ptr<RunFiles> files_;  // rank 0
  FileWriter metrics_;               // rank 0
  int64_t metrics_lines_ = 0, last_saved_ = -1;
  TrainerState state_;
  double ceiling_ = 0, last_loss_ = 0, last_val_ = -1;
  Clock::time_point t0_ = Clock::now();
  int64_t first_step_ = 1;
};

Status Loop::open_run(int64_t* resume_step, bool* finished) {
  // Rank 0 owns the directory; the decision (and a failure) reaches every rank.
  int64_t msg[3] = {0, -1, 0};
  std::string err;
  if (comm_.rank() == 0) {
    auto r = RunFiles::open(c_);
    if (!r.is_ok()) {
      err = r.status().message();
    } else {
      files_ = std::make_unique<RunFiles>(std::move(*r));
      const std::vector<int64_t> ck = list_checkpoints(c_.out);
      msg[0] = 1, msg[1] = ck.empty() ? -1 : ck.back(), msg[2] = files_->finished();
    }
  }
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(msg, sizeof msg, 0));
  if (msg[0] == 0)
    return comm_.rank() == 0 ? make_error(ErrorCode::kInvalidArgument, "{}", err)
                             : make_error(ErrorCode::kIo, "rank 0 could not open the run directory '{}'", c_.out);
  *resume_step = msg[1];
  *finished = msg[2] != 0;
  return Status::ok();
}

// Rank 0 loads the checkpoint and broadcasts it, so other machines need no copy of the run directory.
Status Loop::resume_from(int64_t step) {
  int64_t ok = 1;
  std::string err;
  if (comm_.rank() == 0) {
    Status st = load_training_checkpoint(c_.out, step, s_.model.get(), &opt_, &state_);
    if (!st.is_ok()) ok = 0, err = st.message();
  }
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(&ok, sizeof ok, 0));
  if (!ok) return make_error(ErrorCode::kCorrupt, "resuming from step {}: {}", step, comm_.rank() == 0 ? err : "rank 0 failed");
  const int64_t n = s_.model->num_params();
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(s_.model->params(), n * 4, 0));
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(opt_.m().data(), n * 4, 0));
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(opt_.v().data(), n * 4, 0));
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(&state_, sizeof state_, 0));
  opt_.set_step(state_.step);
  first_step_ = state_.step + 1;
  last_saved_ = step;
  return Status::ok();
}

Status Loop::write_line(const nlohmann::json& j) {
  if (comm_.rank() != 0) return Status::ok();
  metrics_lines_++;
  LONGCTX_RETURN_IF_ERROR(metrics_.write(j.dump() + "\n"));
  return metrics_.flush();
}

Status Loop::train_step(int64_t t) {
  const auto ts = Clock::now();
  const int N = comm_.size(), r = comm_.rank();
  const int64_t per_rank = p_.K / N;
  train_->zero_grads();
  // stats: [sum of micro-batch mean losses, stop requests, failures, per-domain loss sums, counts]
  std::vector<double> stats(3 + 2 * D(), 0.0);
  Status fail = Status::ok();
  MicroBatch mb;
  std::vector<float> losses;
  model::StepOptions so;
  so.checkpoint_layers = c_.checkpointing;
  for (int64_t i = 0; i < per_rank && fail.is_ok(); i++) {
    const int64_t k = r + i * N;  // micro-batch k of the step belongs to rank k mod N
    std::vector<uint64_t> units((size_t)p_.micro);
    for (int b = 0; b < p_.micro; b++)
      units[(size_t)b] = order_.unit((uint64_t)((t - 1) * p_.K + k) * (uint64_t)p_.micro + (uint64_t)b);
    fail = build_micro_batch(*s_.train_src, units, c_.doc_mask, &mb);
    if (!fail.is_ok()) break;
    losses.resize(mb.inputs.size());
    model::Batch batch{mb.inputs.data(), mb.targets.data(), c_.doc_mask ? mb.doc_start.data() : nullptr, mb.B, mb.T};
    auto loss = train_->forward_backward(batch, so, losses.data());
    if (!loss.is_ok()) fail = loss.status();
    else stats[0] += *loss;
    for (size_t j = 0; j < losses.size() && fail.is_ok(); j++)
      if (mb.domain[j] >= 0) stats[3 + (size_t)mb.domain[j]] += losses[j], stats[3 + D() + (size_t)mb.domain[j]] += 1;
  }
  stats[1] = g_stop.load() ? 1 : 0;
  stats[2] = fail.is_ok() ? 0 : 1;
  LONGCTX_RETURN_IF_ERROR(comm_.sum(stats.data(), (int64_t)stats.size()));
  if (!fail.is_ok()) return fail.with_context(fmt::format("step {}", t));
  if (stats[2] > 0) return make_error(ErrorCode::kCorrupt, "step {}: another rank failed (its message is in its output)", t);
  float* g = train_->grads();
  const int64_t n = s_.model->num_params();
  LONGCTX_RETURN_IF_ERROR(comm_.sum(g, n));
  scale_floats(g, n, 1.0f / (float)p_.K);  // the mean of the micro-batches' mean losses
  if (t == c_.test_nan_at_step) g[0] = std::numeric_limits<float>::quiet_NaN();
  const double loss = stats[0] / (double)p_.K;
  const double norm = global_norm(g, n);
  if (!std::isfinite(loss) || !std::isfinite(norm))
    return make_error(ErrorCode::kCorrupt,
                      "step {}: the {} is {}; stopped without updating the weights. The last good checkpoint is {}", t,
                      std::isfinite(loss) ? "gradient norm" : "loss", std::isfinite(loss) ? norm : loss, last_good());
  clip_gradient(g, n, norm, c_.grad_clip);
  const double lr = learning_rate(p_.sched, t);
  opt_.update(s_.model->params(), g, lr);
  state_.step = t;
  state_.tokens += p_.tokens_per_step;
  state_.sequences += (uint64_t)p_.K * (uint64_t)p_.micro;
  last_loss_ = loss;
  const double dt = std::chrono::duration<double>(Clock::now() - ts).count();
  const double tps = (double)p_.tokens_per_step / dt;
  const double flops = tps * train_flops_per_token(s_.model->config(), p_.T);
  nlohmann::json dl = nlohmann::json::object();
  for (size_t d = 0; d < D(); d++)
    if (stats[3 + D() + d] > 0) dl[s_.train_src->domains()[d]] = stats[3 + d] / stats[3 + D() + d];
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
  LONGCTX_RETURN_IF_ERROR(write_line({{"step", t}, {"tokens", state_.tokens}, {"loss", loss}, {"domain_loss", dl}, {"lr", lr},
                                      {"grad_norm", norm}, {"tokens_per_s", tps}, {"flops_per_s", flops},
                                      {"utilisation", ceiling_ > 0 ? flops / ceiling_ : 0.0}, {"elapsed_s", elapsed}}));
  TrainProgress pr = report(TrainProgress::Kind::kStep, t);
  pr.loss = loss, pr.lr = lr, pr.grad_norm = norm, pr.tokens_per_s = tps, pr.elapsed_s = elapsed;
  emit(pr);
  if (stats[1] > 0) g_stop.store(1);  // every rank stops after this step, whichever got the signal
  return Status::ok();
}

Status Loop::evaluate(int64_t t) {
  if (s_.val_units.empty()) return Status::ok();
  const uint64_t n = c_.eval_sequences > 0 ? std::min<uint64_t>((uint64_t)c_.eval_sequences, s_.val_units.size())
                                           : s_.val_units.size();
  std::vector<double> sums(2 * D() + 1, 0.0);  // per-domain loss sums, counts, failures
  Status fail = Status::ok();
  MicroBatch mb;
  std::vector<float> losses;
  for (uint64_t i = (uint64_t)comm_.rank(); i < n && fail.is_ok(); i += (uint64_t)comm_.size()) {
    fail = build_micro_batch(*s_.val_src, {s_.val_units[i]}, c_.doc_mask, &mb);
    if (!fail.is_ok()) break;
    losses.resize(mb.inputs.size());
    model::Batch batch{mb.inputs.data(), mb.targets.data(), c_.doc_mask ? mb.doc_start.data() : nullptr, mb.B, mb.T};
    auto r = score_->score(batch, losses.data());
    if (!r.is_ok()) fail = r.status();
    for (size_t j = 0; j < losses.size() && fail.is_ok(); j++)
      if (mb.domain[j] >= 0) sums[(size_t)mb.domain[j]] += losses[j], sums[D() + (size_t)mb.domain[j]] += 1;
  }
  sums[2 * D()] = fail.is_ok() ? 0 : 1;
  LONGCTX_RETURN_IF_ERROR(comm_.sum(sums.data(), (int64_t)sums.size()));
  if (!fail.is_ok()) return fail.with_context(fmt::format("validation at step {}", t));
  if (sums[2 * D()] > 0) return make_error(ErrorCode::kCorrupt, "validation at step {}: another rank failed", t);
  double total = 0, count = 0;
  nlohmann::json dl = nlohmann::json::object();
  TrainProgress pr = report(TrainProgress::Kind::kEval, t);
  for (size_t d = 0; d < D(); d++) {
    total += sums[d], count += sums[D() + d];
    if (sums[D() + d] > 0) {
      const std::string& name = s_.val_src->domains()[d < s_.val_src->domains().size() ? d : 0];
      dl[name] = sums[d] / sums[D() + d];
      pr.domain_loss[name] = sums[d] / sums[D() + d];
    }
  }
  last_val_ = count > 0 ? total / count : 0;
  pr.loss = last_val_;
  emit(pr);
  return write_line({{"step", t}, {"val_loss", last_val_}, {"val_domain_loss", dl}, {"val_tokens", count}});
}

Status Loop::save(int64_t t) {
  int64_t ok = 1;
  std::string err;
  if (comm_.rank() == 0) {
    state_.metrics_lines = metrics_lines_;
    Status st = save_training_checkpoint(c_.out, *s_.model, opt_, state_, s_.tok_files, c_.keep_last);
    if (!st.is_ok()) ok = 0, err = st.message();
  }
  LONGCTX_RETURN_IF_ERROR(comm_.broadcast(&ok, sizeof ok, 0));
  if (!ok) return make_error(ErrorCode::kIo, "{}", comm_.rank() == 0 ? err : "rank 0 could not save a checkpoint");
  last_saved_ = t;
  TrainProgress pr = report(TrainProgress::Kind::kSaved, t);
  pr.message = c_.out + "/" + checkpoint_name(t);
  emit(pr);
  return Status::ok();
}

Result<TrainSummary> Loop::run() {
  int64_t resume_step = -1;
  bool finished = false;
  LONGCTX_RETURN_IF_ERROR(open_run(&resume_step, &finished));
  TrainSummary sum;
  sum.steps = p_.steps;
  if (finished) {
    sum.already_done = true;
    sum.step = resume_step;
    sum.checkpoint = resume_step >= 0 ? c_.out + "/" + checkpoint_name(resume_step) : "";
    note(fmt::format("'{}' holds a finished run (step {}): nothing to do", c_.out, resume_step));
    return sum;
  }
  state_.seed = c_.seed;
  if (resume_step >= 0) {
    LONGCTX_RETURN_IF_ERROR(resume_from(resume_step));
    note(fmt::format("resuming from {} (step {} of {})", c_.out + "/" + checkpoint_name(resume_step), resume_step, p_.steps));
  }
  if (comm_.rank() == 0) {
    LONGCTX_RETURN_IF_ERROR(keep_metric_lines(c_.out + "/metrics.jsonl", state_.metrics_lines));
    LONGCTX_ASSIGN_OR_RETURN(metrics_, FileWriter::open(c_.out + "/metrics.jsonl", "ab"));
    metrics_lines_ = state_.metrics_lines;
  }
  LONGCTX_ASSIGN_OR_RETURN(model::TrainSession ts, model::TrainSession::create(*s_.model));
  train_ = std::make_unique<model::TrainSession>(std::move(ts));
  LONGCTX_ASSIGN_OR_RETURN(model::ScoreSession ss, model::ScoreSession::create(*s_.model));
  score_ = std::make_unique<model::ScoreSession>(std::move(ss));
  if (c_.measure_ceiling) {
    ceiling_ = measure_sgemm_flops();
    LONGCTX_RETURN_IF_ERROR(comm_.sum(&ceiling_, 1));
  }
  // the starting point of the validation curve (a continued model at its new length and base)
  if (c_.eval_every > 0 && first_step_ == 1) LONGCTX_RETURN_IF_ERROR(evaluate(0));
  t0_ = Clock::now();
  for (int64_t t = first_step_; t <= p_.steps; t++) {
    LONGCTX_RETURN_IF_ERROR(train_step(t));
    if (c_.eval_every > 0 && t % c_.eval_every == 0 && t != p_.steps) LONGCTX_RETURN_IF_ERROR(evaluate(t));
    const bool stop = g_stop.load() != 0;
    if ((c_.save_every > 0 && t % c_.save_every == 0) || stop || t == p_.steps) LONGCTX_RETURN_IF_ERROR(save(t));
    if (stop && t != p_.steps) {
      sum.interrupted = true;
      break;
    }
  }
  if (!sum.interrupted) LONGCTX_RETURN_IF_ERROR(evaluate(p_.steps));
  sum.step = state_.step, sum.tokens = state_.tokens, sum.loss = last_loss_, sum.val_loss = last_val_;
  sum.checkpoint = last_saved_ >= 0 ? c_.out + "/" + checkpoint_name(last_saved_) : "";
  if (comm_.rank() == 0) {
    LONGCTX_RETURN_IF_ERROR(metrics_.close());
    auto figs = plot_run(c_.out);
    if (figs.is_ok()) sum.figures = *figs;
    if (!sum.interrupted) {
      const nlohmann::json j = {{"step", sum.step}, {"tokens", sum.tokens}, {"loss", sum.loss}, {"val_loss", sum.val_loss},
                                {"checkpoint", sum.checkpoint}};
      LONGCTX_RETURN_IF_ERROR(write_file_atomic(c_.out + "/summary.json", j.dump(2) + "\n"));
    }
  }
  return sum;
}

}  // namespace

void request_stop() { g_stop.store(1); }
void clear_stop_request() { g_stop.store(0); }

Result<TrainSummary> run_training(const TrainConfig& config, const TrainProgressFn& progress, Communicator& comm) {
  LONGCTX_RETURN_IF_ERROR(config.validate());
  LONGCTX_ASSIGN_OR_RETURN(Setup s, prepare(config, comm.size()));
  const Plan& p = s.plan;
  if (comm.rank() == 0 && progress) {
    const model::LlamaConfig& cfg = s.model->config();
    TrainProgress n;
    n.message = fmt::format(
        "plan: {} steps x {} tokens ({} micro-batches of {} x {} tokens over {} rank{}) = {} tokens; {} training "
        "sequences, {:.2f} epochs{}; {} validation sequences; lr {} {} (warmup {}); rope_theta {}, rope_scaling {}, "
        "max_position_embeddings {}",
        p.steps, format_count((double)p.tokens_per_step), p.K, p.micro, p.T, comm.size(), comm.size() == 1 ? "" : "s",
        format_count((double)p.tokens_per_step * (double)p.steps), s.train_units.size(), p.epochs,
        p.epochs > 1.0 ? " (the mixture is smaller than the budget: sequences repeat, reshuffled each epoch)" : "",
        s.val_units.size(), p.sched.lr, schedule_name(p.sched.kind), p.sched.warmup, cfg.rope_theta,
        model::rope_type_name(cfg.rope_scaling.type), cfg.max_position_embeddings);
    progress(n);
  }
  Loop loop(s, comm, progress);
  return loop.run();
}

}  // namespace longctx::train
