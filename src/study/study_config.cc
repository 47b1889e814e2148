#include "study/study_config.h"

#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/json_util.h"
#include "core/units.h"
#include "core/validate.h"
#include "study/presets.h"

namespace longctx::study {

std::string_view corpus_source_name(CorpusSource s) {
  switch (s) {
    case CorpusSource::kSynth: return "synth";
    case CorpusSource::kSample: return "sample";
    case CorpusSource::kPath: return "path";
  }
  return "?";
}

std::string_view context_name(Context c) { return c == Context::kShort ? "short" : "long"; }

std::vector<MixtureSpec> StudyConfig::default_mixtures() {
  using nlohmann::json;
  return {
      {"pretrain", "original", json::object(), Context::kShort, 0},
      {"original", "original", json::object(), Context::kLong, 0},
      {"cut", "cut", json::object(), Context::kLong, 0},
      {"per-source", "per-source-upsample", {{"long_share", 0.7}}, Context::kLong, 0},
      {"global", "global-upsample", {{"keep_short", 0.1}}, Context::kLong, 0},
      {"books", "upsample-domains", {{"domains", {"RedPajamaBook"}}, {"weight", 1.0}}, Context::kLong, 0},
  };
}

const MixtureSpec* StudyConfig::find_mixture(std::string_view name) const {
  for (const auto& m : mixtures)
    if (m.name == name) return &m;
  return nullptr;
}

// ---- writing ----------------------------------------------------------------------------------

namespace {

using ojson = nlohmann::ordered_json;

ojson train_json(const TrainSpec& t) {
  return {{"steps", t.steps},       {"batch_tokens", t.batch_tokens}, {"micro_batch", t.micro_batch}, {"lr", t.lr},
          {"schedule", t.schedule}, {"warmup", t.warmup},             {"min_lr", t.min_lr}};
}

ojson sweep_json(const SweepSpec& s) {
  return {{"enabled", s.enabled}, {"min_length", s.min_length}, {"max_length", s.max_length},
          {"lengths", s.lengths}, {"depths", s.depths},         {"max_new_tokens", s.max_new_tokens},
          {"buffer", s.buffer}};
}

}  // namespace

nlohmann::ordered_json study_config_json(const StudyConfig& c) {
  ojson mixtures = ojson::array();
  for (const auto& m : c.mixtures) {
    mixtures.push_back({{"name", m.name}, {"strategy", m.strategy}, {"options", m.options},
                        {"context", context_name(m.context)}, {"tokens", m.tokens}});
  }
  return {
      {"name", c.name},
      {"description", c.description},
      {"seed", c.seed},
      {"threads", c.threads},
      {"short_context", c.short_context},
      {"long_context", c.long_context},
      {"corpus",
       {{"source", corpus_source_name(c.corpus.source)}, {"path", c.corpus.path}, {"synth_bytes", c.corpus.synth_bytes},
        {"synth_validation_bytes", c.corpus.synth_validation_bytes},
        {"synth_bytes_per_token", c.corpus.synth_bytes_per_token}}},
      {"tokenizer",
       {{"path", c.tokenizer.path}, {"vocab_size", c.tokenizer.vocab_size}, {"training_bytes", c.tokenizer.training_bytes}}},
      {"mixture_tokens", c.mixture_tokens},
      {"mixtures", mixtures},
      {"model",
       {{"layers", c.model.layers}, {"hidden", c.model.hidden}, {"heads", c.model.heads}, {"kv_heads", c.model.kv_heads},
        {"intermediate", c.model.intermediate}, {"rope_theta", c.model.rope_theta},
        {"tie_embeddings", c.model.tie_embeddings}}},
      {"pretrain", {{"mixture", c.pretrain.mixture}, {"train", train_json(c.pretrain.train)}}},
      {"continued",
       {{"mixtures", c.continued.mixtures}, {"control", c.continued.control}, {"rope_theta", c.continued.rope_theta},
        {"train", train_json(c.continued.train)}}},
      {"eval",
       {{"needle", sweep_json(c.eval.needle)},
        {"passkey", sweep_json(c.eval.passkey)},
        {"loss",
         {{"enabled", c.eval.loss.enabled}, {"baseline", c.eval.loss.baseline}, {"split", c.eval.loss.split},
          {"max_tokens", c.eval.loss.max_tokens}}}}},
  };
}

// ---- reading ----------------------------------------------------------------------------------

namespace {

using nlohmann::json;

enum class Unit { kNone, kBytes, kTokens, kLength };

// Reads the fields of one JSON object: each get() takes a key if present (a wrong type is an
// error naming the field's path) and finish() refuses keys nobody asked for. The first error wins.
class ObjectReader {
 public:
  ObjectReader(const json& j, std::string path, Status* st) : j_(j), path_(std::move(path)), st_(st) {
    if (st_->is_ok() && !j_.is_object()) fail("expected an object, found {}", j_.type_name());
  }
  std::string field(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }
  const json* take(std::string_view key) {
    known_.insert(std::string(key));
    if (!st_->is_ok() || !j_.is_object()) return nullptr;
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  void get(std::string_view key, std::string* out) {
    if (const json* v = take(key)) {
      if (v->is_string()) *out = v->get<std::string>();
      else fail_at(key, "expected a string, found {}", v->type_name());
    }
  }
  void get(std::string_view key, bool* out) {
    if (const json* v = take(key)) {
      if (v->is_boolean()) *out = v->get<bool>();
      else fail_at(key, "expected true or false, found {}", v->type_name());
    }
  }
  void get(std::string_view key, double* out) {
    if (const json* v = take(key)) {
      if (v->is_number()) *out = v->get<double>();
      else fail_at(key, "expected a number, found {}", v->type_name());
    }
  }
  // Integers: a JSON integer, or (with a unit) a string such as "4MB", "500K", "1K".
  void get(std::string_view key, uint64_t* out, Unit unit = Unit::kNone) {
    const json* v = take(key);
    if (!v) return;
    if (v->is_number_unsigned()) {
      *out = v->get<uint64_t>();
    } else if (v->is_number_integer()) {
      fail_at(key, "expected a non-negative integer, got {}", v->get<int64_t>());
    } else if (v->is_string() && unit != Unit::kNone) {
      const std::string s = v->get<std::string>();
      Result<uint64_t> r = unit == Unit::kBytes ? parse_byte_size(s) : unit == Unit::kTokens ? parse_token_count(s) : parse_seq_len(s);
      if (r.is_ok()) *out = *r;
      else fail_at(key, "{}", r.status().message());
    } else {
      fail_at(key, "expected {}, found {}", unit == Unit::kNone ? "an integer" : "an integer or a size such as \"4MB\" or \"500K\"",
              v->is_number() ? fmt::format("{}", v->dump()) : std::string(v->type_name()));
    }
  }
  void get(std::string_view key, uint32_t* out) {
    uint64_t v = *out;
    get(key, &v);
    if (st_->is_ok() && v > UINT32_MAX) fail_at(key, "expected an integer in [0, {}], got {}", UINT32_MAX, v);
    *out = static_cast<uint32_t>(v);
  }
  void get(std::string_view key, int* out) {
    const json* v = take(key);
    if (!v) return;
    if (v->is_number_integer() && v->get<int64_t>() >= INT32_MIN && v->get<int64_t>() <= INT32_MAX) *out = v->get<int>();
    else fail_at(key, "expected an integer, found {}", v->dump());
  }
  void get(std::string_view key, std::vector<std::string>* out) {
    const json* v = take(key);
    if (!v) return;
    bool ok = v->is_array();
    for (size_t i = 0; ok && i < v->size(); ++i) ok = (*v)[i].is_string();
    if (ok) *out = v->get<std::vector<std::string>>();
    else fail_at(key, "expected an array of strings, found {}", v->dump());
  }
  Status finish() {
    if (!st_->is_ok() || !j_.is_object()) return *st_;
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (known_.count(it.key())) continue;
      std::string expected;
      for (const auto& k : known_) expected += (expected.empty() ? "" : ", ") + k;
      fail_at(it.key(), "unknown field (expected one of: {})", expected);
      break;
    }
    return *st_;
  }
  template <typename... Args>
  void fail_at(std::string_view key, fmt::format_string<Args...> f, Args&&... args) {
    if (st_->is_ok()) *st_ = Status(ErrorCode::kInvalidArgument, field(key) + ": " + fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    if (st_->is_ok()) *st_ = Status(ErrorCode::kInvalidArgument, (path_.empty() ? "the configuration" : path_) + ": " + fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  const json& j_;
  std::string path_;
  Status* st_;
  std::set<std::string> known_;
};

template <typename E>
void get_enum(ObjectReader& r, std::string_view key, E* out, std::initializer_list<std::pair<std::string_view, E>> names) {
  std::string s;
  const json* v = r.take(key);
  if (!v) return;
  if (!v->is_string()) return r.fail_at(key, "expected a string, found {}", v->type_name());
  s = v->get<std::string>();
  std::string all;
  for (const auto& [n, e] : names) {
    if (n == s) {
      *out = e;
      return;
    }
    all += (all.empty() ? "" : ", ") + std::string(n);
  }
  r.fail_at(key, "expected one of {}, got '{}'", all, s);
}

void read_train(const json* j, const std::string& path, TrainSpec* t, Status* st) {
  if (!j) return;
  ObjectReader r(*j, path, st);
  r.get("steps", &t->steps);
  r.get("batch_tokens", &t->batch_tokens, Unit::kTokens);
  r.get("micro_batch", &t->micro_batch);
  r.get("lr", &t->lr);
  r.get("schedule", &t->schedule);
  r.get("warmup", &t->warmup);
  r.get("min_lr", &t->min_lr);
  (void)r.finish();
}

void read_sweep(const json* j, const std::string& path, SweepSpec* s, Status* st) {
  if (!j) return;
  ObjectReader r(*j, path, st);
  r.get("enabled", &s->enabled);
  r.get("min_length", &s->min_length, Unit::kLength);
  r.get("max_length", &s->max_length, Unit::kLength);
  r.get("lengths", &s->lengths);
  r.get("depths", &s->depths);
  r.get("max_new_tokens", &s->max_new_tokens);
  r.get("buffer", &s->buffer, Unit::kLength);
  (void)r.finish();
}

void read_mixtures(const json* j, StudyConfig* c, Status* st) {
  if (!j || !st->is_ok()) return;
  if (!j->is_array()) {
    *st = make_error(ErrorCode::kInvalidArgument, "mixtures: expected an array, found {}", j->type_name());
    return;
  }
  c->mixtures.clear();
  for (size_t i = 0; i < j->size() && st->is_ok(); ++i) {
    MixtureSpec m;
    ObjectReader r((*j)[i], fmt::format("mixtures[{}]", i), st);
    r.get("name", &m.name);
    r.get("strategy", &m.strategy);
    if (const json* o = r.take("options")) {
      if (o->is_object()) m.options = *o;
      else r.fail_at("options", "expected an object, found {}", o->type_name());
    }
    get_enum(r, "context", &m.context, {{"short", Context::kShort}, {"long", Context::kLong}});
    r.get("tokens", &m.tokens, Unit::kTokens);
    if (r.finish().is_ok()) c->mixtures.push_back(std::move(m));
  }
}

// The object under `key`, or an empty one when the key is absent.
const json& section(ObjectReader& r, std::string_view key) {
  static const json kEmpty = json::object();
  const json* v = r.take(key);
  return v ? *v : kEmpty;
}

// The sections of the layout in order (study_config_json is the reference).
void read_sections(ObjectReader& top, StudyConfig* c, Status* st) {
  {
    ObjectReader r(section(top, "corpus"), "corpus", st);
    get_enum(r, "source", &c->corpus.source,
             {{"synth", CorpusSource::kSynth}, {"sample", CorpusSource::kSample}, {"path", CorpusSource::kPath}});
    r.get("path", &c->corpus.path);
    r.get("synth_bytes", &c->corpus.synth_bytes, Unit::kBytes);
    r.get("synth_validation_bytes", &c->corpus.synth_validation_bytes, Unit::kBytes);
    r.get("synth_bytes_per_token", &c->corpus.synth_bytes_per_token);
    (void)r.finish();
  }
  {
    ObjectReader r(section(top, "tokenizer"), "tokenizer", st);
    r.get("path", &c->tokenizer.path);
    r.get("vocab_size", &c->tokenizer.vocab_size);
    r.get("training_bytes", &c->tokenizer.training_bytes, Unit::kBytes);
    (void)r.finish();
  }
  read_mixtures(top.take("mixtures"), c, st);
  {
    ObjectReader r(section(top, "model"), "model", st);
    r.get("layers", &c->model.layers);
    r.get("hidden", &c->model.hidden);
    r.get("heads", &c->model.heads);
    r.get("kv_heads", &c->model.kv_heads);
    r.get("intermediate", &c->model.intermediate);
    r.get("rope_theta", &c->model.rope_theta);
    r.get("tie_embeddings", &c->model.tie_embeddings);
    (void)r.finish();
  }
  {
    ObjectReader r(section(top, "pretrain"), "pretrain", st);
    r.get("mixture", &c->pretrain.mixture);
    read_train(r.take("train"), "pretrain.train", &c->pretrain.train, st);
    (void)r.finish();
  }
  {
    ObjectReader r(section(top, "continued"), "continued", st);
    r.get("mixtures", &c->continued.mixtures);
    r.get("control", &c->continued.control);
    r.get("rope_theta", &c->continued.rope_theta);
    read_train(r.take("train"), "continued.train", &c->continued.train, st);
    (void)r.finish();
  }
  {
    ObjectReader r(section(top, "eval"), "eval", st);
    read_sweep(r.take("needle"), "eval.needle", &c->eval.needle, st);
    read_sweep(r.take("passkey"), "eval.passkey", &c->eval.passkey, st);
    if (const json* l = r.take("loss")) {
      ObjectReader lr(*l, "eval.loss", st);
      lr.get("enabled", &c->eval.loss.enabled);
      lr.get("baseline", &c->eval.loss.baseline);
      lr.get("split", &c->eval.loss.split, Unit::kLength);
      lr.get("max_tokens", &c->eval.loss.max_tokens, Unit::kTokens);
      (void)lr.finish();
    }
    (void)r.finish();
  }
}

}  // namespace

Result<StudyConfig> study_config_from_json(const nlohmann::json& j, const std::string& source) {
  StudyConfig c;
  if (j.is_object() && j.contains("extends")) {
    const json& base = j.at("extends");
    if (!base.is_string()) {
      return make_error(ErrorCode::kInvalidArgument, "{}: extends: expected a preset name ({}), found {}", source,
                        fmt::join(study_preset_names(), ", "), base.dump());
    }
    auto preset = study_preset(base.get<std::string>());
    if (!preset.is_ok()) return preset.status().with_context(source + ": extends");
    c = std::move(preset).value();
  }
  Status st;
  ObjectReader top(j, "", &st);
  top.take("extends");
  top.get("name", &c.name);
  top.get("description", &c.description);
  top.get("seed", &c.seed);
  top.get("threads", &c.threads);
  top.get("short_context", &c.short_context, Unit::kLength);
  top.get("long_context", &c.long_context, Unit::kLength);
  top.get("mixture_tokens", &c.mixture_tokens, Unit::kTokens);
  read_sections(top, &c, &st);
  LONGCTX_RETURN_IF_ERROR(top.finish().with_context(source));
  return c;
}

Result<StudyConfig> read_study_config(const std::string& path) {
  LONGCTX_ASSIGN_OR_RETURN(json j, read_json_file(path));
  return study_config_from_json(j, path);
}

}  // namespace longctx::study

namespace longctx::study {

std::vector<std::string> study_preset_names() {
  std::vector<std::string> names;
  for (const auto& p : preset_files()) names.emplace_back(p.name);
  return names;
}

Result<std::string> study_preset_text(std::string_view name) {
  for (const auto& p : preset_files())
    if (p.name == name) return std::string(p.text);
  return make_error(ErrorCode::kInvalidArgument, "'{}' is not a preset (presets: {})", name, fmt::join(study_preset_names(), ", "));
}

Result<StudyConfig> study_preset(std::string_view name) {
  LONGCTX_ASSIGN_OR_RETURN(std::string text, study_preset_text(name));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::kInternal, "preset '{}' is not valid JSON", name);
  if (j.contains("extends")) return make_error(ErrorCode::kInternal, "preset '{}' extends another preset", name);
  return study_config_from_json(j, fmt::format("preset {}", name));
}

}  // namespace longctx::study
