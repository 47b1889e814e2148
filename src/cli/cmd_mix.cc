// longctx mix | mix report | mix compare | mix synth-store | mix merge | export | inspect | verify
#include "cli/cmd_mix.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/units.h"
#include "core/validate.h"
#include "mix/compare.h"
#include "store/exporters.h"
#include "store/packed_shards.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

Status parse_shares(const std::string& s, std::map<std::string, double>* out) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(pos, comma - pos);
    size_t eq = item.find('=');
    if (eq == std::string::npos) return make_error(ErrorCode::kInvalidArgument, "--domain-shares: '{}' is not NAME=SHARE", item);
    auto v = parse_real("", item.substr(eq + 1));
    if (!v.is_ok()) return make_error(ErrorCode::kInvalidArgument, "--domain-shares: '{}' is not a number", item.substr(eq + 1));
    (*out)[item.substr(0, eq)] = *v;
    pos = comma + 1;
  }
  return Status::ok();
}

// BOS and EOS ids: the flags', else the store's tokenizer's (manifest "tokenizer").
Status set_special_ids(const MixOptions& o, const DocumentStore& store, MixConfig* c) {
  const auto tok = store.manifest().value("tokenizer", nlohmann::json::object());
  int64_t bos = o.bos_id >= 0 ? o.bos_id : tok.value("bos_id", int64_t{1});
  int64_t eos = o.eos_id >= 0 ? o.eos_id : tok.value("eos_id", int64_t{2});
  if (c->bos && bos < 0) return make_error(ErrorCode::kInvalidArgument, "the store's tokenizer has no BOS token: pass --bos-id or --no-bos");
  if (c->eos && eos < 0) return make_error(ErrorCode::kInvalidArgument, "the store's tokenizer has no EOS token: pass --eos-id");
  c->bos_id = static_cast<uint32_t>(std::max<int64_t>(bos, 0));
  c->eos_id = static_cast<uint32_t>(std::max<int64_t>(eos, 0));
  return Status::ok();
}

// The outputs of a mixture report: JSON, Markdown, and two files per --figure (draw_mix_figure).
std::vector<OutputSpec> report_outputs(const std::string& json, std::string_view json_flag, const std::string& md,
                                       std::string_view md_flag, const std::vector<std::string>& figs) {
  std::vector<OutputSpec> out = {{json, &kinds::kReportJson, json_flag}, {md, &kinds::kMarkdown, md_flag}};
  for (const auto& f : figs) {
    out.push_back({f, &kinds::kFigure, "--figure"});
    out.push_back({mix_domains_figure_path(f), &kinds::kFigure, "--figure"});
  }
  return out;
}

Status write_report_files(const MixReport& r, const std::string& json, const std::string& md, const std::vector<std::string>& figs) {
  if (!json.empty()) LONGCTX_RETURN_IF_ERROR(write_json_atomic(json, report_json(r)));
  if (!md.empty()) LONGCTX_RETURN_IF_ERROR(write_file_atomic(md, report_markdown(r)));
  for (const auto& f : figs) {
    LONGCTX_RETURN_IF_ERROR(draw_mix_figure({r}, {"mixture (after)"}, true, f));
    fmt::print(stderr, "wrote {}\n", f);
  }
  return Status::ok();
}

// llm.c shards already written under `prefix` ("PREFIX_000000.bin", ...).
std::vector<std::string> existing_llmc_shards(const std::string& prefix) {
  std::vector<std::string> out;
  const std::string dir = parent_directory(prefix), base = prefix.substr(prefix.find_last_of('/') + 1) + "_";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() == base.size() + 10 && name.compare(0, base.size(), base) == 0 && name.compare(name.size() - 4, 4, ".bin") == 0 &&
        name.find_first_not_of("0123456789", base.size()) == name.size() - 4)
      out.push_back(dir + "/" + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The export's output files, checked before any work. llm.c: every existing PREFIX_NNNNNN.bin
// (an export with fewer shards must not leave stale ones behind, so with --overwrite they are
// removed once checked: they are all llm.c shards).
Status prepare_export_outputs(const std::string& format, const std::string& out, bool overwrite) {
  if (format == "megatron")
    return check_outputs({{out + ".bin", &kinds::kMegatronExport, "--out"}, {out + ".idx", &kinds::kMegatronExport, "--out"}}, overwrite);
  if (format == "jsonl") return check_outputs({{out, &kinds::kJsonlRows, "--out"}}, overwrite);
  const std::vector<std::string> old = existing_llmc_shards(out);
  LONGCTX_RETURN_IF_ERROR(check_outputs({{fmt::format("{}_{:06d}.bin", out, 0), &kinds::kLlmcShard, "--out"}}, overwrite));
  for (const auto& f : old) LONGCTX_RETURN_IF_ERROR(check_outputs({{f, &kinds::kLlmcShard, "--out"}}, overwrite));
  for (const auto& f : old) LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(f));
  return Status::ok();
}

