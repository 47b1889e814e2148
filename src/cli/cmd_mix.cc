// longctx mix | mix report | mix compare | mix merge | export | inspect | verify (issue 3)
#include <filesystem>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/units.h"
#include "mix/mixture.h"
#include "mix/synth_store.h"
#include "store/exporters.h"
#include "store/packed_shards.h"
#include "tokenizer/tokenizer.h"

namespace longctx::cli {
namespace {

struct MixOpts {
  std::string store, out, strategy = "per-source-upsample", tokens, seq_len = "80K", max_doc = "128K", task = "0/1";
  std::string last = "drop", domain_shares, shard_tokens = "64M";
  std::vector<std::string> exports, figures;
  std::string report_json, report_md;
  uint64_t seed = 1, at = 4096, long_threshold = 4096;
  double long_share = 0.7, keep_short = 0.1, weight = 0.6, chars_per_token = 3.68;
  std::vector<std::string> domains = {"RedPajamaBook", "RedPajamaArXiv", "RedPajamaGithub"};
  bool no_repeat = false, plan_only = false, eos = false, no_bos = false, no_split = false, overwrite = false;
  int64_t bos_id = -1, eos_id = -1, pad_id = 0;
  int threads = 0;
};

Status parse_shares(const std::string& s, std::map<std::string, double>* out) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(pos, comma - pos);
    size_t eq = item.find('=');
    if (eq == std::string::npos) return make_error(ErrorCode::kInvalidArgument, "--domain-shares: '{}' is not NAME=SHARE", item);
    try {
      (*out)[item.substr(0, eq)] = std::stod(item.substr(eq + 1));
    } catch (...) {
      return make_error(ErrorCode::kInvalidArgument, "--domain-shares: '{}' is not a number", item.substr(eq + 1));
    }
    pos = comma + 1;
  }
  return Status::ok();
}

Result<MixConfig> to_config(const MixOpts& o, const DocumentStore& store) {
  MixConfig c;
  LONGCTX_ASSIGN_OR_RETURN(c.strategy, parse_mix_strategy(o.strategy));
  LONGCTX_ASSIGN_OR_RETURN(c.total_tokens, parse_token_count(o.tokens));
  LONGCTX_ASSIGN_OR_RETURN(c.seq_len, parse_seq_len(o.seq_len));
  LONGCTX_ASSIGN_OR_RETURN(c.max_doc, parse_seq_len(o.max_doc));
  c.seed = o.seed;
  c.cut_at = o.at;
  c.long_threshold = o.long_threshold;
  c.long_share = o.long_share;
  c.keep_short = o.keep_short;
  c.upsample_domains = o.domains;
  c.upsample_weight = o.weight;
  c.paper_chars_per_token = o.chars_per_token;
  if (!o.domain_shares.empty()) LONGCTX_RETURN_IF_ERROR(parse_shares(o.domain_shares, &c.domain_shares));
  c.no_repeat = o.no_repeat;
  const auto tok = store.manifest().value("tokenizer", nlohmann::json::object());
  int64_t bos = o.bos_id >= 0 ? o.bos_id : tok.value("bos_id", int64_t{1});
  int64_t eos = o.eos_id >= 0 ? o.eos_id : tok.value("eos_id", int64_t{2});
  c.bos = !o.no_bos;
  c.eos = o.eos;
  if (c.bos && bos < 0) return make_error(ErrorCode::kInvalidArgument, "the store's tokenizer has no BOS token: pass --bos-id or --no-bos");
  if (c.eos && eos < 0) return make_error(ErrorCode::kInvalidArgument, "the store's tokenizer has no EOS token: pass --eos-id");
  c.bos_id = static_cast<uint32_t>(std::max<int64_t>(bos, 0));
  c.eos_id = static_cast<uint32_t>(std::max<int64_t>(eos, 0));
  c.pad_id = static_cast<uint32_t>(o.pad_id);
  c.split = !o.no_split;
  c.last = o.last == "pad" ? LastChunk::kPad : LastChunk::kDrop;
  return c;
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

Result<MixReport> load_report(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, read_json_file(dir + "/manifest.json"));
  if (!m.contains("report")) return make_error(ErrorCode::kCorrupt, "'{}/manifest.json' has no mixture report", dir);
  return report_from_json(m["report"]);
}

