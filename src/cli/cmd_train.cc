#include "cli/cmd_train.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/units.h"
#include "core/validate.h"
#include "kernels/cpu/threads.h"
#include "train/checkpoint.h"
#include "train/communicator.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace longctx::cli {

namespace {

// The token-count flags: "16K" (K = 1,024 for lengths), "4M" / "5B" (10^6 / 10^9 for budgets).
Status parse_sizes(const TrainOptions& o, train::TrainConfig* c) {
  if (!o.seq_len.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(uint64_t v, parse_seq_len(o.seq_len));
    LONGCTX_RETURN_IF_ERROR(check_range("--seq-len", v, uint64_t{1}, uint64_t{1} << 24));
    c->seq_len = (int64_t)v;
  }
  if (!o.batch_tokens.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(c->batch_tokens, parse_token_count(o.batch_tokens));
    LONGCTX_RETURN_IF_ERROR(check_range("--batch-tokens", c->batch_tokens, uint64_t{1}, uint64_t{1} << 40));
  }
  if (!o.tokens.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(c->tokens, parse_token_count(o.tokens));
    LONGCTX_RETURN_IF_ERROR(check_range("--tokens", c->tokens, uint64_t{1}, uint64_t{1} << 50));
  }
  return Status::ok();
}

}  // namespace

Status TrainOptions::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  if (!resume.empty()) {
    if (!config.data.empty() || !config.model.empty() || !config.init.empty() || !config.out.empty())
      return make_error(ErrorCode::kInvalidArgument,
                        "--resume RUN continues with the flags recorded in RUN/run.json; give only --threads with it");
    return Status::ok();
  }
  train::TrainConfig c = config;
  LONGCTX_RETURN_IF_ERROR(parse_sizes(*this, &c));
  if (lr_opt && lr_opt->count() > 0) LONGCTX_RETURN_IF_ERROR(check_range("--lr", c.lr, 0.0, 10.0));
  if (warmup_opt && warmup_opt->count() > 0) LONGCTX_RETURN_IF_ERROR(check_range("--warmup", c.warmup, int64_t{0}, int64_t{1} << 40));
  return c.validate();
}

Result<train::TrainConfig> TrainOptions::to_config() const {
  if (!resume.empty()) return train::read_run_config(resume);
  train::TrainConfig c = config;
  LONGCTX_RETURN_IF_ERROR(parse_sizes(*this, &c));
  return c;
}

