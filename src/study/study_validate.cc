// validate_study_config (study_config.h): every field range-checked and every name resolved
// before any stage starts.
#include <set>

#include <fmt/format.h>

#include "core/validate.h"
#include "study/study_config.h"
#include "study/study_mix.h"

namespace longctx::study {
namespace {

Status check_name(std::string_view field, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char ch : name) ok &= (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
  if (ok) return Status::ok();
  return make_error(ErrorCode::kInvalidArgument,
                    "{}: expected a name of lowercase letters, digits and '-' (at most 64, starting with a letter or digit), got '{}'",
                    field, name);
}

// `seq_len` is the sequence length the run trains at: each optimizer step is a whole number of
// micro-batches of whole sequences.
Status check_train(const std::string& f, const TrainSpec& t, uint64_t seq_len) {
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".steps", t.steps, uint64_t{1}, uint64_t{1000000000}));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".batch_tokens", t.batch_tokens, uint64_t{1}, kMaxTokens));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".micro_batch", t.micro_batch, 1u, 65536u));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".lr", t.lr, 0.0, 10.0));
  if (!(t.lr > 0)) return make_error(ErrorCode::kInvalidArgument, "{}.lr: expected a number in (0, 10], got {}", f, t.lr);
  if (t.schedule != "constant" && t.schedule != "cosine" && t.schedule != "linear") {
    return make_error(ErrorCode::kInvalidArgument, "{}.schedule: expected constant, cosine or linear, got '{}'", f, t.schedule);
  }
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".warmup", t.warmup, uint64_t{0}, t.steps));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".min_lr", t.min_lr, 0.0, t.lr));
  const uint64_t step_unit = uint64_t{t.micro_batch} * seq_len;
  if (t.batch_tokens % step_unit != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "{}.batch_tokens: expected a multiple of micro_batch x sequence length = {} x {} = {}, got {}", f,
                      t.micro_batch, seq_len, step_unit, t.batch_tokens);
  }
  return Status::ok();
}

Status check_sweep(const std::string& f, const SweepSpec& s) {
  if (!s.enabled) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".max_length", s.max_length, kMinContext, kMaxContext));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".min_length", s.min_length, kMinContext, s.max_length));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".lengths", s.lengths, 1u, 1000u));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".depths", s.depths, 1u, 101u));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".max_new_tokens", s.max_new_tokens, 1u, 4096u));
  // Half of the shortest length at most: the rest holds the haystack and the needle.
  return check_range(f + ".buffer", s.buffer, uint64_t{0}, s.min_length / 2);
}

Status check_corpus(const StudyConfig& c) {
  const CorpusSpec& s = c.corpus;
  if (s.source == CorpusSource::kPath && s.path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "corpus.path: source \"path\" needs the corpus's path");
  }
  if (s.source != CorpusSource::kPath && !s.path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "corpus.path: only used with source \"path\" (source is \"{}\")",
                      corpus_source_name(s.source));
  }
  LONGCTX_RETURN_IF_ERROR(check_range("corpus.synth_bytes", s.synth_bytes, uint64_t{1024}, kMaxCorpusBytes));
  LONGCTX_RETURN_IF_ERROR(check_range("corpus.synth_validation_bytes", s.synth_validation_bytes, uint64_t{0}, s.synth_bytes));
  LONGCTX_RETURN_IF_ERROR(check_range("corpus.synth_bytes_per_token", s.synth_bytes_per_token, 0.5, 64.0));
  LONGCTX_RETURN_IF_ERROR(check_range("tokenizer.vocab_size", c.tokenizer.vocab_size, kMinVocab, kMaxVocab));
  return check_range("tokenizer.training_bytes", c.tokenizer.training_bytes, uint64_t{1024}, kMaxCorpusBytes);
}

Status check_mixtures(const StudyConfig& c) {
  LONGCTX_RETURN_IF_ERROR(check_range("mixture_tokens", c.mixture_tokens, uint64_t{1}, kMaxTokens));
  LONGCTX_RETURN_IF_ERROR(check_range("mixtures (count)", c.mixtures.size(), size_t{1}, kMaxMixtures));
  std::set<std::string> names;
  for (size_t i = 0; i < c.mixtures.size(); ++i) {
    const MixtureSpec& m = c.mixtures[i];
    const std::string f = fmt::format("mixtures[{}]", i);
    LONGCTX_RETURN_IF_ERROR(check_name(f + ".name", m.name));
    if (!names.insert(m.name).second) {
      return make_error(ErrorCode::kInvalidArgument, "{}.name: '{}' names two mixtures", f, m.name);
    }
    LONGCTX_RETURN_IF_ERROR(check_range(f + ".tokens", m.tokens, uint64_t{0}, kMaxTokens));
    if (c.tokens(m) < c.seq_len(m)) {
      return make_error(ErrorCode::kInvalidArgument, "{}.tokens: {} tokens do not fill one sequence of {} tokens", f,
                        c.tokens(m), c.seq_len(m));
    }
    LONGCTX_RETURN_IF_ERROR(study_mix_config(c, m, f).status());
  }
  return Status::ok();
}

