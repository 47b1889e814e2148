#include "cli/cmd_eval.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/outputs.h"
#include "core/run_dir.h"
#include "core/units.h"
#include "core/validate.h"
#include "eval/figures.h"
#include "eval/loss_eval.h"
#include "eval/needle.h"
#include "eval/needle_run.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {

// ---- needle ----------------------------------------------------------------------------------

namespace {

Result<std::optional<double>> parse_train_length(const std::string& s) {
  if (s.empty()) return std::optional<double>();
  auto v = parse_token_count(s);
  if (!v.is_ok() || *v < 1 || *v > (uint64_t{1} << 31)) {
    return make_error(ErrorCode::kInvalidArgument, "--train-length: expected a token count such as 80K, got '{}'", s);
  }
  return std::optional<double>(static_cast<double>(*v));
}

Result<eval::NeedleConfig> needle_config(const NeedleOptions& o) {
  eval::NeedleConfig c;
  LONGCTX_ASSIGN_OR_RETURN(c.task, eval::parse_task(o.task));
  LONGCTX_ASSIGN_OR_RETURN(c.lengths, eval::parse_lengths(o.lengths));
  LONGCTX_ASSIGN_OR_RETURN(c.depths, eval::parse_depths(o.depths));
  c.needle = o.needle;
  c.question = o.question;
  c.answer = o.answer;
  c.prompt_template = o.prompt_template;
  c.max_new_tokens = o.max_new_tokens;
  c.buffer_tokens = o.buffer;
  c.num_needles = o.needles;
  c.seed = o.seed;
  LONGCTX_RETURN_IF_ERROR(c.validate());
  return c.resolved();
}

// The model or endpoint a sweep measured, for its fingerprint: a rerun against another model
// must not resume this one's results.
Result<nlohmann::json> model_identity(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(std::string cfg, read_file(dir + "/config.json"));
  nlohmann::json id = {{"model", std::filesystem::absolute(dir).lexically_normal().string()},
                       {"config_xxh64", hex64(xxh64(cfg))}};
  auto size = file_size(dir + "/model.safetensors");
  if (size.is_ok()) id["weights_bytes"] = *size;
  std::error_code ec;
  auto t = std::filesystem::last_write_time(dir + "/model.safetensors", ec);
  if (!ec) id["weights_mtime"] = static_cast<int64_t>(t.time_since_epoch().count());
  return id;
}

}  // namespace

