// The configuration of a study (`longctx reproduce`, docs/reproduce.md): one typed struct with the
// defaults, read from and written to one JSON layout. The presets (smoke, tiny, small) are JSON
// files in this layout under src/study/presets/, compiled in; a user's own study is a file in the
// same layout that may start from a preset ("extends": "tiny") and change what it names.
//
// Lengths are in tokens. The study is the paper's (paper.md) in miniature: `short_context` plays
// the part of LLaMA-2's 4K pretraining context and `long_context` the part of the 80K
// continual-pretraining length; a document is "long" when it has more tokens than short_context
// (paper.md "per-source length upsampling": longer than 4K).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace longctx::study {

// Bounds of the configuration (checked by validate_study_config).
inline constexpr uint64_t kMinContext = 16;
inline constexpr uint64_t kMaxContext = 1ull << 20;  // 1M tokens: past the paper's 128K
inline constexpr uint64_t kMaxCorpusBytes = 1ull << 40;
inline constexpr uint64_t kMaxTokens = 1ull << 44;  // a mixture or training budget (17.6T tokens)
inline constexpr uint32_t kMinVocab = 259 + 16;     // SentencePiece BPE with byte fallback: 256 bytes + 3 specials + pieces
inline constexpr uint32_t kMaxVocab = 1u << 20;
inline constexpr size_t kMaxMixtures = 64;
inline constexpr int kMaxThreads = 1024;

enum class CorpusSource {
  kSynth,   // `longctx corpus synth`: SlimPajama-shaped, seconds to build (the smoke preset)
  kSample,  // `longctx corpus sample`: the built-in 112 MB corpus of real text
  kPath,    // a corpus on disk: SlimPajama's root (train/, validation/) or corpus files
};
std::string_view corpus_source_name(CorpusSource s);

struct CorpusSpec {
  CorpusSource source = CorpusSource::kSynth;
  // kPath: the corpus root. Its train/ directory (else the path itself) is the training split,
  // its validation/ directory (when there is one) the held-out split.
  std::string path;
  // kSynth: text bytes of the training and validation corpora (validation 0: none), and the text
  // bytes per paper token that size documents (`corpus synth --bytes-per-token`): 4 gives the
  // paper's document lengths in text; 0.5, the smallest, an eighth of them, closer in proportion
  // to a miniature study's short context.
  uint64_t synth_bytes = 4000000;
  uint64_t synth_validation_bytes = 400000;
  double synth_bytes_per_token = 0.5;
};

struct TokenizerSpec {
  std::string path;               // a tokenizer to use as it is (`--tokenizer`); empty: train one
  uint32_t vocab_size = 2000;     // trained SentencePiece BPE (byte fallback, split digits)
  uint64_t training_bytes = 300000;  // text sampled from the training split to train it on
};

enum class Context { kShort, kLong };
std::string_view context_name(Context c);

// One mixture (docs/mixing.md), written with `longctx mix`. `options` are the strategy's own
// (`at` for cut, `long_share` for per-source-upsample, `keep_short` for global-upsample,
// `domains` and `weight` for upsample-domains, `max_doc` for natural, `keep_short` and
// `chars_per_token` for paper-script); cut's `at` defaults to short_context.
struct MixtureSpec {
  std::string name;  // [a-z0-9][a-z0-9-]*: a directory name and part of stage names
  std::string strategy;
  nlohmann::json options = nlohmann::json::object();
  Context context = Context::kLong;  // sequence length: short_context or long_context
  uint64_t tokens = 0;               // packed tokens; 0: the study's mixture_tokens
};

// The base model trained from scratch at short_context (a LLaMA config.json; formats.md).
struct ModelSpec {
  uint32_t layers = 2;
  uint32_t hidden = 64;
  uint32_t heads = 4;
  uint32_t kv_heads = 2;
  uint32_t intermediate = 176;
  double rope_theta = 10000;  // LLaMA-2's base
  bool tie_embeddings = true;
};

// One training run's recipe (`longctx train` flags of the same names).
struct TrainSpec {
  uint64_t steps = 100;
  uint64_t batch_tokens = 8192;  // per optimizer step; a multiple of micro_batch x seq_len
  uint32_t micro_batch = 4;      // sequences per forward/backward
  double lr = 3e-3;
  std::string schedule = "cosine";  // constant, cosine or linear
  uint64_t warmup = 10;
  double min_lr = 3e-4;
};