Status run_export(const std::string& dir, const std::string& format, const std::string& out) {
  LONGCTX_ASSIGN_OR_RETURN(PackedDataset d, open_packed_dir(dir));
  Result<ExportSummary> r = make_error(ErrorCode::kInvalidArgument, "unknown export format '{}': expected megatron, llmc or jsonl", format);
  if (format == "megatron") r = export_megatron(d, out);
  else if (format == "llmc") r = export_llmc(d, out);
  else if (format == "jsonl") r = export_jsonl(d, out);
  LONGCTX_RETURN_IF_ERROR(r.status());
  for (const auto& f : r->files) LONGCTX_RETURN_IF_ERROR(verify_export(f.size() > 4 && f.substr(f.size() - 4) == ".bin" && format == "megatron" ? out + ".idx" : f));
  fmt::print("{}: {} sequences, {} tokens -> {}\n", format, r->sequences, r->tokens, fmt::join(r->files, ", "));
  return Status::ok();
}

void run_mix_command(const MixOpts& o) {
  auto store = DocumentStore::open(o.store);
  if (!store.is_ok()) {
    exit_code() = fail(store.status());
    return;
  }
  auto cfg = to_config(o, *store);
  if (!cfg.is_ok()) {
    exit_code() = fail(cfg.status());
    return;
  }
  if (o.plan_only) {
    auto m = build_mixture(*store, *cfg);
    if (!m.is_ok()) {
      exit_code() = fail(m.status());
      return;
    }
    fmt::print("{}", plan_table(m->plan));
    Status st;
    if (!o.out.empty()) {
      st = make_dirs(o.out);
      if (st.is_ok()) st = write_json_atomic(o.out + "/plan.json", plan_json(m->plan));
      if (st.is_ok()) fmt::print(stderr, "wrote {}/plan.json\n", o.out);
    }
    if (!st.is_ok()) exit_code() = fail(st);
    return;
  }
  if (o.out.empty()) {
    exit_code() = fail("--out is required (unless --plan-only)");
    return;
  }
  MixRunConfig rc;
  rc.mix = *cfg;
  rc.out_dir = o.out;
  rc.threads = o.threads;
  rc.overwrite = o.overwrite;
  Status st = parse_task(o.task, &rc.task, &rc.num_tasks);
  auto shard = parse_token_count(o.shard_tokens);
  if (!st.is_ok() || !shard.is_ok()) {
    exit_code() = fail(!st.is_ok() ? st : shard.status());
    return;
  }
  rc.shard_tokens = *shard;
  ProgressBar bar("mix", global_quiet());
  auto sum = run_mix(*store, rc, bar.fn());
  bar.finish();
  if (!sum.is_ok()) {
    exit_code() = fail(sum.status());
    return;
  }
  fmt::print("{} chunks x {} = {} tokens in {} shards ({} reused) -> {} ({:.1f}s, {:.1f}M tokens/s)\n", sum->chunks, cfg->seq_len,
             sum->tokens, sum->shards_written + sum->shards_reused, sum->shards_reused, o.out, sum->seconds,
             sum->tokens / std::max(sum->seconds, 1e-9) / 1e6);
  auto rep = load_report(o.out);
  st = rep.status();
  if (st.is_ok()) {
    fmt::print("{}", report_table(*rep));
    st = write_report_files(*rep, o.report_json, o.report_md, o.figures);
  }
  if (st.is_ok() && rc.num_tasks == 1) {
    for (const auto& e : o.exports) {
      std::string out = e == "jsonl" ? o.out + "/rows.jsonl" : o.out + "/" + e;
      if (e == "llmc") out = o.out + "/llmc";
      if (e == "megatron") out = o.out + "/megatron";
      st = run_export(o.out, e, out);
      if (!st.is_ok()) break;
    }
  }
  if (!st.is_ok()) exit_code() = fail(st);
}

}  // namespace