// Exports a packed mixture directory and verifies what was written ("-": JSON lines to standard
// output, not read back).
Status export_and_verify(const std::string& dir, const std::string& format, const std::string& out) {
  LONGCTX_ASSIGN_OR_RETURN(PackedDataset d, open_packed_dir(dir));
  Result<ExportSummary> r = make_error(ErrorCode::kInvalidArgument, "unknown export format '{}': expected megatron, llmc or jsonl", format);
  if (format == "megatron") r = export_megatron(d, out);
  else if (format == "llmc") r = export_llmc(d, out);
  else if (format == "jsonl") r = export_jsonl(d, out);
  LONGCTX_RETURN_IF_ERROR(r.status());
  if (out == "-") {
    fmt::print(stderr, "{}: {} sequences, {} tokens -> standard output\n", format, r->sequences, r->tokens);
    return Status::ok();
  }
  for (const auto& f : r->files)
    LONGCTX_RETURN_IF_ERROR(verify_export(f.size() > 4 && f.substr(f.size() - 4) == ".bin" && format == "megatron" ? out + ".idx" : f,
                                          d.manifest.vocab_size));
  fmt::print("{}: {} sequences, {} tokens -> {}\n", format, r->sequences, r->tokens, fmt::join(r->files, ", "));
  return Status::ok();
}

// `mix --plan-only`: the plan as a table, and as --out/plan.json when --out is given.
Status plan_only(const MixOptions& o, const DocumentStore& store, const MixConfig& cfg) {
  LONGCTX_ASSIGN_OR_RETURN(MixPlan plan, plan_mixture(store, cfg));
  fmt::print("{}", plan_table(plan));
  if (o.out.empty()) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(make_dirs(o.out));
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(o.out + "/plan.json", plan_json(plan)));  // checked by check_mix_outputs
  fmt::print(stderr, "wrote {}/plan.json\n", o.out);
  return Status::ok();
}

}  // namespace

