// The data stages of a study: each is one call into the library that owns the work (corpus,
// tokenizer, store, stats, mix, model), with the paths of study.h's layout. Training and
// evaluation are in study_slots.cc.
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "corpus/sample_corpus.h"
#include "corpus/synth_corpus.h"
#include "corpus/training_text.h"
#include "stats/stats.h"
#include "stats/stats_figure.h"
#include "model/config.h"
#include "store/build_store.h"
#include "study/study.h"
#include "study/study_internal.h"
#include "study/study_mix.h"
#include "tokenizer/tokenizer.h"

namespace longctx::study {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;


// The validation corpus of a synthetic study is another synthetic corpus: same generator, an
// unrelated seed (synth_corpus.h: each shard is a pure function of the seed and its index).
uint64_t validation_seed(uint64_t seed) { return seed ^ 0x76616c6964ull; }

Stage synth_stage(const StudyConfig& c, const std::string& dir, bool validation) {
  const uint64_t bytes = validation ? c.corpus.synth_validation_bytes : c.corpus.synth_bytes;
  const uint64_t seed = validation ? validation_seed(c.seed) : c.seed;
  const std::string out = validation ? layout::kCorpusValidation : layout::kCorpus;
  Stage s;
  s.name = validation ? "corpus-validation" : "corpus";
  s.group = "data";
  s.title = fmt::format("{} corpus: synthetic, SlimPajama-shaped, {} bytes of text", validation ? "held-out" : "training", bytes);
  s.params = {{"source", "synth"}, {"bytes", bytes}, {"seed", seed}, {"bytes_per_token", c.corpus.synth_bytes_per_token}};
  s.outputs = {{out, "synth.json"}};
  s.commands = {fmt::format("longctx corpus synth --size {} --seed {} --bytes-per-token {} --out {}", bytes, seed,
                            c.corpus.synth_bytes_per_token, dir_arg(dir, out))};
  s.run = [c, bytes, seed, out](const StageContext& ctx) -> Result<json> {
    SynthConfig sc;
    sc.out_dir = ctx.dir + "/" + out;
    sc.size_bytes = bytes;
    sc.seed = seed;
    sc.bytes_per_token = c.corpus.synth_bytes_per_token;
    sc.threads = ctx.threads;
    sc.overwrite = ctx.replace;
    LONGCTX_ASSIGN_OR_RETURN(SynthSummary r, build_synth_corpus(sc, ctx.progress));
    return json{{"documents", r.documents}, {"bytes", r.bytes}, {"shards", r.shards}};
  };
  return s;
}

Stage sample_stage(const std::string& dir) {
  Stage s;
  s.name = "corpus";
  s.group = "data";
  s.title = "corpus: the built-in sample (text of Debian packages, SlimPajama layout)";
  s.params = {{"source", "sample"}};
  s.outputs = {{layout::kCorpus, "sample.json"}};
  s.commands = {fmt::format("longctx corpus sample --out {}", dir_arg(dir, layout::kCorpus))};
  s.run = [](const StageContext& ctx) -> Result<json> {
    SampleCorpusConfig sc;
    sc.out_dir = ctx.dir + "/" + layout::kCorpus;
    sc.threads = ctx.threads;
    sc.overwrite = ctx.replace;
    LONGCTX_ASSIGN_OR_RETURN(SampleCorpusSummary r, build_sample_corpus(sc, ctx.progress));
    return json{{"documents", r.documents}, {"bytes", r.bytes}, {"holdout_documents", r.holdout_documents}};
  };
  return s;
}

// A corpus on disk: the stage lists its files with their sizes, so a changed corpus reruns what
// follows (hashing hundreds of gigabytes of SlimPajama for a fingerprint would cost more than
// tokenizing it).
Stage path_stage(const StudyConfig& c) {
  Stage s;
  s.name = "corpus";
  s.group = "data";
  s.title = "corpus: " + c.corpus.path;
  s.params = {{"source", "path"}, {"path", c.corpus.path}};
  s.outputs = {{layout::kCorpusList, ""}};
  s.run = [c](const StageContext& ctx) -> Result<json> {
    CorpusInputs in = corpus_inputs(c, ctx.dir);
    json list = {{"path", c.corpus.path}, {"train", json::array()}, {"validation", json::array()}};
    uint64_t bytes = 0;
    for (const auto& [key, inputs] : {std::pair{"train", &in.train}, std::pair{"validation", &in.validation}}) {
      if (inputs->empty()) continue;
      LONGCTX_ASSIGN_OR_RETURN(std::vector<std::string> files, expand_inputs(*inputs, {".jsonl", ".jsonl.zst", ".txt"}));
      for (const auto& f : files) {
        LONGCTX_ASSIGN_OR_RETURN(uint64_t size, file_size(f));
        list[key].push_back({{"file", f}, {"bytes", size}});
        bytes += size;
      }
    }
    if (list["train"].empty()) {
      return make_error(ErrorCode::kNotFound, "corpus '{}': no corpus files (.jsonl, .jsonl.zst, .txt) in {}", c.corpus.path,
                        in.train.empty() ? c.corpus.path : in.train[0]);
    }
    LONGCTX_RETURN_IF_ERROR(write_json_atomic(ctx.dir + "/" + layout::kCorpusList, list));
    return json{{"files", list["train"].size() + list["validation"].size()}, {"bytes", bytes}};
  };
  return s;
}

Stage tokenizer_stage(const StudyConfig& c, const std::string& dir) {
  Stage s;
  s.name = "tokenizer";
  s.group = "data";
  s.inputs = {"corpus"};
  if (!c.tokenizer.path.empty()) {
    // Given (--tokenizer): used as it is; its file's bytes stand for it.
    const std::string& p = c.tokenizer.path;
    const bool is_dir = fs::is_directory(p);
    s.title = "tokenizer: " + p + " (given)";
    s.inputs.clear();
    s.params = {{"given", p}};
    s.outputs = {{p, is_dir ? (fs::exists(p + "/tokenizer.model") ? "tokenizer.model" : "tokenizer.json") : ""}};
    s.commands = {fmt::format("longctx tokenizer encode --tokenizer {} --pieces --text 'Long context: 128K tokens.'", shell_quote(p))};
    s.run = [p](const StageContext&) -> Result<json> {
      LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(p));
      return json{{"vocab_size", tok->vocab_size()}, {"impl", tok->impl_name()}, {"checksum", hex64(tok->model_checksum())}};
    };
    return s;
  }
  s.title = fmt::format("tokenizer: SentencePiece BPE, {} pieces, trained on {} bytes of the training split",
                        c.tokenizer.vocab_size, c.tokenizer.training_bytes);
  s.params = {{"vocab_size", c.tokenizer.vocab_size}, {"training_bytes", c.tokenizer.training_bytes}};
  s.outputs = {{layout::kTokenizer, ""}};
  const CorpusInputs in = corpus_inputs(c, dir);
  s.commands = {fmt::format("longctx tokenizer train {} --vocab-size {} --max-bytes {} --out {}", shell_join(in.train),
                            c.tokenizer.vocab_size, c.tokenizer.training_bytes, dir_arg(dir, layout::kTokenizer))};
  s.run = [c](const StageContext& ctx) -> Result<json> {
    const std::string model = ctx.dir + "/" + layout::kTokenizer;
    const std::string prefix = model.substr(0, model.size() - 6);  // without ".model"
    LONGCTX_RETURN_IF_ERROR(make_dirs(parent_directory(model)));
    TrainingTextConfig tt;
    tt.corpus.inputs = corpus_inputs(c, ctx.dir).train;
    tt.max_bytes = c.tokenizer.training_bytes;
    LONGCTX_ASSIGN_OR_RETURN(TrainingTextSummary text, write_training_text(tt, prefix + ".train.txt"));
    TokenizerTrainConfig tc;
    tc.input_files = {prefix + ".train.txt"};
    tc.model_prefix = prefix + ".tmp";
    tc.vocab_size = c.tokenizer.vocab_size;
    tc.num_threads = ctx.threads > 0 ? ctx.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    Status st = ctx.call_external([&] { return train_sentencepiece_bpe(tc); });
    (void)remove_file_if_exists(prefix + ".train.txt");
    if (st.is_ok()) st = rename_file(prefix + ".tmp.vocab", prefix + ".vocab");
    if (st.is_ok()) st = rename_file(prefix + ".tmp.model", model);
    LONGCTX_RETURN_IF_ERROR(st.with_context("training the tokenizer"));
    LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(model));
    return json{{"vocab_size", tok->vocab_size()}, {"training_text_bytes", text.bytes},
                {"checksum", hex64(tok->model_checksum())}};
  };
  return s;
}

}  // namespace