struct PretrainSpec {
  std::string mixture = "pretrain";  // a short-context mixture
  TrainSpec train;
};

// Continual pretraining of the base model on each long mixture with the RoPE base raised
// (paper.md "Training recipe": base 500,000 as in Xiong et al.), and one control run on
// `control` with the base left as it was.
struct ContinuedSpec {
  std::vector<std::string> mixtures = {"original", "cut", "per-source", "global", "books"};
  std::string control = "per-source";
  double rope_theta = 500000;
  TrainSpec train{40, 8192, 2, 1e-3, "constant", 0, 0};
};

// A retrieval sweep (needle or passkey): `lengths` context lengths evenly spaced in
// [min_length, max_length] (paper.md: linspace), `depths` depths evenly spaced in [0, 100] %.
struct SweepSpec {
  bool enabled = true;
  uint64_t min_length = 128;
  uint64_t max_length = 1024;
  uint32_t lengths = 8;
  uint32_t depths = 5;
  uint32_t max_new_tokens = 16;
  // Tokens kept free for the template, question and answer. The paper keeps 200 (paper.md "Needle
  // in a haystack") at lengths of 1K and more; a miniature study's shortest lengths would leave
  // little haystack after 200, so the default is smaller (at most half of min_length).
  uint64_t buffer = 64;
};

// Per-domain loss on the validation split (paper.md "Other evaluations"): positions before and
// after `split` (0: short_context), and loss against position; differences against the model
// continued on `baseline` (the paper's Table 5 compares with the original mixture).
struct LossSpec {
  bool enabled = true;
  std::string baseline = "original";
  uint64_t split = 0;
  uint64_t max_tokens = 65536;  // per domain
};

struct EvalSpec {
  SweepSpec needle;
  SweepSpec passkey;
  LossSpec loss;
};

struct StudyConfig {
  std::string name = "smoke";
  std::string description;
  uint64_t seed = 1;
  // Worker threads (0: all cores). Not part of any fingerprint: outputs are the same bytes at any
  // thread count.
  int threads = 0;
  uint64_t short_context = 256;
  uint64_t long_context = 1024;
  CorpusSpec corpus;
  TokenizerSpec tokenizer;
  uint64_t mixture_tokens = 500000;
  std::vector<MixtureSpec> mixtures = default_mixtures();
  ModelSpec model;
  PretrainSpec pretrain;
  ContinuedSpec continued;
  EvalSpec eval;

  // The paper's comparison (paper.md section 3): the original mixture at the short context (the
  // base model's pretraining data) and, at the long context, original, cut at short_context,
  // per-source upsampling (70% long), global upsampling (short documents kept at 0.1) and books
  // only.
  static std::vector<MixtureSpec> default_mixtures();

  const MixtureSpec* find_mixture(std::string_view name) const;
  uint64_t seq_len(const MixtureSpec& m) const { return m.context == Context::kShort ? short_context : long_context; }
  uint64_t tokens(const MixtureSpec& m) const { return m.tokens ? m.tokens : mixture_tokens; }
  uint64_t loss_split() const { return eval.loss.split ? eval.loss.split : short_context; }
};

// The whole configuration, every field, in the documented layout and order (docs/reproduce.md).
nlohmann::ordered_json study_config_json(const StudyConfig& c);

// Reads the layout. Missing fields keep the defaults of StudyConfig (or of the preset named by
// "extends"); unknown keys and wrong types are errors naming `source` and the field's path
// ("mixtures[2].tokens"). Sizes may be numbers or strings with units: byte sizes "4MB", token
// counts "500K" (10^3), lengths "1K" (1,024); core/units.h. Range checks are validate_study_config's.
Result<StudyConfig> study_config_from_json(const nlohmann::json& j, const std::string& source);
inline Result<StudyConfig> study_config_from_json(const nlohmann::ordered_json& j, const std::string& source) {
  return study_config_from_json(nlohmann::json::parse(j.dump()), source);
}
Result<StudyConfig> read_study_config(const std::string& path);

// Every field range-checked (NaN and infinities too) and every cross-reference resolved, before
// any work: messages name the field, the valid range and the value found.
Status validate_study_config(const StudyConfig& c);

// The presets compiled in from src/study/presets/*.json.
std::vector<std::string> study_preset_names();
Result<std::string> study_preset_text(std::string_view name);  // the file as committed
Result<StudyConfig> study_preset(std::string_view name);

}  // namespace longctx::study