Result<MixConfig> MixOptions::to_config() const {
  MixConfig c;
  LONGCTX_ASSIGN_OR_RETURN(c.total_tokens, parse_token_count(tokens));
  LONGCTX_ASSIGN_OR_RETURN(c.seq_len, parse_seq_len(seq_len));
  LONGCTX_ASSIGN_OR_RETURN(uint64_t max_doc_tokens, parse_seq_len(max_doc));
  // Every strategy's flags under the configuration's keys: each strategy reads its own, and every
  // flag is range-checked whichever strategy is chosen.
  const nlohmann::json options = {{"cut_at", at},         {"max_doc", max_doc_tokens}, {"long_share", long_share},
                                  {"keep_short", keep_short}, {"domains", domains},    {"weight", weight},
                                  {"chars_per_token", chars_per_token}};
  LONGCTX_RETURN_IF_ERROR(check_every_strategy_option(options));
  LONGCTX_ASSIGN_OR_RETURN(c.strategy, make_strategy(strategy, options));
  c.seed = seed;
  c.long_threshold = long_threshold;
  c.max_epochs = max_epochs;
  if (!max_memory.empty()) {
    LONGCTX_ASSIGN_OR_RETURN(c.max_memory, parse_byte_size(max_memory));
  }
  if (!domain_shares.empty()) LONGCTX_RETURN_IF_ERROR(parse_shares(domain_shares, &c.domain_shares));
  c.no_repeat = no_repeat;
  c.bos = !no_bos;
  c.eos = eos;
  LONGCTX_RETURN_IF_ERROR(check_range("--bos-id", bos_id, int64_t{-1}, int64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range("--eos-id", eos_id, int64_t{-1}, int64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range("--pad-id", pad_id, int64_t{0}, int64_t{UINT32_MAX}));
  c.pad_id = static_cast<uint32_t>(pad_id);
  c.split = !no_split;
  c.last = last == "pad" ? LastChunk::kPad : LastChunk::kDrop;
  LONGCTX_RETURN_IF_ERROR(c.validate());
  return c;
}

Result<MixRunConfig> MixOptions::to_run_config(const MixConfig& mix) const {
  MixRunConfig rc;
  rc.mix = mix;
  rc.out_dir = out;
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", threads, 0, kMaxThreads));
  rc.threads = threads;
  rc.overwrite = overwrite;
  LONGCTX_RETURN_IF_ERROR(parse_task(task, &rc.task, &rc.num_tasks));
  LONGCTX_ASSIGN_OR_RETURN(rc.shard_tokens, parse_token_count(shard_tokens));
  LONGCTX_RETURN_IF_ERROR(check_range("--shard-tokens", rc.shard_tokens, uint64_t{1}, kMaxMixTokens));
  return rc;
}

Status MixOptions::validate() const {
  if (store.empty() || tokens.empty()) return make_error(ErrorCode::kInvalidArgument, "mix needs STORE and --tokens");
  LONGCTX_ASSIGN_OR_RETURN(MixConfig c, to_config());
  LONGCTX_RETURN_IF_ERROR(to_run_config(c).status());
  if (!plan_only && out.empty()) return make_error(ErrorCode::kInvalidArgument, "--out is required (unless --plan-only)");
  return Status::ok();
}

// Every output of `mix` before any work: the mixture directory (or, with --plan-only, its plan.json
// in a directory that is a mixture or unrelated) and the report files. The exports inside the
// mixture directory belong to it (--overwrite removes them with the mixture).
Status check_mix_outputs(const MixOptions& o) {
  if (o.plan_only) {
    if (o.out.empty()) return Status::ok();
    LONGCTX_RETURN_IF_ERROR(check_output(o.out, kinds::kMixture, /*overwrite=*/true));
    return check_outputs({{o.out + "/plan.json", &kinds::kPlanJson, "--out"}}, o.overwrite);
  }
  std::vector<OutputSpec> outs = report_outputs(o.report_json, "--report-json", o.report_md, "--report-markdown", o.figures);
  outs.insert(outs.begin(), {o.out, &kinds::kMixture, "--out"});
  return check_outputs(outs, o.overwrite);
}

Status run_mix(const MixOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(MixConfig cfg, o.to_config());
  LONGCTX_RETURN_IF_ERROR(check_mix_outputs(o));
  LONGCTX_ASSIGN_OR_RETURN(DocumentStore store, DocumentStore::open(o.store));
  LONGCTX_RETURN_IF_ERROR(set_special_ids(o, store, &cfg));
  if (o.plan_only) return plan_only(o, store, cfg);
  LONGCTX_ASSIGN_OR_RETURN(MixRunConfig rc, o.to_run_config(cfg));
  ProgressBar bar("mix", global_quiet());
  auto sum = longctx::run_mix(store, rc, with_test_kill_hooks(bar.fn()));
  bar.finish();
  LONGCTX_RETURN_IF_ERROR(sum.status());
  print_notes(sum->notes);
  fmt::print("{} chunks x {} = {} tokens in {} shards ({} reused) -> {} ({:.1f}s, {:.1f}M tokens/s)\n", sum->chunks, cfg.seq_len,
             sum->tokens, sum->shards_written + sum->shards_reused, sum->shards_reused, o.out, sum->seconds,
             sum->tokens / std::max(sum->seconds, 1e-9) / 1e6);
  LONGCTX_ASSIGN_OR_RETURN(MixReport rep, read_mix_report(o.out));
  fmt::print("{}", report_table(rep));
  LONGCTX_RETURN_IF_ERROR(write_report_files(rep, o.report_json, o.report_md, o.figures));
  if (rc.num_tasks != 1) return Status::ok();
  for (const auto& e : o.exports) {
    std::string out = e == "jsonl" ? o.out + "/rows.jsonl" : o.out + "/" + e;
    if (e == "llmc") out = o.out + "/llmc";
    if (e == "megatron") out = o.out + "/megatron";
    LONGCTX_RETURN_IF_ERROR(export_and_verify(o.out, e, out));
  }
  return Status::ok();
}

Status run_mix_report(const MixReportOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs(report_outputs(o.json, "--json", o.markdown, "--markdown", o.figures), o.overwrite));
  LONGCTX_ASSIGN_OR_RETURN(MixReport rep, read_mix_report(o.dir));
  if (o.json != "-" && o.markdown != "-") fmt::print("{}", report_table(rep));  // stdout is the data's when "-"
  return write_report_files(rep, o.json, o.markdown, o.figures);
}

Status run_mix_compare(const MixCompareOptions& o) {
  std::vector<OutputSpec> outs = report_outputs("", "", o.markdown, "--markdown", o.figures);
  LONGCTX_RETURN_IF_ERROR(check_outputs(outs, o.overwrite));
  std::vector<MixReport> reps;
  std::vector<std::string> names;
  for (const auto& d : o.dirs) {
    LONGCTX_ASSIGN_OR_RETURN(MixReport rep, read_mix_report(d));
    reps.push_back(std::move(rep));
    names.push_back(std::filesystem::path(d).filename().string());
  }
  const std::string table = compare_table(reps, names);
  if (o.markdown != "-") fmt::print("{}", table);
  if (!o.markdown.empty()) LONGCTX_RETURN_IF_ERROR(write_file_atomic(o.markdown, table));
  for (const auto& f : o.figures) {
    LONGCTX_RETURN_IF_ERROR(draw_mix_figure(reps, names, true, f));
    fmt::print(stderr, "wrote {}\n", f);
  }
  return Status::ok();
}

Result<SynthStoreConfig> MixSynthStoreOptions::to_config() const {
  SynthStoreConfig c = config;
  LONGCTX_ASSIGN_OR_RETURN(c.tokens, parse_token_count(tokens));
  LONGCTX_RETURN_IF_ERROR(check_range("--tokens", c.tokens, uint64_t{1}, kMaxMixTokens));
  return c;
}

Status run_mix_synth_store(const MixSynthStoreOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(SynthStoreConfig c, o.to_config());
  LONGCTX_RETURN_IF_ERROR(check_outputs({{c.out_dir, &kinds::kDocumentStore, "--out"}}, c.overwrite));
  LONGCTX_RETURN_IF_ERROR(build_synth_store(c));
  fmt::print("wrote synthetic store {} ({} tokens)\n", c.out_dir, c.tokens);
  return Status::ok();
}

Status run_mix_merge(const MixMergeOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.out, &kinds::kMixture, "--out"}}, o.overwrite));
  LONGCTX_RETURN_IF_ERROR(merge_mix_tasks(o.inputs, o.out, o.overwrite));
  LONGCTX_RETURN_IF_ERROR(verify_packed_dir(o.out));
  fmt::print("merged {} tasks -> {} (verified)\n", o.inputs.size(), o.out);
  return Status::ok();
}