Status NeedleOptions::validate() const {
  if (model.empty() == endpoint.empty()) return make_error(ErrorCode::kInvalidArgument, "give either --model DIR or --endpoint URL");
  if (!endpoint.empty() && model_name.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--endpoint needs --model-name (the model's name on that server)");
  }
  if (!endpoint.empty()) LONGCTX_RETURN_IF_ERROR(eval::completions_url(endpoint).status());
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "--out is required");
  if (allow_beyond_context && model.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--allow-beyond-context is for --model (a server decides its own context)");
  }
  LONGCTX_RETURN_IF_ERROR(check_range("--concurrency", concurrency, 1, 256));
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  LONGCTX_RETURN_IF_ERROR(check_range("--prefill-chunk", prefill_chunk, 1, 1 << 20));
  LONGCTX_RETURN_IF_ERROR(check_range("--timeout", timeout, 0.001, 86400.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--retries", retries, 0, 100));
  LONGCTX_RETURN_IF_ERROR(check_range("--backoff", backoff, 0.0, 60.0));
  LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--context-length", context_length, 0, int64_t{1} << 31));
  LONGCTX_RETURN_IF_ERROR(parse_train_length(train_length).status());
  return needle_config(*this).status();
}

namespace {

// The generator of a sweep: the native engine on the loaded model (kept in `model`), or the
// OpenAI-compatible client.
Result<std::unique_ptr<eval::Generator>> make_generator(const NeedleOptions& o, std::shared_ptr<const Tokenizer> tok,
                                                         const std::string& name, std::optional<model::LlamaModel>* model) {
  if (!o.model.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel lm, model::load_checkpoint(o.model));
    model->emplace(std::move(lm));
    auto native = std::make_unique<eval::NativeGenerator>(**model, tok, name, o.prefill_chunk);
    native->set_allow_beyond_context(o.allow_beyond_context);
    return std::unique_ptr<eval::Generator>(std::move(native));
  }
  eval::HttpClientConfig hc;
  hc.endpoint = o.endpoint;
  hc.model_name = o.model_name;
  if (!o.api_key_env.empty()) {
    const char* key = std::getenv(o.api_key_env.c_str());
    if (!key || !*key) return make_error(ErrorCode::kInvalidArgument, "--api-key-env: ${} is not set", o.api_key_env);
    hc.api_key = key;
  }
  hc.timeout_s = o.timeout;
  hc.max_retries = o.retries;
  hc.backoff_s = o.backoff;
  if (o.context_length > 0) hc.context_length = o.context_length;
  LONGCTX_RETURN_IF_ERROR(hc.validate());
  return std::unique_ptr<eval::Generator>(std::make_unique<eval::HttpGenerator>(hc));
}

void print_sweep(const NeedleOptions& o, const std::string& name, const eval::NeedleConfig& cfg, const eval::TextCodec& codec,
                 const eval::SweepSummary& s) {
  fmt::print("{} {} on {}: mean score {:.4f}, mean ROUGE-1 F {:.4f} over {} cells ({} skipped)\n", name,
             eval::task_name(cfg.task), codec.exact() ? "model tokens" : "approximate tokens", s.mean_score,
             s.mean_rouge1_f, s.measured, s.skipped);
  fmt::print("results: {0}/results.jsonl, {0}/results.csv; heatmap: {0}/heatmap.png, {0}/heatmap.svg\n", o.out);
}

// The sweep's progress as the bar's snapshot: cells as documents, prompt tokens as the work; the
// first report gives what an interrupted run had already done (rate and ETA count this run only).
std::function<void(const eval::SweepProgress&)> sweep_progress(ProgressThrottle* throttle) {
  struct Start {
    int64_t tokens = -1;
    size_t cells = 0;
  };
  return [throttle, start = std::make_shared<Start>(), kill_hook = with_test_kill_hooks(nullptr)](
             const eval::SweepProgress& p) {
    if (start->tokens < 0) *start = {p.prompt_tokens_done, p.done};
    ProgressSnapshot s;
    s.docs = p.done;
    s.bytes = static_cast<uint64_t>(p.prompt_tokens_done);
    s.bytes_total = static_cast<uint64_t>(p.prompt_tokens_total);
    s.bytes_at_start = static_cast<uint64_t>(start->tokens);
    s.checkpoints = p.done - start->cells;  // every cell measured by this run is checkpointed
    s.final = p.done == p.total;
    throttle->report(s, s.final);
    if (kill_hook) kill_hook(s);  // the kill/resume tests only (LONGCTX_TEST_KILL_AFTER_*)
  };
}

}  // namespace

Status run_needle(const NeedleOptions& o) {
  // Before reading anything: --out must be missing, empty or a sweep folder; a link, a device or
  // another kind of output is refused whatever the flags. Whether a finished sweep there is this
  // one (found) or another (replaced only with --overwrite) needs the fingerprint, so
  // NeedleRun::open decides that below, still before the model is loaded.
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kNeedleRun, "--out"}}, /*overwrite=*/true));
  cpu::set_num_threads(o.threads);
  LONGCTX_ASSIGN_OR_RETURN(eval::NeedleConfig cfg, needle_config(o));
  LONGCTX_ASSIGN_OR_RETURN(std::optional<double> train_length, parse_train_length(o.train_length));

  // Tokens: the model's tokenizer (native; or --tokenizer for a remote model), else the
  // word-and-punctuation approximation.
  std::shared_ptr<const Tokenizer> tok;
  std::string tok_path = !o.tokenizer.empty() ? o.tokenizer : o.model;
  if (!tok_path.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(auto t, load_tokenizer(tok_path));
    tok = std::move(t);
  }
  std::unique_ptr<eval::TextCodec> codec = tok ? eval::tokenizer_codec(tok) : eval::word_codec();

  LONGCTX_ASSIGN_OR_RETURN(std::string hay_text, eval::task_haystack(cfg, o.haystack));
  std::vector<int32_t> hay;
  LONGCTX_RETURN_IF_ERROR(codec->encode(hay_text, &hay));

  nlohmann::json identity;
  std::string name = o.name;
  if (!o.model.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(identity, model_identity(o.model));
    if (name.empty()) name = std::filesystem::path(o.model).lexically_normal().filename().string();
    // Cells past the context are measured rather than skipped: another sweep's results.
    if (o.allow_beyond_context) identity["beyond_context"] = true;
  } else {
    identity = {{"endpoint", o.endpoint}, {"model_name", o.model_name}};
    if (name.empty()) name = o.model_name;
  }
  identity["haystack_xxh64"] = hex64(xxh64(hay_text));
  identity["tokens"] = codec->describe();

  eval::NeedleRunConfig rc;
  rc.needle = cfg;
  rc.out_dir = o.out;
  rc.overwrite = o.overwrite;
  rc.concurrency = o.concurrency;
  rc.identity = identity;
  LONGCTX_ASSIGN_OR_RETURN(eval::NeedleRun run, eval::NeedleRun::open(rc));
  print_notes(run.notes());
  if (run.already_done()) {  // found: no model is loaded, nothing is measured
    fmt::print(stderr, "longctx: note: '{}' already holds this sweep; nothing to do\n", o.out);
    print_sweep(o, name, cfg, *codec, run.finished());
    return Status::ok();
  }
  std::optional<model::LlamaModel> m;
  LONGCTX_ASSIGN_OR_RETURN(std::unique_ptr<eval::Generator> gen, make_generator(o, tok, name, &m));

  ProgressBar bar(eval::task_name(cfg.task), global_quiet());
  bar.set_units("cells", "tok");
  ProgressThrottle throttle(bar.fn());
  auto progress = sweep_progress(&throttle);
  auto figures = [&](const eval::SweepSummary& s, const std::string& dir) {
    return eval::render_needle_heatmap(cfg, s, name, train_length, dir + "/heatmap");
  };
  LONGCTX_ASSIGN_OR_RETURN(eval::NeedleRunResult r, run.run(hay, *codec, *gen, progress, figures));
  bar.finish();
  print_sweep(o, name, cfg, *codec, r.summary);
  return Status::ok();
}