// A name in `field` must be a mixture of the given context.
Status check_mixture_ref(const StudyConfig& c, std::string_view field, const std::string& name, Context want) {
  const MixtureSpec* m = c.find_mixture(name);
  if (!m) {
    std::string all;
    for (const auto& x : c.mixtures) all += (all.empty() ? "" : ", ") + x.name;
    return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is not one of the mixtures ({})", field, name, all);
  }
  if (m->context != want) {
    return make_error(ErrorCode::kInvalidArgument, "{}: mixture '{}' is at the {} context; expected a {}-context mixture",
                      field, name, context_name(m->context), context_name(want));
  }
  return Status::ok();
}

Status check_model(const ModelSpec& m) {
  LONGCTX_RETURN_IF_ERROR(check_range("model.layers", m.layers, 1u, 1024u));
  LONGCTX_RETURN_IF_ERROR(check_range("model.heads", m.heads, 1u, 1024u));
  LONGCTX_RETURN_IF_ERROR(check_range("model.hidden", m.hidden, m.heads, 65536u));
  LONGCTX_RETURN_IF_ERROR(check_range("model.kv_heads", m.kv_heads, 1u, m.heads));
  LONGCTX_RETURN_IF_ERROR(check_range("model.intermediate", m.intermediate, 1u, 1u << 20));
  LONGCTX_RETURN_IF_ERROR(check_range("model.rope_theta", m.rope_theta, 1.0, 1e12));
  if (m.hidden % m.heads != 0 || (m.hidden / m.heads) % 2 != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "model.hidden: {} must be heads ({}) x an even head size (RoPE rotates pairs)", m.hidden, m.heads);
  }
  if (m.heads % m.kv_heads != 0) {
    return make_error(ErrorCode::kInvalidArgument, "model.kv_heads: {} must divide heads ({})", m.kv_heads, m.heads);
  }
  return Status::ok();
}

Status check_runs(const StudyConfig& c) {
  LONGCTX_RETURN_IF_ERROR(check_mixture_ref(c, "pretrain.mixture", c.pretrain.mixture, Context::kShort));
  LONGCTX_RETURN_IF_ERROR(check_train("pretrain.train", c.pretrain.train, c.short_context));
  std::set<std::string> seen;
  for (size_t i = 0; i < c.continued.mixtures.size(); ++i) {
    const std::string f = fmt::format("continued.mixtures[{}]", i);
    LONGCTX_RETURN_IF_ERROR(check_mixture_ref(c, f, c.continued.mixtures[i], Context::kLong));
    if (!seen.insert(c.continued.mixtures[i]).second) {
      return make_error(ErrorCode::kInvalidArgument, "{}: '{}' is listed twice", f, c.continued.mixtures[i]);
    }
  }
  if (!c.continued.control.empty()) {
    LONGCTX_RETURN_IF_ERROR(check_mixture_ref(c, "continued.control", c.continued.control, Context::kLong));
  }
  LONGCTX_RETURN_IF_ERROR(check_range("continued.rope_theta", c.continued.rope_theta, 1.0, 1e12));
  LONGCTX_RETURN_IF_ERROR(check_train("continued.train", c.continued.train, c.long_context));
  LONGCTX_RETURN_IF_ERROR(check_sweep("eval.needle", c.eval.needle));
  LONGCTX_RETURN_IF_ERROR(check_sweep("eval.passkey", c.eval.passkey));
  const LossSpec& l = c.eval.loss;
  if (l.enabled) {
    if (!seen.count(l.baseline)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "eval.loss.baseline: '{}' must be one of continued.mixtures (its continued model is the baseline)",
                        l.baseline);
    }
    LONGCTX_RETURN_IF_ERROR(check_range("eval.loss.split", l.split, uint64_t{0}, c.long_context - 1));
    LONGCTX_RETURN_IF_ERROR(check_range("eval.loss.max_tokens", l.max_tokens, uint64_t{1}, kMaxTokens));
  }
  return Status::ok();
}

}  // namespace

Status validate_study_config(const StudyConfig& c) {
  if (c.name.empty() || c.name.size() > 200) {
    return make_error(ErrorCode::kInvalidArgument, "name: expected 1 to 200 characters, got {}", c.name.size());
  }
  LONGCTX_RETURN_IF_ERROR(check_range("threads", c.threads, 0, kMaxThreads));
  LONGCTX_RETURN_IF_ERROR(check_range("short_context", c.short_context, kMinContext, kMaxContext - 1));
  LONGCTX_RETURN_IF_ERROR(check_range("long_context", c.long_context, c.short_context + 1, kMaxContext));
  LONGCTX_RETURN_IF_ERROR(check_corpus(c));
  LONGCTX_RETURN_IF_ERROR(check_mixtures(c));
  LONGCTX_RETURN_IF_ERROR(check_model(c.model));
  return check_runs(c);
}

}  // namespace longctx::study
