// longctx model init | info | export-gguf | forward, and longctx generate.
#include "cli/cmd_model.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <sentencepiece_processor.h>

#include "core/file_io.h"
#include "core/units.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "model/generate.h"
#include "model/gguf.h"
#include "model/npy.h"
#include "model/rope.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

using namespace longctx::model;

[[noreturn]] void fail(const Status& st) {
  std::fprintf(stderr, "longctx: error: %s\n", st.message().c_str());
  throw CLI::RuntimeError(1);
}
#define CLI_CHECK(expr)                 \
  do {                                  \
    ::longctx::Status _s = (expr);      \
    if (!_s.is_ok()) fail(_s);          \
  } while (0)
template <typename T>
T cli_value(Result<T> r) {
  if (!r.is_ok()) fail(r.status());
  return std::move(r).value();
}

Result<std::vector<int32_t>> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back((int32_t)v);
    } catch (const std::exception&) {
      return make_error(ErrorCode::kInvalidArgument, "--ids: '{}' is not a token id", item);
    }
  }
  if (ids.empty()) return make_error(ErrorCode::kInvalidArgument, "no token ids given");
  return ids;
}

Result<DType> parse_save_dtype(const std::string& s) {
  if (s == "f32" || s == "float32") return DType::kF32;
  if (s == "bf16" || s == "bfloat16") return DType::kBF16;
  if (s == "f16" || s == "float16") return DType::kF16;
  return make_error(ErrorCode::kInvalidArgument, "--dtype '{}': expected f32, bf16 or f16", s);
}

std::string human_count(int64_t n) {
  if (n >= 1000000000) return fmt::format("{:.2f}B", n / 1e9);
  if (n >= 1000000) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1000) return fmt::format("{:.1f}K", n / 1e3);
  return std::to_string(n);
}

// Vocabulary for GGUF's tokenizer.ggml.* from a SentencePiece model (pieces, scores, types).
Result<GgufVocab> gguf_vocab_from_sentencepiece(const std::string& path) {
  sentencepiece::SentencePieceProcessor sp;
  const auto st = sp.Load(path);
  if (!st.ok()) return make_error(ErrorCode::kIo, "loading tokenizer '{}': {}", path, st.ToString());
  GgufVocab v;
  for (int i = 0; i < sp.GetPieceSize(); i++) {
    v.tokens.push_back(sp.IdToPiece(i));
    v.scores.push_back(sp.GetScore(i));
    v.types.push_back(sp.IsUnknown(i) ? kGgufUnknown
                      : sp.IsControl(i) ? kGgufControl
                      : sp.IsByte(i) ? kGgufByte
                      : sp.IsUnused(i) ? kGgufUnused
                                       : kGgufNormal);
  }
  v.bos = sp.bos_id(), v.eos = sp.eos_id(), v.unk = sp.unk_id();
  return v;
}

struct InitOpts {
  std::string config, out, dtype = "f32";
  uint64_t seed = 0;
  float std = 0.02f;
};

void run_init(const InitOpts& o) {
  LlamaConfig c = cli_value(read_config(o.config));
  LlamaModel m = cli_value(LlamaModel::create(c));
  init_params(c, o.seed, o.std, m.params());
  SaveOptions so;
  so.dtype = cli_value(parse_save_dtype(o.dtype));
  CLI_CHECK(save_checkpoint(m, o.out, so));
  std::printf("initialised %s parameters (seed %llu, std %g) -> %s\n", human_count(m.num_params()).c_str(),
              (unsigned long long)o.seed, o.std, o.out.c_str());
}

void run_info(const std::string& dir) {
  LlamaModel m = cli_value(load_checkpoint(dir));
  const LlamaConfig& c = m.config();
  std::printf("model          %s\n", dir.c_str());
  std::printf("parameters     %lld (%s)\n", (long long)m.num_params(), human_count(m.num_params()).c_str());
  std::printf("vocab          %d\n", c.vocab_size);
  std::printf("hidden         %d, intermediate %d, layers %d\n", c.hidden_size, c.intermediate_size,
              c.num_hidden_layers);
  std::printf("heads          %d query, %d key/value, head_dim %d\n", c.num_attention_heads,
              c.num_key_value_heads, c.head_dim_or_default());
  std::printf("context        %lld (max_position_embeddings)\n", (long long)c.max_position_embeddings);
  std::printf("rope           theta %g, scaling %s", c.rope_theta, rope_type_name(c.rope_scaling.type));
  if (c.rope_scaling.type != RopeType::kDefault) std::printf(" factor %g", c.rope_scaling.factor);
  std::printf("\n");
  std::printf("rms_norm_eps   %g, tied embeddings %s, dtype on disk %s\n", c.rms_norm_eps,
              c.tie_word_embeddings ? "yes" : "no", c.torch_dtype.c_str());
  double sumsq = 0;
  for (int64_t i = 0; i < m.num_params(); i++) sumsq += (double)m.params()[i] * m.params()[i];
  std::printf("weights rms    %.6g\n", std::sqrt(sumsq / (double)m.num_params()));
}

