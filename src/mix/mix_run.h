// Running a mixture (docs/mixing.md "Outputs", "Scale"): shards written in parallel, one file per
// shard, each a pure function of (store, configuration, shard index); resume keeps finished
// shards whose checksums still match; --task i/N writes a share of the shards and
// merge_mix_tasks joins them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"
#include "mix/mix_config.h"
#include "store/document_store.h"

namespace longctx {

struct MixRunConfig {
  MixConfig mix;
  std::string out_dir;
  int threads = 0;  // 0 = all cores
  uint32_t task = 0, num_tasks = 1;
  uint64_t shard_tokens = 1ull << 26;  // tokens per shard (rounded to whole chunks); shards are the unit of parallel work
  bool overwrite = false;
};
struct MixRunSummary {
  uint64_t chunks = 0, tokens = 0, shards_written = 0, shards_reused = 0;
  double seconds = 0;
  std::vector<std::string> notes;  // what the run lifecycle did (a shard rewritten and why, ...)
};
// Writes the shards of this task (all when num_tasks == 1) to out_dir, then manifest.json with
// the plan and the report, following the run lifecycle (core/run_dir.h). Shards finished by an
// interrupted run of the same command are kept when their checksums still match the ones
// recorded when they were written (resume).
// The store's tokens.bin is read once in full on a thread of its own while the mixture is planned
// and packed, and no shard is published before its checksum has matched the store's manifest;
// every id the mixture takes is checked against the vocabulary as it is read. The manifest
// records the checksums computed here.
Result<MixRunSummary> run_mix(const DocumentStore& store, const MixRunConfig& cfg, const ProgressFn& progress);

// Joins `--task i/N` outputs (any order) into out_dir; fails unless they are the N tasks of one mix.
// A finished mixture in out_dir is replaced only with `overwrite`; nothing else is ever replaced.
Status merge_mix_tasks(const std::vector<std::string>& inputs, const std::string& out_dir, bool overwrite = false);

}  // namespace longctx
