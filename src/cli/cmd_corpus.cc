// longctx corpus sample | synth
#include <fmt/format.h>

#include "cli/cli_util.h"
#include "core/units.h"
#include "corpus/sample_corpus.h"
#include "corpus/synth_corpus.h"

namespace longctx::cli {

void register_corpus_commands(CLI::App& app) {
  auto* corpus = app.add_subcommand("corpus", "Build corpora: the built-in multi-domain sample, or synthetic SlimPajama-shaped shards");
  corpus->require_subcommand(1);

  {
    auto cfg = std::make_shared<SampleCorpusConfig>();
    auto* c = corpus->add_subcommand("sample", "Write the built-in sample corpus (SlimPajama layout, 7 domains, >100 MB) from text installed by Debian packages");
    c->add_option("--out", cfg->out_dir, "Output directory")->required();
    c->add_option("--shards", cfg->num_shards, "Number of train shards")->capture_default_str();
    c->add_option("--holdout", cfg->holdout_fraction, "Fraction of documents written to validation/")->capture_default_str();
    c->add_option("--threads", cfg->threads, "Worker threads (0 = all cores)")->capture_default_str();
    c->add_flag("--overwrite", cfg->overwrite, "Rebuild an existing sample corpus");
    c->footer("Example:\n  longctx corpus sample --out data/sample\n  -> data/sample/train/chunk1/example_train_{0..7}.jsonl.zst, validation/..., sample.json");
    c->callback([cfg] {
      ProgressBar bar("sample");
      auto r = build_sample_corpus(*cfg, bar.fn());
      bar.finish();
      if (!r.is_ok()) {
        exit_code() = fail(r.status());
        return;
      }
      fmt::print("sample corpus: {} documents, {} of text in {} ({} held out in validation/)\n", r->documents,
                 format_bytes(static_cast<double>(r->bytes)), cfg->out_dir, r->holdout_documents);
      for (const auto& [d, n] : r->domain_documents)
        fmt::print("  {:<24} {:>8} documents {:>10}\n", d, n, format_bytes(static_cast<double>(r->domain_bytes[d])));
    });
  }
  {
    auto cfg = std::make_shared<SynthConfig>();
    auto size = std::make_shared<std::string>("1GB");
    auto shard = std::make_shared<std::string>("256MiB");
    auto* c = corpus->add_subcommand("synth", "Write synthetic SlimPajama-shaped shards (paper's domain shares and median lengths) of any size");
    c->add_option("--size", *size, "Total text size, e.g. 500MB, 10GB")->capture_default_str();
    c->add_option("--out", cfg->out_dir, "Output directory")->required();
    c->add_option("--seed", cfg->seed, "Random seed")->capture_default_str();
    c->add_option("--shard-size", *shard, "Text per shard")->capture_default_str();
    c->add_option("--bytes-per-token", cfg->bytes_per_token, "Converts the paper's token lengths to text bytes")->capture_default_str();
    c->add_option("--threads", cfg->threads, "Worker threads (0 = all cores)")->capture_default_str();
    c->add_flag("--overwrite", cfg->overwrite, "Write into a directory that already holds a synthetic corpus");
    c->footer("Example:\n  longctx corpus synth --size 10GB --out data/synth");
    c->callback([cfg, size, shard] {
      auto sz = parse_byte_size(*size);
      auto sh = parse_byte_size(*shard);
      if (!sz.is_ok() || !sh.is_ok()) {
        exit_code() = fail(!sz.is_ok() ? sz.status() : sh.status());
        return;
      }
      cfg->size_bytes = *sz;
      cfg->shard_bytes = std::max<uint64_t>(1 << 20, *sh);
      ProgressBar bar("synth");
      auto r = build_synth_corpus(*cfg, bar.fn());
      bar.finish();
      if (!r.is_ok()) {
        exit_code() = fail(r.status());
        return;
      }
      fmt::print("synthetic corpus: {} shards, {} documents, {} in {}\n", r->shards, r->documents,
                 format_bytes(static_cast<double>(r->bytes)), cfg->out_dir);
    });
  }
}

}  // namespace longctx::cli
