// The study configuration: presets complete and canonical, the JSON layout's reader (units,
// extends, unknown keys, wrong types), and a refusal for every out-of-range field.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "study/study_config.h"

namespace longctx::study {
namespace {

using nlohmann::json;

Result<StudyConfig> parse(const std::string& text) { return study_config_from_json(json::parse(text), "test.json"); }

TEST(StudyConfig, PresetsAreCompleteCanonicalAndValid) {
  ASSERT_EQ(study_preset_names(), (std::vector<std::string>{"smoke", "tiny", "small"}));
  for (const auto& name : study_preset_names()) {
    auto text = study_preset_text(name);
    ASSERT_TRUE(text.is_ok());
    auto c = study_preset(name);
    ASSERT_TRUE(c.is_ok()) << name << ": " << c.status().message();
    Status st = validate_study_config(*c);
    EXPECT_TRUE(st.is_ok()) << name << ": " << st.message();
    EXPECT_EQ(c->name, name);
    // Every field is written out, in the layout's order: the preset files are complete templates.
    EXPECT_EQ(study_config_json(*c).dump(2) + "\n", *text) << name;
  }
  // The files compiled in are the committed ones.
  std::ifstream f(std::string(LONGCTX_SOURCE_DIR) + "/src/study/presets/tiny.json");
  std::string committed((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(committed, *study_preset_text("tiny"));
  EXPECT_FALSE(study_preset("huge").is_ok());
}

TEST(StudyConfig, DefaultsAreValidAndRoundTrip) {
  StudyConfig c;
  EXPECT_TRUE(validate_study_config(c).is_ok()) << validate_study_config(c).message();
  auto back = study_config_from_json(study_config_json(c), "defaults");
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(study_config_json(*back), study_config_json(c));
  // An empty object is the defaults.
  auto empty = parse("{}");
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(study_config_json(*empty), study_config_json(c));
}

TEST(StudyConfig, SizesTakeUnits) {
  auto c = parse(R"({"mixture_tokens": "500K", "long_context": "2K", "corpus": {"synth_bytes": "4MB"},
                     "tokenizer": {"training_bytes": "1MiB"}, "continued": {"train": {"batch_tokens": "16K"}},
                     "mixtures": [{"name": "a", "strategy": "original", "tokens": "1M"}]})");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c->mixture_tokens, 500000u);
  EXPECT_EQ(c->long_context, 2048u);
  EXPECT_EQ(c->corpus.synth_bytes, 4000000u);
  EXPECT_EQ(c->tokenizer.training_bytes, 1048576u);
  EXPECT_EQ(c->continued.train.batch_tokens, 16000u);
  ASSERT_EQ(c->mixtures.size(), 1u);
  EXPECT_EQ(c->mixtures[0].tokens, 1000000u);
  EXPECT_EQ(c->mixtures[0].context, Context::kLong);
}

TEST(StudyConfig, ExtendsAPreset) {
  auto c = parse(R"({"extends": "tiny", "name": "mine", "long_context": 4096, "eval": {"needle": {"lengths": 3}}})");
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  auto tiny = study_preset("tiny");
  ASSERT_TRUE(tiny.is_ok());
  EXPECT_EQ(c->name, "mine");
  EXPECT_EQ(c->long_context, 4096u);
  EXPECT_EQ(c->eval.needle.lengths, 3u);
  EXPECT_EQ(c->eval.needle.max_length, tiny->eval.needle.max_length);
  EXPECT_EQ(c->tokenizer.vocab_size, tiny->tokenizer.vocab_size);
  EXPECT_EQ(c->mixtures.size(), tiny->mixtures.size());
  auto bad = parse(R"({"extends": "huge"})");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("smoke, tiny, small"), std::string::npos) << bad.status().message();
}

TEST(StudyConfig, ReaderNamesTheField) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {R"({"seed": "one"})", "test.json: seed: expected an integer"},
      {R"({"seed": -1})", "seed: expected a non-negative integer, got -1"},
      {R"({"seed": 1.5})", "seed: expected an integer"},
      {R"({"sede": 1})", "sede: unknown field"},
      {R"({"corpus": {"source": "web"}})", "corpus.source: expected one of synth, sample, path, got 'web'"},
      {R"({"corpus": []})", "corpus: expected an object"},
      {R"({"mixtures": [{"name": "a", "strategy": "original", "optoins": {}}]})", "mixtures[0].optoins: unknown field"},
      {R"({"mixtures": [{"name": "a", "context": "medium"}]})", "mixtures[0].context: expected one of short, long"},
      {R"({"mixtures": {"name": "a"}})", "mixtures: expected an array"},
      {R"({"mixture_tokens": "lots"})", "mixture_tokens:"},
      {R"({"continued": {"train": {"lr": "fast"}}})", "continued.train.lr: expected a number"},
      {R"({"continued": {"mixtures": ["a", 2]}})", "continued.mixtures: expected an array of strings"},
      {R"({"eval": {"loss": {"enabled": 1}}})", "eval.loss.enabled: expected true or false"},
      {R"({"model": {"layers": 4294967296}})", "model.layers: expected an integer in [0, 4294967295]"},
      {R"({"extends": 3})", "extends: expected a preset name"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.text);
    ASSERT_FALSE(r.is_ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << c.text << " -> " << r.status().message();
  }
}

// Each case changes one field of a valid configuration; the refusal names that field.
TEST(StudyConfig, EveryFieldIsRangeChecked) {
  using Edit = std::function<void(StudyConfig&)>;
  const std::pair<Edit, const char*> cases[] = {
      {[](StudyConfig& c) { c.name.clear(); }, "name"},
      {[](StudyConfig& c) { c.threads = -1; }, "threads"},
      {[](StudyConfig& c) { c.threads = 5000; }, "threads"},
      {[](StudyConfig& c) { c.short_context = 8; }, "short_context"},
      {[](StudyConfig& c) { c.long_context = c.short_context; }, "long_context"},
      {[](StudyConfig& c) { c.long_context = kMaxContext + 1; }, "long_context"},
      {[](StudyConfig& c) { c.corpus.source = CorpusSource::kPath; }, "corpus.path"},
      {[](StudyConfig& c) { c.corpus.path = "/data"; }, "corpus.path"},
      {[](StudyConfig& c) { c.corpus.synth_bytes = 10; }, "corpus.synth_bytes"},
      {[](StudyConfig& c) { c.corpus.synth_validation_bytes = c.corpus.synth_bytes + 1; }, "corpus.synth_validation_bytes"},
      {[](StudyConfig& c) { c.corpus.synth_bytes_per_token = NAN; }, "corpus.synth_bytes_per_token"},
      {[](StudyConfig& c) { c.corpus.synth_bytes_per_token = INFINITY; }, "corpus.synth_bytes_per_token"},
      {[](StudyConfig& c) { c.tokenizer.vocab_size = 100; }, "tokenizer.vocab_size"},
      {[](StudyConfig& c) { c.tokenizer.training_bytes = 0; }, "tokenizer.training_bytes"},
      {[](StudyConfig& c) { c.mixture_tokens = 0; }, "mixture_tokens"},
      {[](StudyConfig& c) { c.mixtures.clear(); }, "mixtures (count)"},
      {[](StudyConfig& c) { c.mixtures[1].name = "Per Source"; }, "mixtures[1].name"},
      {[](StudyConfig& c) { c.mixtures[2].name = c.mixtures[1].name; }, "mixtures[2].name: 'original' names two"},
      {[](StudyConfig& c) { c.mixtures[1].strategy = "magic"; }, "mixtures[1].strategy"},
      {[](StudyConfig& c) { c.mixtures[3].options["long_shar"] = 0.5; }, "mixtures[3].options.long_shar: not an option"},
      {[](StudyConfig& c) { c.mixtures[3].options["long_share"] = 1.5; }, "mixtures[3].options.long_share"},
      {[](StudyConfig& c) { c.mixtures[3].options["long_share"] = "high"; }, "mixtures[3].options.long_share"},
      {[](StudyConfig& c) { c.mixtures[4].options["keep_short"] = -0.1; }, "mixtures[4].options.keep_short"},
      {[](StudyConfig& c) { c.mixtures[5].options["domains"] = json::array(); }, "mixtures[5].options.domains"},
      {[](StudyConfig& c) { c.mixtures[2].options["at"] = 0; }, "mixtures[2].options.at"},
      {[](StudyConfig& c) { c.mixtures[1].tokens = 100; }, "mixtures[1].tokens"},
      {[](StudyConfig& c) { c.model.layers = 0; }, "model.layers"},
      {[](StudyConfig& c) { c.model.hidden = 66; }, "model.hidden"},
      {[](StudyConfig& c) { c.model.kv_heads = 3; }, "model.kv_heads"},
      {[](StudyConfig& c) { c.model.kv_heads = 8; }, "model.kv_heads"},
      {[](StudyConfig& c) { c.model.rope_theta = NAN; }, "model.rope_theta"},
      {[](StudyConfig& c) { c.pretrain.mixture = "original"; }, "pretrain.mixture: mixture 'original' is at the long context"},
      {[](StudyConfig& c) { c.pretrain.mixture = "nope"; }, "pretrain.mixture: 'nope' is not one of the mixtures"},
      {[](StudyConfig& c) { c.pretrain.train.steps = 0; }, "pretrain.train.steps"},
      {[](StudyConfig& c) { c.pretrain.train.lr = 0; }, "pretrain.train.lr"},
      {[](StudyConfig& c) { c.pretrain.train.lr = NAN; }, "pretrain.train.lr"},
      {[](StudyConfig& c) { c.pretrain.train.schedule = "step"; }, "pretrain.train.schedule"},
      {[](StudyConfig& c) { c.pretrain.train.warmup = c.pretrain.train.steps + 1; }, "pretrain.train.warmup"},
      {[](StudyConfig& c) { c.pretrain.train.min_lr = 1; }, "pretrain.train.min_lr"},
      {[](StudyConfig& c) { c.pretrain.train.batch_tokens = 1000; }, "pretrain.train.batch_tokens: expected a multiple"},
      {[](StudyConfig& c) { c.continued.train.micro_batch = 0; }, "continued.train.micro_batch"},
      {[](StudyConfig& c) { c.continued.mixtures.push_back("pretrain"); }, "continued.mixtures[2]: mixture 'pretrain' is at the short"},
      {[](StudyConfig& c) { c.continued.mixtures.push_back("original"); }, "continued.mixtures[2]: 'original' is listed twice"},
      {[](StudyConfig& c) { c.continued.control = "pretrain"; }, "continued.control"},
      {[](StudyConfig& c) { c.continued.rope_theta = 0; }, "continued.rope_theta"},
      {[](StudyConfig& c) { c.eval.needle.min_length = c.eval.needle.max_length + 1; }, "eval.needle.min_length"},
      {[](StudyConfig& c) { c.eval.needle.depths = 0; }, "eval.needle.depths"},
      {[](StudyConfig& c) { c.eval.passkey.max_new_tokens = 0; }, "eval.passkey.max_new_tokens"},
      {[](StudyConfig& c) { c.eval.needle.buffer = c.eval.needle.min_length; }, "eval.needle.buffer"},
      {[](StudyConfig& c) { c.eval.loss.baseline = "books"; }, "eval.loss.baseline"},
      {[](StudyConfig& c) { c.eval.loss.split = c.long_context; }, "eval.loss.split"},
      {[](StudyConfig& c) { c.eval.loss.max_tokens = 0; }, "eval.loss.max_tokens"},
  };
  for (const auto& [edit, expect] : cases) {
    auto c = study_preset("smoke");
    ASSERT_TRUE(c.is_ok());
    edit(*c);
    Status st = validate_study_config(*c);
    ASSERT_FALSE(st.is_ok()) << expect;
    EXPECT_EQ(st.message().rfind(expect, 0), 0u) << "expected '" << expect << "...', got: " << st.message();
  }
  // A disabled sweep is not checked; a control may be left out.
  auto c = study_preset("smoke");
  c->eval.needle.enabled = false;
  c->eval.needle.depths = 0;
  c->continued.control.clear();
  EXPECT_TRUE(validate_study_config(*c).is_ok()) << validate_study_config(*c).message();
}

}  // namespace
}  // namespace longctx::study