void register_mix_commands(CLI::App& app) {
  auto o = std::make_shared<MixOpts>();
  auto* c = app.add_subcommand("mix", "Build a long-context training mixture from a store: plan, sample, shuffle, pack, write shards");
  c->require_subcommand(0, 1);
  c->add_option("store", o->store, "Document store directory");
  c->add_option("--strategy", o->strategy,
                "original | cut | natural | per-source-upsample | global-upsample | upsample-domains | paper-script")->capture_default_str();
  c->add_option("--tokens", o->tokens, "Token budget (K/M/B = 10^3/10^6/10^9), rounded down to whole sequences");
  c->add_option("--seq-len", o->seq_len, "Sequence length (K = 1,024: 80K = 81,920)")->capture_default_str();
  c->add_option("--seed", o->seed, "Seed of every sampling and shuffling decision")->capture_default_str();
  c->add_option("--out", o->out, "Output directory (packed shards + manifest.json)");
  c->add_option("--at", o->at, "cut: piece length in tokens")->capture_default_str();
  c->add_option("--max-doc", o->max_doc, "natural: longest document kept whole (K = 1,024)")->capture_default_str();
  c->add_option("--long-threshold", o->long_threshold, "A document is long when it has more tokens than this")->capture_default_str();
  c->add_option("--long-share", o->long_share, "per-source-upsample: share of each domain's tokens from long documents")->capture_default_str();
  c->add_option("--keep-short", o->keep_short, "global-upsample / paper-script: keep probability of short documents")->capture_default_str();
  c->add_option("--domains", o->domains, "upsample-domains: the domains to upsample")->delimiter(',')->capture_default_str();
  c->add_option("--weight", o->weight, "upsample-domains: their joint token share")->capture_default_str();
  c->add_option("--domain-shares", o->domain_shares, "Target domain shares NAME=SHARE,... (default: the store's own)");
  c->add_option("--chars-per-token", o->chars_per_token, "paper-script: length estimate chars/N as in the authors' script (0: exact lengths)")->capture_default_str();
  c->add_flag("--no-repeat", o->no_repeat, "Fail (naming the domain and the shortfall) instead of repeating documents");
  c->add_flag("--plan-only", o->plan_only, "Print the plan (and write --out/plan.json) without touching token data");
  c->add_flag("--eos", o->eos, "Append EOS to every document piece");
  c->add_flag("--no-bos", o->no_bos, "Do not prepend BOS");
  c->add_option("--bos-id", o->bos_id, "BOS id (default: the store's tokenizer)");
  c->add_option("--eos-id", o->eos_id, "EOS id (default: the store's tokenizer)");
  c->add_option("--pad-id", o->pad_id, "Padding id")->capture_default_str();
  c->add_flag("--no-split", o->no_split, "Start a new sequence when a document does not fit (padding the rest)");
  c->add_option("--last", o->last, "The final partial sequence: drop or pad")->check(CLI::IsMember({"drop", "pad"}))->capture_default_str();
  c->add_option("--threads", o->threads, "Writer threads (0 = all cores)")->capture_default_str();
  c->add_option("--task", o->task, "Write share i of N of the shards (join with `mix merge`)")->capture_default_str();
  c->add_option("--shard-tokens", o->shard_tokens, "Tokens per shard file")->capture_default_str();
  c->add_option("--export", o->exports, "Also export: megatron, llmc, jsonl (repeatable)")->delimiter(',');
  c->add_option("--report-json", o->report_json, "Write the mixture report as JSON");
  c->add_option("--report-markdown", o->report_md, "Write the mixture report as Markdown");
  c->add_option("--figure", o->figures, "Draw the report (.png/.svg; also <stem>-domains.<ext>)");
  c->add_flag("--overwrite", o->overwrite, "Replace a finished mixture in --out");
  c->footer(
      "Examples:\n"
      "  longctx mix data/store --strategy per-source-upsample --tokens 5B --seq-len 80K --out data/mix\n"
      "  longctx mix data/store --strategy cut --at 4096 --tokens 1B --seq-len 4K --out data/cut4k\n"
      "  longctx mix data/store --strategy global-upsample --keep-short 0.1 --tokens 1B --plan-only\n"
      "  longctx mix data/store ... --task 3/8 --out part3   # then: longctx mix merge part0 ... part7 --out mix\n"
      "A killed run resumes (same bytes) when the same command is run again.");
  c->callback([c, o] {
    if (!c->get_subcommands().empty()) return;
    if (o->store.empty() || o->tokens.empty()) {
      exit_code() = fail("mix needs STORE and --tokens");
      return;
    }
    run_mix_command(*o);
  });

  {
    auto dir = std::make_shared<std::string>();
    auto json = std::make_shared<std::string>(), md = std::make_shared<std::string>();
    auto figs = std::make_shared<std::vector<std::string>>();
    auto* r = c->add_subcommand("report", "Show the report of a finished mixture (table; JSON, Markdown, figures)");
    r->add_option("dir", *dir, "Mixture directory")->required();
    r->add_option("--json", *json, "Write JSON");
    r->add_option("--markdown", *md, "Write Markdown");
    r->add_option("--figure", *figs, "Draw (.png/.svg)");
    r->callback([=] {
      auto rep = load_report(*dir);
      Status st = rep.status();
      if (st.is_ok()) {
        fmt::print("{}", report_table(*rep));
        st = write_report_files(*rep, *json, *md, *figs);
      }
      if (!st.is_ok()) exit_code() = fail(st);
    });
  }
  {
    auto dirs = std::make_shared<std::vector<std::string>>();
    auto fig = std::make_shared<std::vector<std::string>>();
    auto md = std::make_shared<std::string>();
    auto* r = c->add_subcommand("compare", "Mixtures side by side: domain shares and long-document shares (paper Figure 2)");
    r->add_option("dirs", *dirs, "Mixture directories")->required();
    r->add_option("--figure", *fig, "Draw (.png/.svg; also <stem>-domains.<ext>)");
    r->add_option("--markdown", *md, "Write the comparison table as Markdown");
    r->callback([=] {
      std::vector<MixReport> reps;
      std::vector<std::string> names;
      for (const auto& d : *dirs) {
        auto rep = load_report(d);
        if (!rep.is_ok()) {
          exit_code() = fail(rep.status());
          return;
        }
        reps.push_back(*rep);
        names.push_back(std::filesystem::path(d).filename().string());
      }
      std::string th = fmt::format(">{}K", reps[0].long_threshold / 1024);
      std::string t = "| domain | store share | store " + th + " |";
      std::string sep = "| --- | ---: | ---: |";
      for (const auto& n : names) {
        t += fmt::format(" {} share | {} {} |", n, n, th);
        sep += " ---: | ---: |";
      }
      t += "\n" + sep + "\n";
      for (size_t i = 0; i < reps[0].after.size(); ++i) {
        t += fmt::format("| {} | {:.2f}% | {:.1f}% |", reps[0].before[i].name, 100 * reps[0].before[i].token_share, 100 * reps[0].before[i].long_share);
        for (const auto& r2 : reps)
          t += i < r2.after.size() ? fmt::format(" {:.2f}% | {:.1f}% |", 100 * r2.after[i].token_share, 100 * r2.after[i].long_share) : " - | - |";
        t += "\n";
      }
      fmt::print("{}", t);
      Status st;
      if (!md->empty()) st = write_file_atomic(*md, t);
      for (const auto& f : *fig) {
        if (!st.is_ok()) break;
        st = draw_mix_figure(reps, names, true, f);
        if (st.is_ok()) fmt::print(stderr, "wrote {}\n", f);
      }
      if (!st.is_ok()) exit_code() = fail(st);
    });
  }
  {
    auto sc = std::make_shared<SynthStoreConfig>();
    auto tokens = std::make_shared<std::string>("100M");
    auto* r = c->add_subcommand("synth-store", "Write a SlimPajama-shaped synthetic document store directly (random ids; for scale tests)");
    r->add_option("--tokens", *tokens, "Total tokens (K/M/B = 10^3/10^6/10^9)")->capture_default_str();
    r->add_option("--out", sc->out_dir, "Store directory")->required();
    r->add_option("--seed", sc->seed, "Seed")->capture_default_str();
    r->callback([=] {
      auto t = parse_token_count(*tokens);
      Status st = t.status();
      if (st.is_ok()) {
        sc->tokens = *t;
        st = build_synth_store(*sc);
      }
      if (!st.is_ok()) exit_code() = fail(st);
      else fmt::print("wrote synthetic store {} ({} tokens)\n", sc->out_dir, sc->tokens);
    });
  }
  {
    auto ins = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>();
    auto* r = c->add_subcommand("merge", "Join the outputs of `mix --task i/N` (N directories) into one mixture");
    r->add_option("inputs", *ins, "Task output directories")->required();
    r->add_option("--out", *out, "Output directory")->required();
    r->callback([=] {
      Status st = merge_mix_tasks(*ins, *out);
      if (st.is_ok()) st = verify_packed_dir(*out);
      if (!st.is_ok()) exit_code() = fail(st);
      else fmt::print("merged {} tasks -> {} (verified)\n", ins->size(), *out);
    });
  }
  {
    auto dir = std::make_shared<std::string>(), format = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    auto* r = app.add_subcommand("export", "Export a packed mixture for other trainers: megatron (.bin/.idx), llmc shards, jsonl rows");
    r->add_option("dir", *dir, "Mixture directory")->required();
    r->add_option("--format", *format, "megatron, llmc or jsonl")->required()->check(CLI::IsMember({"megatron", "llmc", "jsonl"}));
    r->add_option("--out", *out, "Output prefix (megatron: PREFIX.bin/.idx; llmc: PREFIX_000000.bin; jsonl: the file)")->required();
    r->callback([=] {
      Status st = run_export(*dir, *format, *out);
      if (!st.is_ok()) exit_code() = fail(st);
    });
  }
  {
    auto dir = std::make_shared<std::string>(), tok = std::make_shared<std::string>();
    auto chunk = std::make_shared<uint64_t>(0), count = std::make_shared<uint64_t>(1);
    auto* r = app.add_subcommand("inspect", "Show a packed mixture: manifest summary, chunks with their document spans");
    r->add_option("dir", *dir, "Mixture directory")->required();
    r->add_option("--chunk", *chunk, "First chunk to show")->capture_default_str();
    r->add_option("--count", *count, "Chunks to show")->capture_default_str();
    r->add_option("--tokenizer", *tok, "Decode the spans' text with this tokenizer (default: the store's, if found)");
    r->callback([=] {
      auto d = open_packed_dir(*dir);
      if (!d.is_ok()) {
        exit_code() = fail(d.status());
        return;
      }
      std::unique_ptr<Tokenizer> tk;
      std::string tpath = *tok;
      if (tpath.empty()) {  // the store's tokenizer, when it is still where the store says
        auto sm = read_json_file(d->manifest.value("store", nlohmann::json::object()).value("dir", std::string()) + "/manifest.json");
        if (sm.is_ok()) {
          std::string p = sm->value("tokenizer", nlohmann::json::object()).value("path", std::string());
          if (!p.empty() && file_exists(p)) tpath = p;
        }
      }
      if (!tpath.empty()) {
        auto t = load_tokenizer(tpath);
        if (!t.is_ok()) {
          exit_code() = fail(t.status());
          return;
        }
        tk = std::move(*t);
      }
      fmt::print("{}: {} chunks x {} tokens (uint{}), {} shards, strategy {}\n", *dir, d->num_chunks, d->seq_len, 8 * d->token_bytes,
                 d->shard_files.size(), d->manifest["mix"].value("strategy", "?"));
      uint64_t base = 0;
      std::vector<uint32_t> toks;
      for (const auto& f : d->shard_files) {
        auto s = PackedShard::open(f);
        if (!s.is_ok()) {
          exit_code() = fail(s.status());
          return;
        }
        base = s->header().first_chunk;
        for (uint64_t c = 0; c < s->num_chunks(); ++c) {
          uint64_t g = base + c;
          if (g < *chunk || g >= *chunk + *count) continue;
          s->chunk_tokens(c, &toks);
          fmt::print("\nchunk {} ({}):\n", g, f);
          for (const auto& sp : s->chunk_spans(c)) {
            std::string dom = sp.domain == kPadDomain ? "<pad>" : sp.domain < d->domains.size() ? d->domains[sp.domain] : "?";
            fmt::print("  [{:>7}, {:>7}) {:<24} doc {} from token {}{}{}{}\n", sp.start, sp.end, dom, hex64(sp.doc_id), sp.doc_offset,
                       sp.flags & kSpanStart ? " start" : "", sp.flags & kSpanEnd ? " end" : "",
                       (sp.flags >> 8) ? fmt::format(" repeat {}", sp.flags >> 8) : "");
            std::span<const uint32_t> ids(toks.data() + sp.start, std::min<uint64_t>(sp.end - sp.start, 24));
            if (tk) {
              auto text = tk->decode(ids);
              fmt::print("      {:?}{}\n", text.is_ok() ? *text : std::string("?"), sp.end - sp.start > 24 ? " ..." : "");
            } else {
              fmt::print("      ids {}{}\n", fmt::join(ids, " "), sp.end - sp.start > 24 ? " ..." : "");
            }
          }
        }
      }
    });
  }
  {
    auto path = std::make_shared<std::string>();
    auto* r = app.add_subcommand("verify", "Check checksums and invariants of a packed mixture, a Megatron .idx, an llm.c shard or JSONL rows");
    r->add_option("path", *path, "Mixture directory, PREFIX.idx, llm.c .bin or .jsonl")->required();
    r->callback([=] {
      Status st = std::filesystem::is_directory(*path) ? verify_packed_dir(*path) : verify_export(*path);
      if (!st.is_ok()) exit_code() = fail(st);
      else fmt::print("{}: ok\n", *path);
    });
  }
}

}  // namespace longctx::cli