std::string tokenizer_path(const StudyConfig& c, const std::string& dir) {
  return c.tokenizer.path.empty() ? dir + "/" + layout::kTokenizer : c.tokenizer.path;
}

CorpusInputs corpus_inputs(const StudyConfig& c, const std::string& dir) {
  CorpusInputs in;
  switch (c.corpus.source) {
    case CorpusSource::kSynth:
      in.train = {dir + "/" + layout::kCorpus + "/train"};
      if (c.corpus.synth_validation_bytes > 0) in.validation = {dir + "/" + layout::kCorpusValidation + "/train"};
      break;
    case CorpusSource::kSample:
      in.train = {dir + "/" + layout::kCorpus + "/train"};
      in.validation = {dir + "/" + layout::kCorpus + "/validation"};
      break;
    case CorpusSource::kPath: {
      const std::string& p = c.corpus.path;
      in.train = {fs::is_directory(p + "/train") ? p + "/train" : p};
      if (fs::is_directory(p + "/validation")) in.validation = {p + "/validation"};
      break;
    }
  }
  return in;
}

std::vector<Stage> corpus_stages(const StudyConfig& c, const std::string& dir) {
  std::vector<Stage> stages;
  switch (c.corpus.source) {
    case CorpusSource::kSynth:
      stages.push_back(synth_stage(c, dir, false));
      if (c.corpus.synth_validation_bytes > 0) stages.push_back(synth_stage(c, dir, true));
      break;
    case CorpusSource::kSample: stages.push_back(sample_stage(dir)); break;
    case CorpusSource::kPath: stages.push_back(path_stage(c)); break;
  }
  stages.push_back(tokenizer_stage(c, dir));
  return stages;
}

}  // namespace longctx::study