Status run_export(const ExportOptions& o) {
  LONGCTX_RETURN_IF_ERROR(prepare_export_outputs(o.format, o.out, o.overwrite));
  return export_and_verify(o.dir, o.format, o.out);
}

namespace {

// The tokenizer `inspect` decodes with: --tokenizer, else the store's when it is still where the
// store's manifest says; null when neither.
Result<std::unique_ptr<Tokenizer>> inspect_tokenizer(const InspectOptions& o, const PackedDataset& d) {
  std::string path = o.tokenizer;
  if (path.empty()) {
    auto sm = read_json_file((d.manifest.store ? d.manifest.store->dir : std::string()) + "/manifest.json");
    if (sm.is_ok()) {
      std::string p = sm->value("tokenizer", nlohmann::json::object()).value("path", std::string());
      if (!p.empty() && file_exists(p)) path = p;
    }
  }
  if (path.empty()) return std::unique_ptr<Tokenizer>();
  return load_tokenizer(path);
}

// One chunk: its spans, each with its domain, source document and first tokens (text or ids).
void print_chunk(const PackedDataset& d, const PackedShard& s, uint64_t c, uint64_t g, const std::string& file, const Tokenizer* tk,
                 std::vector<uint32_t>* toks) {
  s.chunk_tokens(c, toks);
  fmt::print("\nchunk {} ({}):\n", g, file);
  for (const auto& sp : s.chunk_spans(c)) {
    std::string dom = sp.domain == kPadDomain ? "<pad>" : sp.domain < d.domains.size() ? d.domains[sp.domain] : "?";
    fmt::print("  [{:>7}, {:>7}) {:<24} doc {} from token {}{}{}{}\n", sp.start, sp.end, dom, hex64(sp.doc_id), sp.doc_offset,
               sp.flags & kSpanStart ? " start" : "", sp.flags & kSpanEnd ? " end" : "",
               (sp.flags >> 8) ? fmt::format(" repeat {}", sp.flags >> 8) : "");
    std::span<const uint32_t> ids(toks->data() + sp.start, std::min<uint64_t>(sp.end - sp.start, 24));
    if (tk) {
      auto text = tk->decode(ids, /*skip_special=*/false);  // BOS/EOS show where documents meet
      fmt::print("      {:?}{}\n", text.is_ok() ? *text : std::string("?"), sp.end - sp.start > 24 ? " ..." : "");
    } else {
      fmt::print("      ids {}{}\n", fmt::join(ids, " "), sp.end - sp.start > 24 ? " ..." : "");
    }
  }
}

}  // namespace

