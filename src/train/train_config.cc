#include "train/train_config.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "core/validate.h"

namespace longctx::train {

const char* schedule_name(Schedule s) {
  switch (s) {
    case Schedule::kConstant: return "constant";
    case Schedule::kCosine: return "cosine";
    case Schedule::kLinear: return "linear";
  }
  return "?";
}

Result<Schedule> parse_schedule(const std::string& name) {
  if (name == "constant") return Schedule::kConstant;
  if (name == "cosine") return Schedule::kCosine;
  if (name == "linear") return Schedule::kLinear;
  return make_error(ErrorCode::kInvalidArgument, "--schedule: expected constant, cosine or linear, got '{}'", name);
}

namespace {

// "dynamic:10" -> type and numbers after the colon (comma separated).
struct RopeFlag {
  model::RopeType type = model::RopeType::kDefault;
  std::vector<double> args;
};

Result<RopeFlag> parse_rope_flag(const std::string& text) {
  RopeFlag f;
  if (text == "none" || text == "default") return f;
  const auto colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const char* expected = "expected none, linear:F, dynamic:F, yarn:F[,ORIG] or llama3:F[,ORIG[,LOW,HIGH]]";
  if (name != "linear" && name != "dynamic" && name != "yarn" && name != "llama3")
    return make_error(ErrorCode::kInvalidArgument, "--rope-scaling: {}, got '{}'", expected, text);
  LONGCTX_ASSIGN_OR_RETURN(f.type, model::parse_rope_type(name));
  if (colon == std::string::npos)
    return make_error(ErrorCode::kInvalidArgument, "--rope-scaling: {} needs a factor ({}), got '{}'", name, expected, text);
  std::string rest = text.substr(colon + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    const size_t comma = std::min(rest.find(',', pos), rest.size());
    LONGCTX_ASSIGN_OR_RETURN(double v, parse_number<double>("--rope-scaling", rest.substr(pos, comma - pos)));
    f.args.push_back(v);
    pos = comma + 1;
  }
  const size_t max_args = f.type == model::RopeType::kYarn ? 2 : f.type == model::RopeType::kLlama3 ? 4 : 1;
  if (f.args.size() > max_args || (f.type == model::RopeType::kLlama3 && f.args.size() == 3))
    return make_error(ErrorCode::kInvalidArgument, "--rope-scaling: {}, got '{}'", expected, text);
  // The factor stretches positions: below 1 it would shrink the context. 2^20 is far past any
  // published extension (LLaMA-2's 4K to 128K is 32).
  LONGCTX_RETURN_IF_ERROR(check_range("--rope-scaling factor", f.args[0], 1.0, double(1 << 20)));
  if (f.args.size() >= 2)
    LONGCTX_RETURN_IF_ERROR(check_range("--rope-scaling original length", f.args[1], 1.0, double(1 << 30)));
  if (f.args.size() == 4) {
    LONGCTX_RETURN_IF_ERROR(check_range("--rope-scaling low_freq_factor", f.args[2], 0.0, 1e6));
    LONGCTX_RETURN_IF_ERROR(check_range("--rope-scaling high_freq_factor", f.args[3], 0.0, 1e6));
    if (f.args[3] <= f.args[2])
      return make_error(ErrorCode::kInvalidArgument, "--rope-scaling: llama3 needs HIGH ({}) > LOW ({})", f.args[3], f.args[2]);
  }
  return f;
}

}  // namespace

Status TrainConfig::validate() const {
  if (data.empty()) return make_error(ErrorCode::kInvalidArgument, "--data is required (a mixture directory or a Megatron PREFIX)");
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "--out is required (the run directory)");
  if (model.empty() == init.empty())
    return make_error(ErrorCode::kInvalidArgument, "give exactly one of --model DIR (continue a checkpoint) and --init config.json (from scratch)");
  if (!val_data.empty() && val_share > 0)
    return make_error(ErrorCode::kInvalidArgument, "--val-data and --val-share exclude each other");
  // Every number: the ranges' reasons are in docs/training.md "Flags".
  LONGCTX_RETURN_IF_ERROR(check_range("--val-share", val_share, 0.0, 0.5));
  LONGCTX_RETURN_IF_ERROR(check_range("--init-std", init_std, 0.0, 10.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--seq-len", seq_len, int64_t{0}, int64_t{1} << 24));
  if (rope_theta != 0) LONGCTX_RETURN_IF_ERROR(check_range("--rope-theta", rope_theta, 1.0, 1e12));
  if (!rope_scaling.empty()) LONGCTX_RETURN_IF_ERROR(parse_rope_flag(rope_scaling).status());
  if (lr >= 0 || std::isnan(lr)) LONGCTX_RETURN_IF_ERROR(check_range("--lr", lr, 0.0, 10.0));
  if (!schedule.empty()) LONGCTX_RETURN_IF_ERROR(parse_schedule(schedule).status());
  LONGCTX_RETURN_IF_ERROR(check_range("--warmup", warmup, int64_t{-1}, int64_t{1} << 40));
  LONGCTX_RETURN_IF_ERROR(check_range("--min-lr", min_lr, 0.0, 10.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--batch-tokens", batch_tokens, uint64_t{0}, uint64_t{1} << 40));
  LONGCTX_RETURN_IF_ERROR(check_range("--micro-batch", micro_batch, 1, 1 << 16));
  LONGCTX_RETURN_IF_ERROR(check_range("--steps", steps, int64_t{0}, int64_t{1} << 40));
  LONGCTX_RETURN_IF_ERROR(check_range("--tokens", tokens, uint64_t{0}, uint64_t{1} << 50));
  if (steps > 0 && tokens > 0) return make_error(ErrorCode::kInvalidArgument, "--steps and --tokens exclude each other");
  LONGCTX_RETURN_IF_ERROR(check_range("--grad-clip", grad_clip, 0.0, 1e6));
  LONGCTX_RETURN_IF_ERROR(check_range("--weight-decay", weight_decay, 0.0, 10.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--beta1", beta1, 0.0, 0.999999));
  LONGCTX_RETURN_IF_ERROR(check_range("--beta2", beta2, 0.0, 0.999999999));
  LONGCTX_RETURN_IF_ERROR(check_range("--eps", eps, 1e-30, 1.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--save-every", save_every, int64_t{0}, int64_t{1} << 40));
  LONGCTX_RETURN_IF_ERROR(check_range("--keep-last", keep_last, 0, 1 << 20));
  LONGCTX_RETURN_IF_ERROR(check_range("--eval-every", eval_every, int64_t{0}, int64_t{1} << 40));
  LONGCTX_RETURN_IF_ERROR(check_range("--eval-sequences", eval_sequences, int64_t{0}, int64_t{1} << 40));
  return Status::ok();
}

double effective_lr(const TrainConfig& c) { return c.lr >= 0 ? c.lr : c.model.empty() ? kInitLr : kPaperLr; }

Schedule effective_schedule(const TrainConfig& c) {
  if (!c.schedule.empty()) {
    auto s = parse_schedule(c.schedule);
    if (s.is_ok()) return *s;
  }
  return c.model.empty() ? Schedule::kCosine : Schedule::kConstant;
}

uint64_t effective_batch_tokens(const TrainConfig& c) {
  return c.batch_tokens > 0 ? c.batch_tokens : c.model.empty() ? kInitBatchTokens : kPaperBatchTokens;
}

int64_t effective_warmup(const TrainConfig& c, int64_t steps) {
  if (c.warmup >= 0) return std::min(c.warmup, steps);
  return c.model.empty() ? steps / 20 : 0;
}

nlohmann::json config_to_json(const TrainConfig& c) {
  return {{"data", c.data}, {"val_data", c.val_data}, {"val_share", c.val_share}, {"model", c.model},
          {"init", c.init}, {"init_seed", c.init_seed}, {"init_std", c.init_std}, {"tokenizer", c.tokenizer},
          {"out", c.out}, {"seq_len", c.seq_len}, {"rope_theta", c.rope_theta}, {"rope_scaling", c.rope_scaling},
          {"lr", c.lr}, {"schedule", c.schedule}, {"warmup", c.warmup}, {"min_lr", c.min_lr},
          {"batch_tokens", c.batch_tokens}, {"micro_batch", c.micro_batch}, {"steps", c.steps},
          {"tokens", c.tokens}, {"grad_clip", c.grad_clip}, {"weight_decay", c.weight_decay},
          {"beta1", c.beta1}, {"beta2", c.beta2}, {"eps", c.eps}, {"seed", c.seed}, {"doc_mask", c.doc_mask},
          {"checkpointing", c.checkpointing}, {"save_every", c.save_every}, {"keep_last", c.keep_last},
          {"eval_every", c.eval_every}, {"eval_sequences", c.eval_sequences}};
}

Result<TrainConfig> config_from_json(const nlohmann::json& j) {
  TrainConfig c;
  try {
    auto get = [&](const char* k, auto* v) {
      if (j.contains(k)) *v = j.at(k).get<std::remove_pointer_t<decltype(v)>>();
    };
    get("data", &c.data), get("val_data", &c.val_data), get("val_share", &c.val_share);
    get("model", &c.model), get("init", &c.init), get("init_seed", &c.init_seed), get("init_std", &c.init_std);
    get("tokenizer", &c.tokenizer), get("out", &c.out), get("seq_len", &c.seq_len);
    get("rope_theta", &c.rope_theta), get("rope_scaling", &c.rope_scaling), get("lr", &c.lr);
    get("schedule", &c.schedule), get("warmup", &c.warmup), get("min_lr", &c.min_lr);
    get("batch_tokens", &c.batch_tokens), get("micro_batch", &c.micro_batch), get("steps", &c.steps);
    get("tokens", &c.tokens), get("grad_clip", &c.grad_clip), get("weight_decay", &c.weight_decay);
    get("beta1", &c.beta1), get("beta2", &c.beta2), get("eps", &c.eps), get("seed", &c.seed);
    get("doc_mask", &c.doc_mask), get("checkpointing", &c.checkpointing), get("save_every", &c.save_every);
    get("keep_last", &c.keep_last), get("eval_every", &c.eval_every), get("eval_sequences", &c.eval_sequences);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "run configuration: {}", e.what());
  }
  return c;
}

nlohmann::json run_identity(const TrainConfig& c) {
  nlohmann::json j = config_to_json(c);
  for (const char* k : {"out", "save_every", "keep_last", "eval_every", "eval_sequences"}) j.erase(k);
  return j;
}

Status apply_rope_flags(const TrainConfig& c, int64_t seq_len, model::LlamaConfig* cfg) {
  if (c.rope_theta > 0) {
    cfg->rope_theta = c.rope_theta;
    cfg->max_position_embeddings = std::max(cfg->max_position_embeddings, seq_len);
  }
  if (c.rope_scaling.empty()) return Status::ok();
  LONGCTX_ASSIGN_OR_RETURN(RopeFlag f, parse_rope_flag(c.rope_scaling));
  model::RopeScaling s;  // a new scaling replaces the old one whole
  s.type = f.type;
  if (f.type == model::RopeType::kDefault) {
    cfg->rope_scaling = s;
    cfg->max_position_embeddings = std::max(cfg->max_position_embeddings, seq_len);
    return Status::ok();
  }
  s.factor = f.args[0];
  if (f.type == model::RopeType::kYarn || f.type == model::RopeType::kLlama3) {
    const int64_t orig = f.args.size() >= 2 ? (int64_t)f.args[1] : cfg->max_position_embeddings;
    s.original_max_position_embeddings = orig;
    cfg->max_position_embeddings = (int64_t)std::llround((double)orig * s.factor);
    if (f.args.size() == 4) s.low_freq_factor = f.args[2], s.high_freq_factor = f.args[3];
  }
  cfg->rope_scaling = s;
  return model::validate_config(*cfg);
}

}  // namespace longctx::train
