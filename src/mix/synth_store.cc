#include "mix/synth_store.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "core/run_dir.h"
#include "corpus/synth_corpus.h"
#include "store/document_store.h"

namespace longctx {

Status build_synth_store(const SynthStoreConfig& cfg) {
  const auto& domains = slimpajama_domains();
  // Document-count weights giving the token shares: w_d ∝ share_d / E[length_d] (log-normal mean).
  std::vector<double> w;
  double sum = 0;
  for (const auto& d : domains) {
    w.push_back(d.token_share / (d.median_tokens * std::exp(d.sigma * d.sigma / 2)));
    sum += w.back();
  }
  for (auto& x : w) x /= sum;
  // The run lifecycle (core/run_dir.h): a document store or nothing is replaced; the manifest is last.
  const nlohmann::json fp = {{"tokens", cfg.tokens}, {"seed", cfg.seed}, {"vocab_size", cfg.vocab_size}, {"max_doc_tokens", cfg.max_doc_tokens}};
  LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({cfg.out_dir, &kinds::kDocumentStore, fp, cfg.overwrite, /*resumable=*/false}));
  LONGCTX_ASSIGN_OR_RETURN(StoreWriter sw, StoreWriter::create(cfg.out_dir, token_bytes_for_vocab(cfg.vocab_size)));
  for (const auto& d : domains) sw.domain_id(d.name);
  Rng rng(mix64(cfg.seed));
  std::vector<uint32_t> toks;
  uint64_t n = 0;
  while (sw.num_tokens() < cfg.tokens) {
    double u = rng.uniform();
    size_t d = 0;
    while (d + 1 < w.size() && u >= w[d]) u -= w[d++];
    double len = domains[d].median_tokens * std::exp(domains[d].sigma * rng.normal());
    uint64_t L = static_cast<uint64_t>(std::clamp(len, 8.0, static_cast<double>(cfg.max_doc_tokens)));
    toks.resize(L);
    Rng tr(mix64(cfg.seed ^ mix64(n + 1)));
    for (auto& t : toks) t = 3 + static_cast<uint32_t>(tr.below(cfg.vocab_size - 3));
    double f = 0.8 + 0.45 * rng.uniform();
    uint64_t bytes = static_cast<uint64_t>(3.68 * static_cast<double>(L) * f);
    LONGCTX_RETURN_IF_ERROR(run.fail(sw.add(toks, mix64(cfg.seed * 0x9E37 + n), n + 1, 0, static_cast<uint16_t>(d), bytes)));
    ++n;
  }
  nlohmann::json m;
  m["files"] = {{{"path", "synthetic"}}};
  m["tokenizer"] = {{"path", "synthetic"}, {"vocab_size", cfg.vocab_size}, {"bos_id", 1}, {"eos_id", 2}};
  m["synthetic"] = {{"tokens", cfg.tokens}, {"seed", cfg.seed}};
  auto manifest = sw.finalize(m);
  if (!manifest.is_ok()) return run.fail(manifest.status());
  return run.fail(run.publish(*manifest));
}

}  // namespace longctx