Status run_inspect(const InspectOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(PackedDataset d, open_packed_dir(o.dir));
  LONGCTX_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tk, inspect_tokenizer(o, d));
  fmt::print("{}: {} chunks x {} tokens (uint{}), {} shards, strategy {}\n", o.dir, d.num_chunks, d.seq_len, 8 * d.token_bytes,
             d.shard_files.size(), d.manifest.mix.is_object() ? d.manifest.mix.value("strategy", "?") : "?");
  std::vector<uint32_t> toks;
  for (const auto& f : d.shard_files) {
    LONGCTX_ASSIGN_OR_RETURN(PackedShard s, PackedShard::open(f));
    const uint64_t base = s.header().first_chunk;
    for (uint64_t c = 0; c < s.num_chunks(); ++c) {
      const uint64_t g = base + c;
      if (g >= o.chunk && g - o.chunk < o.count) print_chunk(d, s, c, g, f, tk.get(), &toks);
    }
  }
  return Status::ok();
}

Status run_verify(const VerifyOptions& o) {
  LONGCTX_RETURN_IF_ERROR(std::filesystem::is_directory(o.path)
                              ? verify_packed_dir(o.path)
                              : verify_export(o.path, o.vocab_size ? o.vocab_size : vocab_size_beside(o.path)));
  fmt::print("{}: ok\n", o.path);
  return Status::ok();
}

