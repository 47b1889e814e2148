// longctx model init | info | export-gguf | forward, and longctx generate.
#include "cli/cmd_model.h"

#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/file_io.h"
#include "core/run_dir.h"
#include "core/units.h"
#include "core/validate.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "model/gguf.h"
#include "model/gguf_vocab.h"
#include "model/npy.h"
#include "model/rope.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {

using namespace longctx::model;

namespace {

Result<DType> parse_save_dtype(const std::string& s) {
  if (s == "f32" || s == "float32") return DType::kF32;
  if (s == "bf16" || s == "bfloat16") return DType::kBF16;
  if (s == "f16" || s == "float16") return DType::kF16;
  return make_error(ErrorCode::kInvalidArgument, "--dtype '{}': expected f32, bf16 or f16", s);
}

Result<GgufType> parse_gguf_type(const std::string& s) {
  if (s == "f32") return GgufType::kF32;
  if (s == "f16") return GgufType::kF16;
  return make_error(ErrorCode::kInvalidArgument, "--type '{}': expected f32 or f16", s);
}

// Token ids for the model: int32 (model.h), so at most INT32_MAX.
Result<std::vector<int32_t>> parse_model_ids(std::string_view flag, const std::string& text) {
  LONGCTX_ASSIGN_OR_RETURN(std::vector<uint32_t> ids, parse_token_ids(flag, text, INT32_MAX, false));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

}  // namespace

Status ModelInitOptions::validate() const {
  // Initial weights are N(0, std^2); beyond 10 every activation overflows float32 at once.
  LONGCTX_RETURN_IF_ERROR(check_range("--std", std, 0.0f, 10.0f));
  return parse_save_dtype(dtype).status();
}

Status run_model_init(const ModelInitOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kCheckpoint, "--out"}}, o.overwrite));
  LONGCTX_ASSIGN_OR_RETURN(LlamaConfig c, read_config(o.config));
  LONGCTX_ASSIGN_OR_RETURN(LlamaModel m, LlamaModel::create(c));
  init_params(c, o.seed, o.std, m.params());
  SaveOptions so;
  LONGCTX_ASSIGN_OR_RETURN(so.dtype, parse_save_dtype(o.dtype));
  // The run lifecycle (core/run_dir.h): only a checkpoint folder is replaced, --overwrite first
  // removes all of the old one's files (no old shard survives beside new weights), and
  // save_checkpoint writes config.json last.
  const nlohmann::json fp = {{"config", o.config}, {"seed", o.seed}, {"std", o.std}, {"dtype", o.dtype}};
  LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({o.out, &kinds::kCheckpoint, fp, o.overwrite, /*resumable=*/false}));
  LONGCTX_RETURN_IF_ERROR(run.fail(save_checkpoint(m, o.out, so)));
  LONGCTX_RETURN_IF_ERROR(run.finish());
  fmt::print("initialised {} parameters (seed {}, std {:g}) -> {}\n", format_count(static_cast<double>(m.num_params())), o.seed, o.std, o.out);
  return Status::ok();
}

Status run_model_info(const ModelInfoOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(LlamaModel m, load_checkpoint(o.dir));
  const LlamaConfig& c = m.config();
  fmt::print("model          {}\n", o.dir);
  fmt::print("parameters     {} ({})\n", m.num_params(), format_count(static_cast<double>(m.num_params())));
  fmt::print("vocab          {}\n", c.vocab_size);
  fmt::print("hidden         {}, intermediate {}, layers {}\n", c.hidden_size, c.intermediate_size, c.num_hidden_layers);
  fmt::print("heads          {} query, {} key/value, head_dim {}\n", c.num_attention_heads, c.num_key_value_heads, c.head_dim_or_default());
  fmt::print("context        {} (max_position_embeddings)\n", c.max_position_embeddings);
  fmt::print("rope           theta {:g}, scaling {}", c.rope_theta, rope_type_name(c.rope_scaling.type));
  if (c.rope_scaling.type != RopeType::kDefault) fmt::print(" factor {:g}", c.rope_scaling.factor);
  fmt::print("\n");
  fmt::print("rms_norm_eps   {:g}, tied embeddings {}, dtype on disk {}\n", c.rms_norm_eps, c.tie_word_embeddings ? "yes" : "no", c.torch_dtype);
  double sumsq = 0;
  for (int64_t i = 0; i < m.num_params(); i++) sumsq += static_cast<double>(m.params()[i]) * m.params()[i];
  fmt::print("weights rms    {:.6g}\n", std::sqrt(sumsq / static_cast<double>(m.num_params())));
  return Status::ok();
}

