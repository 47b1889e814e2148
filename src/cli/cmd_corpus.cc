// longctx corpus sample | synth
#include "cli/cmd_corpus.h"

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "core/units.h"
#include "core/validate.h"

namespace longctx::cli {

// Text sizes accepted by --size and --shard-size: up to a petabyte.
inline constexpr uint64_t kMaxTextBytes = 1000000000000000ull;

Status CorpusSampleOptions::validate() const {
  LONGCTX_RETURN_IF_ERROR(check_range("--shards", config.num_shards, 1, 4096));
  LONGCTX_RETURN_IF_ERROR(check_range("--holdout", config.holdout_fraction, 0.0, 1.0));
  return check_range("--threads", config.threads, 0, kMaxThreads);
}

Status run_corpus_sample(const CorpusSampleOptions& o) {
  LONGCTX_RETURN_IF_ERROR(check_outputs({{o.config.out_dir, &kinds::kSampleCorpus, "--out"}}, o.config.overwrite));
  ProgressBar bar("sample");
  auto r = build_sample_corpus(o.config, bar.fn());
  bar.finish();
  LONGCTX_RETURN_IF_ERROR(r.status());
  fmt::print("sample corpus: {} documents, {} of text in {} ({} held out in validation/)\n", r->documents,
             format_bytes(static_cast<double>(r->bytes)), o.config.out_dir, r->holdout_documents);
  for (const auto& [d, n] : r->domain_documents)
    fmt::print("  {:<24} {:>8} documents {:>10}\n", d, n, format_bytes(static_cast<double>(r->domain_bytes.at(d))));
  return Status::ok();
}

Result<SynthConfig> CorpusSynthOptions::to_config() const {
  SynthConfig c = config;
  LONGCTX_ASSIGN_OR_RETURN(c.size_bytes, parse_byte_size(size));
  LONGCTX_ASSIGN_OR_RETURN(uint64_t shard, parse_byte_size(shard_size));
  LONGCTX_RETURN_IF_ERROR(check_range("--size", c.size_bytes, uint64_t{1}, kMaxTextBytes));
  LONGCTX_RETURN_IF_ERROR(check_range("--shard-size", shard, uint64_t{1}, kMaxTextBytes));
  c.shard_bytes = std::max<uint64_t>(1 << 20, shard);  // at least 1 MiB per shard
  // Real tokenizers average between 1 and 10 bytes of text per token.
  LONGCTX_RETURN_IF_ERROR(check_range("--bytes-per-token", c.bytes_per_token, 0.5, 64.0));
  LONGCTX_RETURN_IF_ERROR(check_range("--threads", c.threads, 0, kMaxThreads));
  return c;
}

Status run_corpus_synth(const CorpusSynthOptions& o) {
  LONGCTX_ASSIGN_OR_RETURN(SynthConfig cfg, o.to_config());
  LONGCTX_RETURN_IF_ERROR(check_outputs({{cfg.out_dir, &kinds::kSynthCorpus, "--out"}}, cfg.overwrite));
  ProgressBar bar("synth");
  auto r = build_synth_corpus(cfg, bar.fn());
  bar.finish();
  LONGCTX_RETURN_IF_ERROR(r.status());
  print_notes(r->notes);
  fmt::print("synthetic corpus: {} shards, {} documents, {} in {}\n", r->shards, r->documents,
             format_bytes(static_cast<double>(r->bytes)), cfg.out_dir);
  return Status::ok();
}

void register_corpus_commands(CLI::App& app) {
  auto* corpus = app.add_subcommand("corpus", "Build corpora: the built-in multi-domain sample, or synthetic SlimPajama-shaped shards");
  corpus->require_subcommand(1);
  set_examples(corpus, {"longctx corpus sample --out data/sample", "longctx corpus synth --size 10GB --out data/synth"});
  {
    auto o = std::make_shared<CorpusSampleOptions>();
    auto* c = corpus->add_subcommand("sample", "Write the built-in sample corpus (SlimPajama layout, 7 domains, >100 MB) from text installed by Debian packages");
    c->add_option("--out", o->config.out_dir, "Output directory")->required();
    add_number(c, "--shards", o->config.num_shards, "Number of train shards");
    add_number(c, "--holdout", o->config.holdout_fraction, "Fraction of documents written to validation/");
    add_number(c, "--threads", o->config.threads, "Worker threads (0 = all cores)");
    c->add_flag("--overwrite", o->config.overwrite, "Rebuild an existing sample corpus (never any other directory)");
    set_examples(c, {"longctx corpus sample --out data/sample"},
                 "  -> data/sample/train/chunk1/example_train_{0..7}.jsonl.zst, validation/..., sample.json");
    set_run(c, o, run_corpus_sample);
  }
  {
    auto o = std::make_shared<CorpusSynthOptions>();
    auto* c = corpus->add_subcommand("synth", "Write synthetic SlimPajama-shaped shards (paper's domain shares and median lengths) of any size");
    c->add_option("--size", o->size, "Total text size, e.g. 500MB, 10GB")->capture_default_str();
    c->add_option("--out", o->config.out_dir, "Output directory")->required();
    add_number(c, "--seed", o->config.seed, "Random seed");
    c->add_option("--shard-size", o->shard_size, "Text per shard")->capture_default_str();
    add_number(c, "--bytes-per-token", o->config.bytes_per_token, "Converts the paper's token lengths to text bytes");
    add_number(c, "--threads", o->config.threads, "Worker threads (0 = all cores)");
    c->add_flag("--overwrite", o->config.overwrite, "Write into a directory that already holds a synthetic corpus");
    set_examples(c, {"longctx corpus synth --size 10GB --out data/synth"});
    set_run(c, o, run_corpus_synth);
  }
}

}  // namespace longctx::cli