struct ForwardOpts {
  std::string model, ids, out;
  int threads = 0;
};

void run_forward(const ForwardOpts& o) {
  cpu::set_num_threads(o.threads);
  LlamaModel m = cli_value(load_checkpoint(o.model));
  std::vector<int32_t> ids = cli_value(parse_ids(o.ids));
  const int V = m.config().vocab_size, T = (int)ids.size();
  for (int32_t id : ids)
    if (id >= V) fail(make_error(ErrorCode::kInvalidArgument, "token id {} >= vocab_size {}", id, V));
  std::vector<float> logits((size_t)T * V);
  m.forward_logits(ids.data(), 1, T, logits.data());
  CLI_CHECK(write_npy_f32(o.out, logits.data(), {T, V}));
  std::printf("logits (%d, %d) float32 -> %s\n", T, V, o.out.c_str());
}

struct GenOpts {
  std::string model, prompt, prompt_ids, tokenizer;
  std::vector<std::string> stop;
  int max_new = 64, threads = 0, prefill_chunk = 512;
  float temperature = 0.0f, top_p = 1.0f;
  uint64_t seed = 0;
  bool print_ids = false, no_bos = false, ignore_eos = false;
};

void run_generate(const GenOpts& o) {
  cpu::set_num_threads(o.threads);
  LlamaModel m = cli_value(load_checkpoint(o.model));
  std::unique_ptr<Tokenizer> tok;
  std::vector<int32_t> prompt;
  if (!o.prompt_ids.empty()) {
    prompt = cli_value(parse_ids(o.prompt_ids));
  } else {
    if (o.prompt.empty()) fail(make_error(ErrorCode::kInvalidArgument, "give --prompt TEXT or --prompt-ids 1,2,3"));
    tok = cli_value(load_tokenizer(o.tokenizer.empty() ? o.model : o.tokenizer));
    std::vector<uint32_t> ids;
    CLI_CHECK(tok->encode(o.prompt, &ids));
    if (!o.no_bos && tok->bos_id() >= 0) prompt.push_back(tok->bos_id());
    for (uint32_t id : ids) prompt.push_back((int32_t)id);
  }
  if (!o.print_ids && !tok) {
    // token-level work without a tokenizer: print ids
    auto t = load_tokenizer(o.tokenizer.empty() ? o.model : o.tokenizer);
    if (t.is_ok()) tok = std::move(t).value();
  }
  if (!o.stop.empty() && !tok)
    fail(make_error(ErrorCode::kInvalidArgument, "--stop needs a tokenizer (in the model folder or --tokenizer)"));
  SamplingOptions so;
  so.temperature = o.temperature, so.top_p = o.top_p, so.seed = o.seed;
  so.max_new_tokens = o.max_new, so.prefill_chunk = o.prefill_chunk;
  if (!o.ignore_eos && m.config().eos_token_id >= 0) so.stop_ids.push_back(m.config().eos_token_id);
  std::vector<uint32_t> generated;
  StopStringFilter filter(o.stop);
  const bool text = tok && !o.print_ids;
  auto on_token = [&](int32_t t) {
    generated.push_back((uint32_t)t);
    if (!text) {
      std::printf("%s%d", generated.size() > 1 ? "," : "", t);
      std::fflush(stdout);
      return true;
    }
    auto s = tok->decode(generated);
    if (!s.is_ok()) return true;
    bool stop = false;
    std::printf("%s", filter.update(*s, &stop).c_str());
    std::fflush(stdout);
    return !stop;
  };
  GenerateResult r = cli_value(generate(m, prompt, so, on_token));
  if (text) {
    bool stop = false;
    auto s = tok->decode(generated);
    if (s.is_ok()) {
      const std::string more = filter.update(*s, &stop);
      std::printf("%s%s", more.c_str(), stop ? "" : filter.flush(*s).c_str());
    }
  }
  std::printf("\n");
  std::fprintf(stderr, "prompt %zu tokens in %.2fs (%.1f tok/s), generated %zu tokens in %.2fs (%.1f tok/s)\n",
               prompt.size(), r.prefill_seconds, prompt.size() / std::max(r.prefill_seconds, 1e-9),
               r.tokens.size(), r.decode_seconds, r.tokens.size() / std::max(r.decode_seconds, 1e-9));
}

}  // namespace