Status ModelExportGgufOptions::validate() const { return parse_gguf_type(type).status(); }

Status run_model_export_gguf(const ModelExportGgufOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kGguf, "--out"}}, o.overwrite));
  LONGCTX_ASSIGN_OR_RETURN(LlamaModel m, load_checkpoint(o.dir));
  GgufOptions opt;
  LONGCTX_ASSIGN_OR_RETURN(opt.type, parse_gguf_type(o.type));
  opt.name = o.name;
  GgufVocab vocab;
  const std::string tok_path = o.tokenizer.empty() ? o.dir + "/tokenizer.model" : o.tokenizer;
  const bool with_tok = !o.no_tokenizer && (file_exists(tok_path) || !o.tokenizer.empty());
  if (with_tok) {
    LONGCTX_ASSIGN_OR_RETURN(vocab, gguf_vocab_from_sentencepiece(tok_path));
    opt.vocab = &vocab;
  }
  LONGCTX_RETURN_IF_ERROR(export_gguf(m, o.out, opt));
  fmt::print("wrote {} ({}, {})\n", o.out, o.type, with_tok ? "tokenizer " + tok_path : std::string("no tokenizer metadata"));
  return Status::ok();
}

Status ModelForwardOptions::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  return parse_model_ids("--ids", ids).status();
}

Status run_model_forward(const ModelForwardOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kNpy, "--out"}}, o.overwrite));
  cpu::set_num_threads(o.threads);
  LONGCTX_ASSIGN_OR_RETURN(std::vector<int32_t> ids, parse_model_ids("--ids", o.ids));
  LONGCTX_ASSIGN_OR_RETURN(LlamaModel m, load_checkpoint(o.model));
  const int V = m.config().vocab_size;
  const int T = static_cast<int>(ids.size());
  for (int32_t id : ids)
    if (id >= V) return make_error(ErrorCode::kInvalidArgument, "token id {} >= vocab_size {}", id, V);
  std::vector<float> logits(static_cast<size_t>(T) * V);
  LONGCTX_ASSIGN_OR_RETURN(ScoreSession score, ScoreSession::create(m));
  Batch batch;
  batch.inputs = ids.data(), batch.B = 1, batch.T = T;
  LONGCTX_RETURN_IF_ERROR(score.logits(batch, logits.data()));
  LONGCTX_RETURN_IF_ERROR(write_npy_f32(o.out, logits.data(), {T, V}));
  // With --out - the array is standard output's; the message goes to standard error.
  fmt::print(o.out == "-" ? stderr : stdout, "logits ({}, {}) float32 -> {}\n", T, V, o.out == "-" ? "standard output" : o.out);
  return Status::ok();
}

Status GenerateOptions::validate() const {
  // The sampling flags are checked again against the model (SamplingOptions::validate); these
  // bounds hold for any model.
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  LONGCTX_RETURN_IF_ERROR(check_range("--temperature", temperature, 0.0f, 100.0f));
  LONGCTX_RETURN_IF_ERROR(check_range("--top-p", top_p, 0.0f, 1.0f));
  LONGCTX_RETURN_IF_ERROR(check_range("--max-new-tokens", max_new, 0, INT32_MAX));
  LONGCTX_RETURN_IF_ERROR(check_range("--prefill-chunk", prefill_chunk, 1, INT32_MAX));
  if (!prompt_ids.empty()) return parse_model_ids("--prompt-ids", prompt_ids).status();
  if (prompt.empty()) return make_error(ErrorCode::kInvalidArgument, "give --prompt TEXT or --prompt-ids 1,2,3");
  return Status::ok();
}