namespace {

void on_signal(int sig) {
  train::request_stop();
  std::signal(sig, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// The progress line: step, loss, learning rate, rate and ETA; on a terminal it redraws in place,
// in a log it prints every 10 seconds. Notes and validation results get lines of their own.
class TrainProgressLine {
 public:
  explicit TrainProgressLine(bool quiet) : quiet_(quiet), tty_(::isatty(2) != 0) {}
  void operator()(const train::TrainProgress& p) {
    using K = train::TrainProgress::Kind;
    if (quiet_) return;
    if (p.kind == K::kStep) return step(p);
    clear();
    if (p.kind == K::kNote) fmt::print(stderr, "note: {}\n", p.message);
    if (p.kind == K::kSaved) fmt::print(stderr, "saved {}\n", p.message);
    if (p.kind == K::kEval) {
      std::string doms;
      for (const auto& [d, l] : p.domain_loss) doms += fmt::format(" {} {:.4f}", d, l);
      fmt::print(stderr, "validation at step {}: loss {:.4f} |{}\n", p.step, p.loss, doms);
    }
    std::fflush(stderr);
  }

  void finish() { clear(); }

 private:
  void step(const train::TrainProgress& p) {
    if (first_step_ < 0) first_step_ = p.step - 1, first_elapsed_ = 0;
    const bool last = p.step == p.steps;
    if (!last && p.elapsed_s - last_draw_ < (tty_ ? 0.2 : 10.0)) return;
    last_draw_ = p.elapsed_s;
    const double frac = (double)p.step / (double)std::max<int64_t>(p.steps, 1);
    const int w = 24, full = (int)(frac * w);
    const std::string bar = "[" + std::string((size_t)full, '=') + (full < w ? ">" : "") + std::string((size_t)std::max(0, w - full - 1), ' ') + "]";
    const double per_step = p.elapsed_s / (double)std::max<int64_t>(p.step - first_step_, 1);
    std::string line = fmt::format("train {} step {}/{} | loss {:.4f} | lr {:.3g} | |g| {:.3g} | {} tok/s | {} tok",
                                   bar, p.step, p.steps, p.loss, p.lr, p.grad_norm, format_count(p.tokens_per_s),
                                   format_count((double)p.tokens));
    if (!last) line += fmt::format(" | ETA {}", format_duration(per_step * (double)(p.steps - p.step)));
    line += fmt::format(" | {}", format_duration(p.elapsed_s));
    if (tty_) {
      fmt::print(stderr, "\r\033[2K{}", line);
      drawn_ = true;
    } else {
      fmt::print(stderr, "{}\n", line);
    }
    std::fflush(stderr);
  }
  void clear() {
    if (drawn_) fmt::print(stderr, "\n");
    drawn_ = false;
  }
  bool quiet_, tty_, drawn_ = false;
  int64_t first_step_ = -1;
  double last_draw_ = -1e9, first_elapsed_ = 0;
};

Result<std::unique_ptr<train::Communicator>> make_communicator() {
  if (!train::launched_by_mpi()) return std::unique_ptr<train::Communicator>(new train::SingleProcess());
  return train::make_mpi_communicator();
}

}  // namespace

Status run_train(const TrainOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(train::TrainConfig c, o.to_config());
  LONGCTX_ASSIGN_OR_RETURN(std::unique_ptr<train::Communicator> comm, make_communicator());
  // Ranks sharing a machine share its cores.
  const int cores = (int)std::max(1u, std::thread::hardware_concurrency());
  cpu::set_num_threads(o.threads > 0 ? o.threads : std::max(1, cores / train::local_ranks()));
  const bool quiet = global_quiet() || comm->rank() != 0;
  TrainProgressLine line(quiet);
  train::TrainProgressFn fn = [&line](const train::TrainProgress& p) { line(p); };
  train::clear_stop_request();
  auto old_int = std::signal(SIGINT, on_signal);
  auto old_term = std::signal(SIGTERM, on_signal);
  Result<train::TrainSummary> r = train::run_training(c, fn, *comm);
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  line.finish();  // ends a redrawn line
  if (!r.is_ok()) return r.status();
  if (comm->rank() != 0) return Status::ok();
  const train::TrainSummary& s = *r;
  if (s.already_done) {
    fmt::print("{}: finished before (step {}); checkpoint {}\n", c.out, s.step, s.checkpoint);
    return Status::ok();
  }
  fmt::print("{} at step {}/{} ({} tokens): loss {:.4f}", s.interrupted ? "stopped" : "finished", s.step, s.steps,
             format_count((double)s.tokens), s.loss);
  if (s.val_loss >= 0) fmt::print(", validation loss {:.4f}", s.val_loss);
  fmt::print("\ncheckpoint: {}\n", s.checkpoint);
  for (const std::string& f : s.figures) fmt::print("figure: {}\n", f);
  if (s.interrupted) fmt::print("resume with: longctx train --resume {}\n", c.out);
  return Status::ok();
}

Status run_train_plot(const TrainPlotOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(std::vector<std::string> files, train::plot_run(o.run));
  for (const std::string& f : files) fmt::print("{}\n", f);
  return Status::ok();
}

void register_train_commands(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  train::TrainConfig& c = o->config;
  CLI::App* cmd = app.add_subcommand(
      "train", "Continual pretraining (or from-scratch training) on a packed mixture; checkpoints in Hugging Face layout");
  cmd->add_option("--data", c.data, "Packed mixture (`longctx mix` output) or Megatron PREFIX (.bin/.idx)");
  cmd->add_option("--model", c.model, "Hugging Face LLaMA-family folder to continue from");
  cmd->add_option("--init", c.init, "config.json of a model trained from scratch (seeded by --init-seed)");
  cmd->add_option("--out", c.out, "Run directory: checkpoints step-NNNNNN/, metrics.jsonl, figures");
  cmd->add_option("--resume", o->resume, "Continue the run in RUN with its recorded flags");
  cmd->add_flag("--overwrite", c.overwrite, "Replace another run in --out (only a run's own files are removed)");
  cmd->add_option("--val-data", c.val_data, "Held-out mixture for validation");
  add_number(cmd, "--val-share", c.val_share, "Share of the data's sequences held out for validation (never trained on)");
  cmd->add_option("--tokenizer", c.tokenizer, "Tokenizer file or folder copied into checkpoints (default: the --model folder's)");
  add_number(cmd, "--init-seed", c.init_seed, "Seed of the --init parameters");
  add_number(cmd, "--init-std", c.init_std, "Standard deviation of --init matrix weights (HF initializer_range)");
  cmd->add_option("--seq-len", o->seq_len, "Tokens per sequence (K = 1,024; default: the mixture's chunk length)");
  add_number(cmd, "--rope-theta", c.rope_theta, "New RoPE base, e.g. 500000 (ABF); raises max_position_embeddings to --seq-len");
  cmd->add_option("--rope-scaling", c.rope_scaling,
                  "none, linear:F, dynamic:F, yarn:F[,ORIG] or llama3:F[,ORIG[,LOW,HIGH]] (written to config.json)");
  o->lr_opt = add_number(cmd, "--lr", c.lr, "Peak learning rate (default 2e-5 with --model, the paper's; 1e-3 with --init)");
  cmd->add_option("--schedule", c.schedule, "constant, cosine or linear (default constant with --model, cosine with --init)");
  o->warmup_opt = add_number(cmd, "--warmup", c.warmup, "Warmup steps (default 0 with --model, 5% of the steps with --init)");
  add_number(cmd, "--min-lr", c.min_lr, "Learning rate at the end of cosine/linear decay");
  cmd->add_option("--batch-tokens", o->batch_tokens,
                  "Tokens per optimizer step, by gradient accumulation (default 4Mi with --model, the paper's; 64Ki with --init)");
  add_number(cmd, "--micro-batch", c.micro_batch, "Sequences per forward/backward pass");
  add_number(cmd, "--steps", c.steps, "Optimizer steps (default: one pass over the data)");
  cmd->add_option("--tokens", o->tokens, "Token budget instead of --steps (K/M/B = 10^3/10^6/10^9)");
  add_number(cmd, "--grad-clip", c.grad_clip, "Clip the global gradient norm (0 = off)");
  add_number(cmd, "--weight-decay", c.weight_decay, "AdamW weight decay (not on norm weights or biases, as HF's Trainer)");
  add_number(cmd, "--beta1", c.beta1, "AdamW beta1");
  add_number(cmd, "--beta2", c.beta2, "AdamW beta2");
  add_number(cmd, "--eps", c.eps, "AdamW epsilon");
  add_number(cmd, "--seed", c.seed, "Data order seed");
  cmd->add_flag("--doc-mask", c.doc_mask, "Attend within documents only (ProLong); default: full causal attention over the chunk (the paper)");
  cmd->add_flag("!--no-checkpointing", c.checkpointing, "Keep every layer's activations (default: per-layer checkpointing)");
  add_number(cmd, "--save-every", c.save_every, "Steps between checkpoints (0 = at the end and on Ctrl-C only)");
  add_number(cmd, "--keep-last", c.keep_last, "Checkpoints kept (0 = all)");
  add_number(cmd, "--eval-every", c.eval_every, "Steps between validation passes (0 = at the end only)");
  add_number(cmd, "--eval-sequences", c.eval_sequences, "Validation sequences per pass (0 = all)");
  add_number(cmd, "--threads", o->threads, "Threads per process (0 = the cores divided among this machine's ranks)");
  set_examples(cmd,
               {"longctx train --model llama-2-7b --data mix --out run --rope-theta 500000 --tokens 5B --save-every 100",
                "longctx train --init config.json --data mix --out base --seq-len 256 --steps 300 --batch-tokens 16K --val-share 0.02",
                "longctx train --resume run",
                "mpirun -np 4 longctx train --model base/step-000300 --data mix --out long --rope-theta 500000 --seq-len 2K"},
               "Paper recipe (--model): constant lr 2e-5, 4M-token batches, full attention, per-layer checkpointing. "
               "Ctrl-C saves a checkpoint; rerunning the same command resumes bit-exactly. See docs/training.md.");
  set_run(cmd, o, run_train);

  auto p = std::make_shared<TrainPlotOptions>();
  CLI::App* plot = cmd->add_subcommand("plot", "Draw a run's loss curves (loss.png/svg, val-loss.png/svg in RUN)");
  plot->add_option("run", p->run, "Run directory")->required();
  set_examples(plot, {"longctx train plot run"});
  set_run(plot, p, run_train_plot);
}

}  // namespace longctx::cli