void register_model_commands(CLI::App& app) {
  CLI::App* model = app.add_subcommand("model", "LLaMA model files: init, info, export-gguf, forward");
  model->require_subcommand(1);

  auto io = std::make_shared<InitOpts>();
  CLI::App* init = model->add_subcommand("init", "Seeded random initialisation in Hugging Face layout");
  init->add_option("--config", io->config, "HF config.json")->required()->check(CLI::ExistingFile);
  init->add_option("--seed", io->seed, "Random seed");
  init->add_option("--std", io->std, "Standard deviation of matrix weights (HF initializer_range)");
  init->add_option("--dtype", io->dtype, "f32, bf16 or f16");
  init->add_option("--out", io->out, "Output folder (config.json + model.safetensors)")->required();
  init->callback([io] { run_init(*io); });

  auto info_dir = std::make_shared<std::string>();
  CLI::App* info = model->add_subcommand("info", "Summarise a model folder (config + weights)");
  info->add_option("dir", *info_dir, "Model folder")->required();
  info->callback([info_dir] { run_info(*info_dir); });

  struct GgufCli {
    std::string dir, out, type = "f16", name = "longctx", tokenizer;
    bool no_tokenizer = false;
  };
  auto go = std::make_shared<GgufCli>();
  CLI::App* gg = model->add_subcommand("export-gguf", "Write a GGUF file for llama.cpp / ollama");
  gg->add_option("dir", go->dir, "Model folder")->required();
  gg->add_option("--out", go->out, "Output .gguf file")->required();
  gg->add_option("--type", go->type, "f32 or f16 (norm weights stay f32)");
  gg->add_option("--name", go->name, "general.name");
  gg->add_option("--tokenizer", go->tokenizer, "SentencePiece tokenizer.model (default: the model folder's, if any)");
  gg->add_flag("--no-tokenizer", go->no_tokenizer, "Write weights only (llama.cpp cannot run such a file)");
  gg->callback([go] {
    LlamaModel m = cli_value(load_checkpoint(go->dir));
    GgufOptions opt;
    if (go->type == "f32") opt.type = GgufType::kF32;
    else if (go->type == "f16") opt.type = GgufType::kF16;
    else fail(make_error(ErrorCode::kInvalidArgument, "--type '{}': expected f32 or f16", go->type));
    opt.name = go->name;
    GgufVocab vocab;
    std::string tok_path = go->tokenizer.empty() ? go->dir + "/tokenizer.model" : go->tokenizer;
    const bool with_tok = !go->no_tokenizer && (file_exists(tok_path) || !go->tokenizer.empty());
    if (with_tok) {
      vocab = cli_value(gguf_vocab_from_sentencepiece(tok_path));
      opt.vocab = &vocab;
    }
    CLI_CHECK(export_gguf(m, go->out, opt));
    std::printf("wrote %s (%s, %s)\n", go->out.c_str(), go->type.c_str(),
                with_tok ? ("tokenizer " + tok_path).c_str() : "no tokenizer metadata");
  });

  auto fo = std::make_shared<ForwardOpts>();
  CLI::App* fw = model->add_subcommand("forward", "Dump the logits of a token sequence as float32 .npy");
  fw->add_option("--model", fo->model, "Model folder")->required();
  fw->add_option("--ids", fo->ids, "Comma-separated token ids")->required();
  fw->add_option("--out", fo->out, "Output .npy (shape [T, vocab])")->required();
  fw->add_option("--threads", fo->threads, "Threads (0 = all cores)");
  fw->callback([fo] { run_forward(*fo); });

  auto gen = std::make_shared<GenOpts>();
  CLI::App* g = app.add_subcommand("generate", "Generate text with a KV cache");
  g->add_option("--model", gen->model, "Model folder")->required();
  g->add_option("--prompt", gen->prompt, "Prompt text (tokenized with the model's tokenizer)");
  g->add_option("--prompt-ids", gen->prompt_ids, "Prompt as comma-separated token ids");
  g->add_option("--tokenizer", gen->tokenizer, "tokenizer.model (default: the model folder's)");
  g->add_option("--max-new-tokens", gen->max_new, "Tokens to generate");
  g->add_option("--temperature", gen->temperature, "0 = greedy");
  g->add_option("--top-p", gen->top_p, "Nucleus sampling threshold");
  g->add_option("--seed", gen->seed, "Sampling seed");
  g->add_option("--stop", gen->stop, "Stop string (repeatable)");
  g->add_option("--prefill-chunk", gen->prefill_chunk, "Prompt tokens per forward pass");
  g->add_option("--threads", gen->threads, "Threads (0 = all cores)");
  g->add_flag("--print-ids", gen->print_ids, "Print generated token ids instead of text");
  g->add_flag("--no-bos", gen->no_bos, "Do not prepend BOS to a text prompt");
  g->add_flag("--ignore-eos", gen->ignore_eos, "Keep generating after the end-of-sequence token");
  g->callback([gen] { run_generate(*gen); });
}

}  // namespace longctx::cli