// ---- needle compare --------------------------------------------------------------------------

Status NeedleCompareOptions::validate() const {
  if (runs.empty()) return make_error(ErrorCode::kInvalidArgument, "give the sweep directories to compare");
  if (!names.empty() && names.size() != runs.size()) {
    return make_error(ErrorCode::kInvalidArgument, "--names: {} names for {} runs", names.size(), runs.size());
  }
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "--out FIGURE.png|.svg is required");
  const std::string ext = std::filesystem::path(out).extension().string();
  if (ext != ".png" && ext != ".svg" && ext != ".PNG" && ext != ".SVG") {
    return make_error(ErrorCode::kInvalidArgument, "--out '{}': expected a .png or .svg file name", out);
  }
  return parse_train_length(train_length).status();
}

Status run_needle_compare(const NeedleCompareOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kFigure, "--out"}}, o.overwrite));
  LONGCTX_ASSIGN_OR_RETURN(std::optional<double> train_length, parse_train_length(o.train_length));
  std::vector<eval::NeedleConfig> cfgs;
  std::vector<eval::SweepSummary> runs;
  std::vector<std::string> names;
  for (size_t i = 0; i < o.runs.size(); ++i) {
    LONGCTX_ASSIGN_OR_RETURN(eval::NeedleRunData d, eval::read_needle_run(o.runs[i]));
    cfgs.push_back(d.config);
    runs.push_back(d.summary);
    names.push_back(o.names.empty() ? std::filesystem::path(o.runs[i]).lexically_normal().filename().string() : o.names[i]);
    fmt::print("{:<32} mean score {:.4f}  ROUGE-1 F {:.4f}  ({} cells, {} skipped)\n", names.back(), d.summary.mean_score,
               d.summary.mean_rouge1_f, d.summary.measured, d.summary.skipped);
  }
  LONGCTX_RETURN_IF_ERROR(eval::render_needle_compare(cfgs, runs, names, train_length, o.out));
  fmt::print("figure: {}\n", o.out);
  return Status::ok();
}

// ---- loss ------------------------------------------------------------------------------------