// ---- store, statistics, mixtures, the base model's configuration -------------------------------

namespace longctx::study {
namespace {

using nlohmann::json;


Stage store_stage(const StudyConfig& c, const std::string& dir, bool validation) {
  const CorpusInputs in = corpus_inputs(c, dir);
  const std::vector<std::string> inputs = validation ? in.validation : in.train;
  const std::string out = validation ? layout::kStoreValidation : layout::kStore;
  Stage s;
  s.name = validation ? "store-validation" : "store";
  s.group = "data";
  s.title = validation ? "tokenize the held-out split into a document store" : "tokenize the training split into a document store";
  s.inputs = {"corpus", "tokenizer"};
  if (validation && c.corpus.source == CorpusSource::kSynth) s.inputs = {"corpus-validation", "tokenizer"};
  s.params = json::object();
  s.outputs = {{out, "manifest.json"}};
  s.commands = {fmt::format("longctx tokenize {} --tokenizer {} --out {}", shell_join(inputs),
                            shell_quote(tokenizer_path(c, dir)), dir_arg(dir, out))};
  s.run = [c, validation, out](const StageContext& ctx) -> Result<json> {
    const CorpusInputs in = corpus_inputs(c, ctx.dir);
    LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(tokenizer_path(c, ctx.dir)));
    TokenizeConfig tc;
    tc.corpus.inputs = validation ? in.validation : in.train;
    tc.out_dir = ctx.dir + "/" + out;
    tc.tokenizer_path = tokenizer_path(c, ctx.dir);
    tc.threads = ctx.threads;
    tc.overwrite = ctx.replace;
    LONGCTX_ASSIGN_OR_RETURN(TokenizeSummary r, tokenize_corpus(tc, *tok, ctx.progress));
    return json{{"documents", r.documents}, {"tokens", r.tokens}, {"text_bytes", r.text_bytes}, {"resumed", r.resumed}};
  };
  return s;
}

Stage stats_stage(const StudyConfig& c, const std::string& dir) {
  Stage s;
  s.name = "stats";
  s.group = "data";
  s.title = "statistics of the store: domains x document lengths (paper Figure 2)";
  s.inputs = {"store"};
  s.params = {{"thresholds", {c.short_context, c.long_context}}};
  s.outputs = {{std::string(layout::kStats) + "/stats.json", ""}, {std::string(layout::kStats) + "/stats.svg", ""},
               {std::string(layout::kStats) + "/stats.png", ""}};
  const std::string st = std::string(layout::kStats) + "/stats";
  s.commands = {fmt::format("longctx stats {} --threshold {},{} --json {} --markdown {} --figure {} --figure {}",
                            dir_arg(dir, layout::kStore), c.short_context, c.long_context, dir_arg(dir, st + ".json"),
                            dir_arg(dir, st + ".md"), dir_arg(dir, st + ".svg"), dir_arg(dir, st + ".png"))};
  s.run = [c](const StageContext& ctx) -> Result<json> {
    LONGCTX_ASSIGN_OR_RETURN(DocumentStore store, DocumentStore::open(ctx.dir + "/" + layout::kStore));
    StatsConfig sc;
    sc.long_thresholds = {c.short_context, c.long_context};
    const CorpusStats stats = compute_stats(store, sc);
    const std::string base = ctx.dir + "/" + layout::kStats + "/stats";
    LONGCTX_RETURN_IF_ERROR(make_dirs(ctx.dir + "/" + layout::kStats));
    LONGCTX_RETURN_IF_ERROR(write_file_atomic(base + ".md", stats_markdown(stats)));
    for (const char* ext : {".svg", ".png"}) {
      LONGCTX_RETURN_IF_ERROR(draw_stats_figure(stats, base + ext, "Tokens by document length, per domain"));
    }
    LONGCTX_RETURN_IF_ERROR(write_json_atomic(base + ".json", stats_json(stats)));
    return json{{"domains", stats.domains.size()}, {"documents", stats.total.documents}, {"tokens", stats.total.tokens}};
  };
  return s;
}

Stage mix_stage(const StudyConfig& c, const std::string& dir, size_t index) {
  const MixtureSpec& m = c.mixtures[index];
  const std::string out = layout::mixture(m.name);
  // validate_study_config has built this configuration once already.
  MixConfig mix = study_mix_config(c, m, fmt::format("mixtures[{}]", index)).value();
  Stage s;
  s.name = "mix-" + m.name;
  s.group = "data";
  s.title = fmt::format("mixture {}: {} at the {} context ({} tokens)", m.name, m.strategy, context_name(m.context), mix.seq_len);
  s.inputs = {"store"};
  s.params = mix_config_json(mix);
  s.outputs = {{out, "manifest.json"}};
  s.commands = {fmt::format("longctx mix {} {} --out {}", dir_arg(dir, layout::kStore), mix_command_flags(mix), dir_arg(dir, out))};
  s.run = [mix, out](const StageContext& ctx) -> Result<json> {
    LONGCTX_ASSIGN_OR_RETURN(DocumentStore store, DocumentStore::open(ctx.dir + "/" + layout::kStore));
    MixRunConfig rc;
    rc.mix = mix;
    LONGCTX_RETURN_IF_ERROR(with_store_tokens(store.manifest(), &rc.mix));
    rc.out_dir = ctx.dir + "/" + out;
    rc.threads = ctx.threads;
    rc.overwrite = ctx.replace;
    LONGCTX_RETURN_IF_ERROR(make_dirs(parent_directory(rc.out_dir)));
    LONGCTX_ASSIGN_OR_RETURN(MixRunSummary r, run_mix(store, rc, ctx.progress));
    return json{{"chunks", r.chunks}, {"tokens", r.tokens}, {"shards", r.shards_written + r.shards_reused}};
  };
  return s;
}

// The base model's config.json (formats.md "HF config.json"): the study's model section, the
// tokenizer's vocabulary and special ids, max_position_embeddings = short_context.
Stage model_config_stage(const StudyConfig& c) {
  Stage s;
  s.name = "model-config";
  s.group = "train";
  s.title = fmt::format("base model: {} layers, hidden {}, {} heads ({} KV), RoPE base {}", c.model.layers, c.model.hidden,
                        c.model.heads, c.model.kv_heads, c.model.rope_theta);
  s.inputs = {"tokenizer"};
  s.params = study_config_json(c)["model"];
  s.params["max_position_embeddings"] = c.short_context;
  s.outputs = {{layout::kModelConfig, ""}};
  s.run = [c](const StageContext& ctx) -> Result<json> {
    LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(tokenizer_path(c, ctx.dir)));
    model::LlamaConfig m;
    m.vocab_size = static_cast<int>(tok->vocab_size());
    m.hidden_size = static_cast<int>(c.model.hidden);
    m.intermediate_size = static_cast<int>(c.model.intermediate);
    m.num_hidden_layers = static_cast<int>(c.model.layers);
    m.num_attention_heads = static_cast<int>(c.model.heads);
    m.num_key_value_heads = static_cast<int>(c.model.kv_heads);
    m.max_position_embeddings = static_cast<int64_t>(c.short_context);
    m.rope_theta = c.model.rope_theta;
    m.tie_word_embeddings = c.model.tie_embeddings;
    m.bos_token_id = tok->bos_id();
    m.eos_token_id = tok->eos_id();
    LONGCTX_RETURN_IF_ERROR(model::validate_config(m));
    LONGCTX_RETURN_IF_ERROR(make_dirs(parent_directory(ctx.dir + "/" + layout::kModelConfig)));
    LONGCTX_RETURN_IF_ERROR(model::write_config(ctx.dir + "/" + layout::kModelConfig, m));
    return json{{"vocab_size", m.vocab_size}};
  };
  return s;
}

}  // namespace

std::vector<Stage> store_and_mix_stages(const StudyConfig& c, const std::string& dir) {
  std::vector<Stage> stages;
  stages.push_back(store_stage(c, dir, false));
  if (!corpus_inputs(c, dir).validation.empty()) stages.push_back(store_stage(c, dir, true));
  stages.push_back(stats_stage(c, dir));
  for (size_t i = 0; i < c.mixtures.size(); ++i) stages.push_back(mix_stage(c, dir, i));
  stages.push_back(model_config_stage(c));
  return stages;
}

}  // namespace longctx::study