namespace {

// Generated tokens as they come: ids, or text through the stop-string filter.
class TokenPrinter {
 public:
  TokenPrinter(const Tokenizer* tok, const std::vector<std::string>& stop) : tok_(tok), filter_(stop) {}
  // Returns false when a stop string appeared.
  bool add(int32_t t) {
    generated_.push_back(static_cast<uint32_t>(t));
    if (!tok_) {
      fmt::print("{}{}", generated_.size() > 1 ? "," : "", t);
      std::fflush(stdout);
      return true;
    }
    auto s = tok_->decode(generated_, /*skip_special=*/true);
    if (!s.is_ok()) return true;
    bool stop = false;
    fmt::print("{}", filter_.update(*s, &stop));
    std::fflush(stdout);
    return !stop;
  }
  // After the last token: the text held back for a possible stop string, then a newline.
  void end() {
    if (tok_) {
      bool stop = false;
      auto s = tok_->decode(generated_, /*skip_special=*/true);
      if (s.is_ok()) {
        const std::string more = filter_.update(*s, &stop);
        fmt::print("{}{}", more, stop ? "" : filter_.flush(*s));
      }
    }
    fmt::print("\n");
    std::fflush(stdout);  // before the timing line on stderr
  }

 private:
  const Tokenizer* tok_;
  StopStringFilter filter_;
  std::vector<uint32_t> generated_;
};

}  // namespace

Status run_generate(const GenerateOptions& o) {
  cpu::set_num_threads(o.threads);
  LONGCTX_ASSIGN_OR_RETURN(LlamaModel m, load_checkpoint(o.model));
  std::unique_ptr<Tokenizer> tok;
  std::vector<int32_t> prompt;
  if (!o.prompt_ids.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(prompt, parse_model_ids("--prompt-ids", o.prompt_ids));
  } else {
    LONGCTX_ASSIGN_OR_RETURN(tok, load_tokenizer(o.tokenizer.empty() ? o.model : o.tokenizer));
    std::vector<uint32_t> ids;
    LONGCTX_RETURN_IF_ERROR(tok->encode(o.prompt, &ids));
    if (!o.no_bos && tok->bos_id() >= 0) prompt.push_back(tok->bos_id());
    for (uint32_t id : ids) prompt.push_back(static_cast<int32_t>(id));
  }
  if (!o.print_ids && !tok) {  // prompt ids but text output: the model folder's tokenizer, if any
    auto t = load_tokenizer(o.tokenizer.empty() ? o.model : o.tokenizer);
    if (t.is_ok()) tok = std::move(t).value();
  }
  if (!o.stop.empty() && !tok)
    return make_error(ErrorCode::kInvalidArgument, "--stop needs a tokenizer (in the model folder or --tokenizer)");
  SamplingOptions so;
  so.temperature = o.temperature, so.top_p = o.top_p, so.seed = o.seed;
  so.max_new_tokens = o.max_new, so.prefill_chunk = o.prefill_chunk;
  so.allow_beyond_context = o.allow_beyond_context;
  if (!o.ignore_eos && m.config().eos_token_id >= 0) so.stop_ids.push_back(m.config().eos_token_id);
  LONGCTX_RETURN_IF_ERROR(so.validate(m.config(), prompt.size()));
  TokenPrinter printer(o.print_ids ? nullptr : tok.get(), o.stop);
  LONGCTX_ASSIGN_OR_RETURN(GenerateResult r, generate(m, prompt, so, [&](int32_t t) { return printer.add(t); }));
  printer.end();
  fmt::print(stderr, "prompt {} tokens in {:.2f}s ({:.1f} tok/s), generated {} tokens in {:.2f}s ({:.1f} tok/s)\n", prompt.size(),
             r.prefill_seconds, prompt.size() / std::max(r.prefill_seconds, 1e-9), r.tokens.size(), r.decode_seconds,
             r.tokens.size() / std::max(r.decode_seconds, 1e-9));
  return Status::ok();
}