namespace {

Result<eval::LossEvalConfig> loss_config(const LossOptions& o) {
  eval::LossEvalConfig c;
  c.data = o.data;
  auto len = [](const char* flag, const std::string& s) -> Result<int64_t> {
    if (s == "0") return int64_t{0};
    auto v = parse_seq_len(s);
    if (!v.is_ok()) return make_error(ErrorCode::kInvalidArgument, "{}: expected a length such as 4K or 4096, got '{}'", flag, s);
    return static_cast<int64_t>(*v);
  };
  LONGCTX_ASSIGN_OR_RETURN(c.split, len("--split", o.split));
  LONGCTX_ASSIGN_OR_RETURN(c.seq_len, len("--seq-len", o.seq_len));
  auto mt = parse_token_count(o.max_tokens);
  if (!mt.is_ok()) return make_error(ErrorCode::kInvalidArgument, "--max-tokens: expected a token count such as 1M, got '{}'", o.max_tokens);
  c.max_tokens = *mt;
  if (!o.buckets.empty()) {
    size_t start = 0;
    for (;;) {
      size_t e = o.buckets.find(',', start);
      LONGCTX_ASSIGN_OR_RETURN(int64_t v, len("--buckets", o.buckets.substr(start, e == std::string::npos ? e : e - start)));
      c.bucket_edges.push_back(v);
      if (e == std::string::npos) break;
      start = e + 1;
    }
  }
  c.seed = o.seed;
  LONGCTX_RETURN_IF_ERROR(c.validate());
  return c;
}

std::string folder_name(const std::string& dir) {
  return std::filesystem::path(dir).lexically_normal().filename().string();
}

Result<eval::LossEvalResult> loss_of(const std::string& model_dir, const std::string& name, const eval::LossEvalConfig& c) {
  LONGCTX_ASSIGN_OR_RETURN(model::LlamaModel m, model::load_checkpoint(model_dir));
  ProgressBar bar("loss " + name, global_quiet());
  bar.set_units("sequences", "positions");
  auto progress = [&](const ProgressSnapshot& s) { bar.render(s); };
  LONGCTX_ASSIGN_OR_RETURN(eval::LossEvalResult r, eval::evaluate_loss(m, c, progress));
  bar.finish();
  r.model = name;
  return r;
}

}  // namespace

Status LossOptions::validate() const {
  if (model.empty()) return make_error(ErrorCode::kInvalidArgument, "--model is required");
  if (data.empty()) return make_error(ErrorCode::kInvalidArgument, "--data is required");
  LONGCTX_RETURN_IF_ERROR(check_range("--threshold", threshold, 0.0, 100.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  return loss_config(*this).status();
}

namespace {

// The loss folder's fingerprint: every input and option that changes its bytes.
Result<nlohmann::json> loss_fingerprint(const LossOptions& o, const eval::LossEvalConfig& c) {
  nlohmann::json fp = {{"data", std::filesystem::absolute(o.data).lexically_normal().string()},
                       {"split", c.split}, {"seq_len", c.seq_len}, {"max_tokens", c.max_tokens},
                       {"buckets", c.bucket_edges}, {"seed", c.seed}, {"threshold", o.threshold},
                       {"names", {o.name, o.baseline_name}}, {"also", o.also}};
  LONGCTX_ASSIGN_OR_RETURN(fp["model"], model_identity(o.model));
  if (!o.baseline.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(fp["baseline"], model_identity(o.baseline));
  }
  return fp;
}

// Scores, prints and (with a RunDir) writes the folder's files; loss.json is published last.
Status loss_measure_and_write(const LossOptions& o, const eval::LossEvalConfig& c, RunDir* run) {
  const std::string name = o.name.empty() ? folder_name(o.model) : o.name;
  LONGCTX_ASSIGN_OR_RETURN(eval::LossEvalResult r, loss_of(o.model, name, c));
  std::vector<eval::LossEvalResult> curves = {r};
  std::vector<std::string> names = {name};
  std::optional<eval::LossDiffTable> table;
  if (!o.baseline.empty()) {
    const std::string bname = o.baseline_name.empty() ? folder_name(o.baseline) : o.baseline_name;
    LONGCTX_ASSIGN_OR_RETURN(eval::LossEvalResult b, loss_of(o.baseline, bname, c));
    table = eval::loss_difference(r, b, o.threshold);
    curves.push_back(b);
    names.push_back(bname);
  }
  for (const auto& f : o.also) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(f));
    auto a = eval::loss_result_from_json(j);
    if (!a.is_ok()) return a.status().with_context(f);
    curves.push_back(*a);
    names.push_back(a->model);
  }

  const bool tty = isatty(STDOUT_FILENO) != 0;
  if (table) fmt::print("{}", o.markdown ? eval::diff_table_markdown(*table) : eval::diff_table_text(*table, tty));
  else fmt::print("{}", o.markdown ? eval::loss_table_markdown(r) : eval::loss_table_text(r));
  fmt::print("{} sequences, {} positions scored from {}\n", r.sequences, r.positions, o.data);
  if (!run) return Status::ok();

  const std::string& dir = run->dir();
  if (table) LONGCTX_RETURN_IF_ERROR(write_json_atomic(dir + "/baseline.json", eval::loss_result_json(curves[1])));
  LONGCTX_RETURN_IF_ERROR(write_file_atomic(dir + "/loss.md", eval::loss_table_markdown(r)));
  for (const char* ext : {".png", ".svg"}) {
    LONGCTX_RETURN_IF_ERROR(eval::render_loss_curves(curves, names, dir + "/position-loss" + ext));
  }
  if (table) {
    LONGCTX_RETURN_IF_ERROR(write_json_atomic(dir + "/difference.json", eval::diff_table_json(*table)));
    LONGCTX_RETURN_IF_ERROR(write_file_atomic(dir + "/difference.md", eval::diff_table_markdown(*table)));
    for (const char* ext : {".png", ".svg"}) {
      LONGCTX_RETURN_IF_ERROR(eval::render_loss_difference(*table, dir + "/difference" + ext));
    }
  }
  LONGCTX_RETURN_IF_ERROR(run->publish(eval::loss_result_json(r)));  // loss.json, last
  fmt::print("written: {0}/loss.json, {0}/loss.md, {0}/position-loss.png|svg{1}\n", dir,
             table ? fmt::format(", {0}/difference.json|md|png|svg", dir) : "");
  return Status::ok();
}

}  // namespace