namespace {

CLI::App* add_mix_command(CLI::App& app) {
  auto o = std::make_shared<MixOptions>();
  auto* c = app.add_subcommand("mix", "Build a long-context training mixture from a store: plan, sample, shuffle, pack, write shards");
  c->require_subcommand(0, 1);
  c->add_option("store", o->store, "Document store directory");
  c->add_option("--strategy", o->strategy, mix_strategy_names())->capture_default_str();
  c->add_option("--tokens", o->tokens, "Token budget (K/M/B = 10^3/10^6/10^9), rounded down to whole sequences");
  c->add_option("--seq-len", o->seq_len, "Sequence length (K = 1,024: 80K = 81,920)")->capture_default_str();
  add_number(c, "--seed", o->seed, "Seed of every sampling and shuffling decision");
  c->add_option("--out", o->out, "Output directory (packed shards + manifest.json)");
  add_number(c, "--at", o->at, "cut: piece length in tokens");
  c->add_option("--max-doc", o->max_doc, "natural: longest document kept whole (K = 1,024)")->capture_default_str();
  add_number(c, "--long-threshold", o->long_threshold, "A document is long when it has more tokens than this");
  add_number(c, "--long-share", o->long_share, "per-source-upsample: share of each domain's tokens from long documents");
  add_number(c, "--keep-short", o->keep_short, "global-upsample / paper-script: keep probability of short documents");
  c->add_option("--domains", o->domains, "upsample-domains: the domains to upsample")->delimiter(',')->capture_default_str();
  add_number(c, "--weight", o->weight, "upsample-domains: their joint token share");
  c->add_option("--domain-shares", o->domain_shares, "Target domain shares NAME=SHARE,... each in [0, 1], summing to 1 (default: the store's own)");
  add_number(c, "--chars-per-token", o->chars_per_token, "paper-script: length estimate chars/N as in the authors' script (0: exact lengths)");
  c->add_flag("--no-repeat", o->no_repeat, "Fail (naming the domain and the shortfall) instead of repeating documents");
  add_number(c, "--max-epochs", o->max_epochs, "Refuse a budget that needs more uses of one document than this");
  c->add_option("--max-memory", o->max_memory, "Refuse a mixture whose pieces need more memory (e.g. 8GB; default: the memory available)");
  c->add_flag("--plan-only", o->plan_only, "Print the plan (and write --out/plan.json) without touching token data");
  c->add_flag("--eos", o->eos, "Append EOS to every document piece");
  c->add_flag("--no-bos", o->no_bos, "Do not prepend BOS");
  add_number(c, "--bos-id", o->bos_id, "BOS id (-1: the store's tokenizer's)");
  add_number(c, "--eos-id", o->eos_id, "EOS id (-1: the store's tokenizer's)");
  add_number(c, "--pad-id", o->pad_id, "Padding id");
  c->add_flag("--no-split", o->no_split, "Start a new sequence when a document does not fit (padding the rest)");
  c->add_option("--last", o->last, "The final partial sequence: drop or pad")->check(CLI::IsMember({"drop", "pad"}))->capture_default_str();
  add_number(c, "--threads", o->threads, "Writer threads (0 = all cores)");
  c->add_option("--task", o->task, "Write share i of N of the shards (join with `mix merge`)")->capture_default_str();
  c->add_option("--shard-tokens", o->shard_tokens, "Tokens per shard file")->capture_default_str();
  c->add_option("--export", o->exports, "Also export: megatron, llmc, jsonl (repeatable)")->delimiter(',');
  c->add_option("--report-json", o->report_json, "Write the mixture report as JSON");
  c->add_option("--report-markdown", o->report_md, "Write the mixture report as Markdown");
  c->add_option("--figure", o->figures, "Draw the report (.png/.svg; also <stem>-domains.<ext>)");
  c->add_flag("--overwrite", o->overwrite, "Replace a finished mixture in --out and existing report files (never another kind of output)");
  set_examples(c,
               {"longctx mix data/store --strategy per-source-upsample --tokens 5B --seq-len 80K --out data/mix",
                "longctx mix data/store --strategy cut --at 4096 --tokens 1B --seq-len 4K --out data/cut4k",
                "longctx mix data/store --strategy global-upsample --keep-short 0.1 --tokens 1B --plan-only",
                "longctx mix data/store ... --task 3/8 --out part3   # then: longctx mix merge part0 ... part7 --out mix"},
               "A killed run resumes (same bytes) when the same command is run again.");
  set_run(c, o, run_mix);
  return c;
}

void add_mix_subcommands(CLI::App* c) {
  {
    auto r = std::make_shared<MixReportOptions>();
    auto* s = c->add_subcommand("report", "Show the report of a finished mixture (table; JSON, Markdown, figures)");
    s->add_option("dir", r->dir, "Mixture directory")->required();
    s->add_option("--json", r->json, "Write JSON ('-': standard output)");
    s->add_option("--markdown", r->markdown, "Write Markdown ('-': standard output)");
    s->add_option("--figure", r->figures, "Draw (.png/.svg; also <stem>-domains.<ext>)");
    s->add_flag("--overwrite", r->overwrite, "Replace existing report files of the same kind");
    set_examples(s, {"longctx mix report data/mix --markdown mix.md --figure mix.png"});
    set_run(s, r, run_mix_report);
  }
  {
    auto r = std::make_shared<MixCompareOptions>();
    auto* s = c->add_subcommand("compare", "Mixtures side by side: domain shares and long-document shares (paper Figure 2)");
    s->add_option("dirs", r->dirs, "Mixture directories")->required();
    s->add_option("--figure", r->figures, "Draw (.png/.svg; also <stem>-domains.<ext>)");
    s->add_option("--markdown", r->markdown, "Write the comparison table as Markdown ('-': standard output)");
    s->add_flag("--overwrite", r->overwrite, "Replace existing figures or Markdown written by longctx");
    set_examples(s, {"longctx mix compare data/mix data/cut4k --figure compare.svg"});
    set_run(s, r, run_mix_compare);
  }
  {
    auto r = std::make_shared<MixSynthStoreOptions>();
    auto* s = c->add_subcommand("synth-store", "Write a SlimPajama-shaped synthetic document store directly (random ids; for scale tests)");
    s->add_option("--tokens", r->tokens, "Total tokens (K/M/B = 10^3/10^6/10^9)")->capture_default_str();
    s->add_option("--out", r->config.out_dir, "Store directory")->required();
    add_number(s, "--seed", r->config.seed, "Seed");
    s->add_flag("--overwrite", r->config.overwrite, "Replace a document store in --out (never anything else)");
    set_examples(s, {"longctx mix synth-store --tokens 1B --out data/synth-store"});
    set_run(s, r, run_mix_synth_store);
  }
  {
    auto r = std::make_shared<MixMergeOptions>();
    auto* s = c->add_subcommand("merge", "Join the outputs of `mix --task i/N` (N directories) into one mixture");
    s->add_option("inputs", r->inputs, "Task output directories")->required();
    s->add_option("--out", r->out, "Output directory")->required();
    s->add_flag("--overwrite", r->overwrite, "Replace a finished mixture in --out (never anything else)");
    set_examples(s, {"longctx mix merge part0 part1 part2 part3 --out data/mix"});
    set_run(s, r, run_mix_merge);
  }
}

// export, inspect and verify: commands on a finished mixture.
void add_mixture_commands(CLI::App& app) {
  {
    auto r = std::make_shared<ExportOptions>();
    auto* s = app.add_subcommand("export", "Export a packed mixture for other trainers: megatron (.bin/.idx), llmc shards, jsonl rows");
    s->add_option("dir", r->dir, "Mixture directory")->required();
    s->add_option("--format", r->format, "megatron, llmc or jsonl")->required()->check(CLI::IsMember({"megatron", "llmc", "jsonl"}));
    s->add_option("--out", r->out, "Output prefix (megatron: PREFIX.bin/.idx; llmc: PREFIX_000000.bin; jsonl: the file, '-' for standard output)")->required();
    s->add_flag("--overwrite", r->overwrite, "Replace an earlier export of the same format (never a store's or a mixture's files)");
    set_examples(s, {"longctx export data/mix --format megatron --out data/mega",
                     "longctx export data/mix --format jsonl --out - | head -c 300"});
    set_run(s, r, run_export);
  }
  {
    auto r = std::make_shared<InspectOptions>();
    auto* s = app.add_subcommand("inspect", "Show a packed mixture: manifest summary, chunks with their document spans");
    s->add_option("dir", r->dir, "Mixture directory")->required();
    add_number(s, "--chunk", r->chunk, "First chunk to show");
    add_number(s, "--count", r->count, "Chunks to show");
    s->add_option("--tokenizer", r->tokenizer, "Decode the spans' text with this tokenizer (default: the store's, if found)");
    set_examples(s, {"longctx inspect data/mix --chunk 0 --count 2"});
    set_run(s, r, run_inspect);
  }
  {
    auto r = std::make_shared<VerifyOptions>();
    auto* s = app.add_subcommand("verify", "Check checksums, invariants and token ids of a packed mixture, a Megatron .idx, an llm.c shard or JSONL rows");
    s->add_option("path", r->path, "Mixture directory, PREFIX.idx, llm.c .bin or .jsonl")->required();
    add_number(s, "--vocab-size", r->vocab_size, "An export's token ids must be below this (0: the vocabulary of the mixture it sits in)");
    set_examples(s, {"longctx verify data/mix", "longctx verify data/mega.idx"});
    set_run(s, r, run_verify);
  }
}

}  // namespace

void register_mix_commands(CLI::App& app) {
  add_mix_subcommands(add_mix_command(app));
  add_mixture_commands(app);
}

}  // namespace longctx::cli