void register_model_commands(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "LLaMA model files: init, info, export-gguf, forward");
  model->require_subcommand(1);
  set_examples(model, {"longctx model init --config config.json --seed 1 --out m", "longctx model info m"});
  {
    auto o = std::make_shared<ModelInitOptions>();
    CLI::App* c = model->add_subcommand("init", "Seeded random initialisation in Hugging Face layout");
    c->add_option("--config", o->config, "HF config.json")->required()->check(CLI::ExistingFile);
    add_number(c, "--seed", o->seed, "Random seed");
    add_number(c, "--std", o->std, "Standard deviation of matrix weights (HF initializer_range)");
    c->add_option("--dtype", o->dtype, "f32, bf16 or f16")->capture_default_str();
    c->add_option("--out", o->out, "Output folder (config.json + model.safetensors)")->required();
    c->add_flag("--overwrite", o->overwrite, "Replace a model checkpoint folder at --out, all of its weight files (never anything else)");
    set_examples(c, {"longctx model init --config config.json --seed 1 --dtype bf16 --out m"});
    set_run(c, o, run_model_init);
  }
  {
    auto o = std::make_shared<ModelInfoOptions>();
    CLI::App* c = model->add_subcommand("info", "Summarise a model folder (config + weights)");
    c->add_option("dir", o->dir, "Model folder")->required();
    set_examples(c, {"longctx model info m"});
    set_run(c, o, run_model_info);
  }
  {
    auto o = std::make_shared<ModelExportGgufOptions>();
    CLI::App* c = model->add_subcommand("export-gguf", "Write a GGUF file for llama.cpp / ollama");
    c->add_option("dir", o->dir, "Model folder")->required();
    c->add_option("--out", o->out, "Output .gguf file")->required();
    c->add_option("--type", o->type, "f32 or f16 (norm weights stay f32)")->capture_default_str();
    c->add_option("--name", o->name, "general.name")->capture_default_str();
    c->add_option("--tokenizer", o->tokenizer, "SentencePiece tokenizer.model (default: the model folder's, if any)");
    c->add_flag("--no-tokenizer", o->no_tokenizer, "Write weights only (llama.cpp cannot run such a file)");
    c->add_flag("--overwrite", o->overwrite, "Replace an existing GGUF file at --out");
    set_examples(c, {"longctx model export-gguf m --out m.gguf"});
    set_run(c, o, run_model_export_gguf);
  }
  {
    auto o = std::make_shared<ModelForwardOptions>();
    CLI::App* c = model->add_subcommand("forward", "Dump the logits of a token sequence as float32 .npy");
    c->add_option("--model", o->model, "Model folder")->required();
    c->add_option("--ids", o->ids, "Comma-separated token ids")->required();
    c->add_option("--out", o->out, "Output .npy (shape [T, vocab]); '-': standard output")->required();
    add_number(c, "--threads", o->threads, "Threads (0 = all cores)");
    c->add_flag("--overwrite", o->overwrite, "Replace an existing .npy file at --out");
    set_examples(c, {"longctx model forward --model m --ids 1,15043,3186 --out logits.npy",
                     "longctx model forward --model m --ids 1,15043 --out - | python3 -c 'import io, sys, numpy; print(numpy.load(io.BytesIO(sys.stdin.buffer.read())).shape)'"});
    set_run(c, o, run_model_forward);
  }
  {
    auto o = std::make_shared<GenerateOptions>();
    CLI::App* c = app.add_subcommand("generate", "Generate text with a KV cache");
    c->add_option("--model", o->model, "Model folder")->required();
    c->add_option("--prompt", o->prompt, "Prompt text (tokenized with the model's tokenizer)");
    c->add_option("--prompt-ids", o->prompt_ids, "Prompt as comma-separated token ids");
    c->add_option("--tokenizer", o->tokenizer, "tokenizer.model, tokenizer.json or a folder holding one (default: the model folder's)");
    add_number(c, "--max-new-tokens", o->max_new, "Tokens to generate (the prompt and these fit the model's context)");
    add_number(c, "--temperature", o->temperature, "0 = greedy");
    add_number(c, "--top-p", o->top_p, "Nucleus sampling threshold");
    add_number(c, "--seed", o->seed, "Sampling seed");
    c->add_option("--stop", o->stop, "Stop string (repeatable)");
    add_number(c, "--prefill-chunk", o->prefill_chunk, "Prompt tokens per forward pass");
    add_number(c, "--threads", o->threads, "Threads (0 = all cores)");
    c->add_flag("--print-ids", o->print_ids, "Print generated token ids instead of text");
    c->add_flag("--no-bos", o->no_bos, "Do not prepend BOS to a text prompt");
    c->add_flag("--ignore-eos", o->ignore_eos, "Keep generating after the end-of-sequence token");
    c->add_flag("--allow-beyond-context", o->allow_beyond_context,
                "Let the prompt and --max-new-tokens run past the model's context (max_position_embeddings)");
    set_examples(c, {"longctx generate --model m --prompt 'Once upon a time' --max-new-tokens 32 --temperature 0.8 --top-p 0.9"});
    set_run(c, o, run_generate);
  }
}

}  // namespace longctx::cli