Status run_loss(const LossOptions& o) {
  // --out is a loss evaluation folder: missing, empty, or one of ours (replaced only with
  // --overwrite); a link, device, another kind or a directory of other files is refused.
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kLossRun, "--out"}}, o.overwrite));
  cpu::set_num_threads(o.threads);
  LONGCTX_ASSIGN_OR_RETURN(eval::LossEvalConfig c, loss_config(o));
  if (o.out.empty()) return loss_measure_and_write(o, c, nullptr);
  // One pass, not resumable: an interrupted run is started over (RunDir with resumable = false).
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json fp, loss_fingerprint(o, c));
  LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({o.out, &kinds::kLossRun, fp, o.overwrite, /*resumable=*/false}));
  print_notes(run.notes());
  if (run.start() == RunDir::Start::kAlreadyDone) {
    fmt::print(stderr, "longctx: note: '{}' already holds these results; nothing to do\n", o.out);
    return Status::ok();
  }
  Status st = loss_measure_and_write(o, c, &run);
  return st.is_ok() ? st : run.fail(st);
}

// ---- registration ----------------------------------------------------------------------------

void register_eval_commands(CLI::App& app) {
  {
    auto o = std::make_shared<NeedleOptions>();
    CLI::App* c = app.add_subcommand("needle", "Needle-in-a-haystack sweep (the paper's protocol) and retrieval tasks");
    c->add_option("--model", o->model, "Model folder (native engine)");
    c->add_option("--endpoint", o->endpoint, "OpenAI-compatible server, e.g. http://127.0.0.1:8000 (uses /v1/completions)");
    c->add_option("--model-name", o->model_name, "The model's name on --endpoint");
    c->add_option("--api-key-env", o->api_key_env, "Environment variable holding the API key (sent as a Bearer token)");
    c->add_option("--tokenizer", o->tokenizer,
                  "tokenizer.model, tokenizer.json or a folder (default: the model folder's); with --endpoint it makes "
                  "lengths exact and prompts go as token ids");
    c->add_option("--haystack", o->haystack, "Text file or folder of .txt/.md files (default: the Debian Reference book)");
    c->add_option("--out", o->out, "Output folder: results.jsonl, results.csv, heatmap.png/svg, needle.json");
    c->add_option("--name", o->name, "Label in titles (default: the model folder's or --model-name)");
    c->add_option("--task", o->task, "needle, passkey, multikey or multivalue")->capture_default_str();
    c->add_option("--lengths", o->lengths, "START:END:COUNT (linspace, K = 1000) or a list, in model tokens")->capture_default_str();
    c->add_option("--depths", o->depths, "A count (0..100 evenly) or percents: 0,50,100 or 50%")->capture_default_str();
    c->add_option("--needle", o->needle, "Needle text (default: the paper's; other tasks: with {value} and {key})");
    c->add_option("--question", o->question, "Question (default: the paper's / the task's)");
    c->add_option("--answer", o->answer, "Expected answer for the word-recall score (needle task)");
    c->add_option("--prompt-template", o->prompt_template, "Prompt with {context} and {question} (default: the paper's)");
    add_number(c, "--max-new-tokens", o->max_new_tokens, "Tokens generated per cell (greedy)");
    add_number(c, "--buffer", o->buffer, "Tokens kept free for the template and answer (the paper's 200)");
    add_number(c, "--needles", o->needles, "Needles per prompt for multikey/multivalue");
    add_number(c, "--seed", o->seed, "Seed of the keys and values of passkey/multikey/multivalue");
    c->add_option("--train-length", o->train_length, "Continual-pretraining length: white dashed line on the heatmap (e.g. 80K)");
    add_number(c, "--concurrency", o->concurrency, "Cells in flight at once (--endpoint)");
    add_number(c, "--timeout", o->timeout, "Seconds per HTTP attempt (--endpoint)");
    add_number(c, "--retries", o->retries, "Retries after a connection error, timeout, 429 or 5xx (--endpoint)");
    add_number(c, "--backoff", o->backoff, "Seconds before the first retry; doubled each time (--endpoint)");
    add_number(c, "--context-length", o->context_length, "The remote model's context (0 = unknown: the server decides)");
    add_number(c, "--threads", o->threads, "Threads (0 = all cores)");
    add_number(c, "--prefill-chunk", o->prefill_chunk, "Prompt tokens per forward pass (native)");
    c->add_flag("--allow-beyond-context", o->allow_beyond_context,
                "Measure lengths past the model's context too (native; to show how a model fails beyond its training length)");
    c->add_flag("--overwrite", o->overwrite, "Replace a finished sweep, or another sweep's partial results, in --out");
    set_examples(c,
                 {"longctx needle --model ckpt --lengths 1K:16K:8 --depths 5 --train-length 8K --out runs/needle",
                  "longctx needle --model ckpt --task passkey --lengths 1K:16K:8 --depths 5 --out runs/passkey",
                  "longctx needle --endpoint http://127.0.0.1:8000 --model-name llama --tokenizer tok.json --concurrency 4 --out runs/remote",
                  "longctx needle compare runs/base runs/long --out compare.png"});
    set_run(c, o, run_needle);

    auto oc = std::make_shared<NeedleCompareOptions>();
    CLI::App* cc = c->add_subcommand("compare", "Several needle sweeps' heatmaps on one figure, one colour scale");
    cc->add_option("runs", oc->runs, "Folders written by longctx needle")->required();
    cc->add_option("--names", oc->names, "Panel names, one per run, comma-separated (default: folder names)")->delimiter(',');
    cc->add_option("--out", oc->out, "Figure (.png or .svg)");
    cc->add_option("--train-length", oc->train_length, "White dashed line at this length (e.g. 80K)");
    cc->add_flag("--overwrite", oc->overwrite, "Replace an existing figure");
    set_examples(cc, {"longctx needle compare runs/base runs/long --names base,long --train-length 8K --out compare.png"});
    set_run(cc, oc, run_needle_compare);
  }
  {
    auto o = std::make_shared<LossOptions>();
    CLI::App* c = app.add_subcommand("loss", "Per-domain loss split at a position, difference from a baseline, loss against position");
    c->add_option("--model", o->model, "Model folder");
    c->add_option("--data", o->data, "Packed mixture folder or document store (validation data)");
    c->add_option("--baseline", o->baseline, "Another model folder: the difference table (paper Table 5)");
    c->add_option("--name", o->name, "Label of --model (default: its folder name)");
    c->add_option("--baseline-name", o->baseline_name, "Label of --baseline");
    c->add_option("--split", o->split, "Position splitting the two columns")->capture_default_str();
    c->add_option("--seq-len", o->seq_len, "Tokens per scored sequence (0: the chunk length, or the model's context for a store)")
        ->capture_default_str();
    c->add_option("--max-tokens", o->max_tokens, "Scored positions per domain (bounds the work)")->capture_default_str();
    c->add_option("--buckets", o->buckets, "Upper edges of the position buckets, e.g. 64,128,256 (default 1K,2K,4K,...)");
    c->add_option("--also", o->also, "loss.json of another run, added to the position curve (repeatable)");
    add_number(c, "--threshold", o->threshold, "|difference| above which a cell is worse or better");
    add_number(c, "--seed", o->seed, "Order in which chunks or documents are sampled");
    add_number(c, "--threads", o->threads, "Threads (0 = all cores)");
    c->add_option("--out", o->out, "Folder for loss.json/md, difference.json/md/png/svg, position-loss.png/svg");
    c->add_flag("--markdown", o->markdown, "Print the table as Markdown");
    c->add_flag("--overwrite", o->overwrite, "Replace results in --out");
    set_examples(c, {"longctx loss --model runs/long --baseline runs/base --data data/mix-valid --split 4K --max-tokens 256K --out runs/loss"});
    set_run(c, o, run_loss);
  }
}

}  // namespace longctx::cli
