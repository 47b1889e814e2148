// `longctx corpus synth` (docs/corpus.md): SlimPajama-shaped shards at any size, for scale tests.
// Domain token shares and per-domain median document lengths follow paper.md (the authors' code's
// shares; their median lengths in LLaMA tokens). Lengths are log-normal with per-domain spread
// (long tails), capped at 4M tokens. Text is sliced from real local text (load_text_pool), so
// tokenization costs are realistic. Each shard is a pure function of (seed, shard index).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"

namespace longctx {

struct SynthDomain {
  std::string name;
  double token_share;   // paper.md "Original token shares used by the authors' code"
  double median_tokens; // paper.md "Median document length in LLaMA tokens"
  double sigma;         // log-normal spread (our choice: gives ~30-40% of tokens in >4K docs overall)
};
const std::vector<SynthDomain>& slimpajama_domains();

struct SynthConfig {
  std::string out_dir;
  uint64_t size_bytes = 1000000000;  // total text bytes (approximate, to one document)
  uint64_t seed = 1;
  uint64_t shard_bytes = 256u << 20; // text bytes per shard
  double bytes_per_token = 4.0;      // converts token lengths to text bytes
  uint64_t pool_bytes = 32u << 20;   // local text to slice from
  std::string dpkg_dir = "/var/lib/dpkg";
  int threads = 0;
  bool overwrite = false;
};

struct SynthSummary {
  uint64_t shards = 0, documents = 0, bytes = 0;
  std::vector<std::string> notes;  // what the run lifecycle did (a shard rewritten and why, ...)
};

Result<SynthSummary> build_synth_corpus(const SynthConfig& cfg, const ProgressFn& progress);

}  // namespace longctx
