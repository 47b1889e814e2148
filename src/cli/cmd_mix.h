// longctx mix | mix report | mix compare | mix synth-store | mix merge | export | inspect | verify
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "mix/mixture.h"
#include "mix/synth_store.h"

namespace longctx::cli {

struct MixOptions {
  std::string store, out, strategy = "per-source-upsample", tokens, seq_len = "80K", max_doc = "128K", task = "0/1";
  std::string last = "drop", domain_shares, shard_tokens = "64M";
  std::vector<std::string> exports, figures;
  std::string report_json, report_md;
  uint64_t seed = 1, at = 4096, long_threshold = 4096;
  uint32_t max_epochs = 64;
  std::string max_memory;  // "" = the memory available
  double long_share = 0.7, keep_short = 0.1, weight = 0.6, chars_per_token = 3.68;
  std::vector<std::string> domains = {"RedPajamaBook", "RedPajamaArXiv", "RedPajamaGithub"};
  bool no_repeat = false, plan_only = false, eos = false, no_bos = false, no_split = false, overwrite = false;
  int64_t bos_id = -1, eos_id = -1, pad_id = 0;  // -1: the store's tokenizer's
  int threads = 0;
  // The mixture configuration these flags give, checked (MixConfig::validate), before the store
  // is opened: BOS and EOS ids are filled from the store later (run_mix).
  Result<MixConfig> to_config() const;
  // The run configuration (--out, --threads, --task, --shard-tokens) around `mix`.
  Result<MixRunConfig> to_run_config(const MixConfig& mix) const;
  Status validate() const;
};
Status run_mix(const MixOptions& o);

struct MixReportOptions {
  std::string dir, json, markdown;  // json / markdown may be "-" (standard output)
  std::vector<std::string> figures;
  bool overwrite = false;
  Status validate() const { return Status::ok(); }
};
Status run_mix_report(const MixReportOptions& o);

struct MixCompareOptions {
  std::vector<std::string> dirs, figures;
  std::string markdown;
  bool overwrite = false;
  Status validate() const { return Status::ok(); }
};
Status run_mix_compare(const MixCompareOptions& o);

struct MixSynthStoreOptions {
  SynthStoreConfig config;  // tokens from `tokens`
  std::string tokens = "100M";
  Result<SynthStoreConfig> to_config() const;
  Status validate() const { return to_config().status(); }
};
Status run_mix_synth_store(const MixSynthStoreOptions& o);

struct MixMergeOptions {
  std::vector<std::string> inputs;
  std::string out;
  bool overwrite = false;
  Status validate() const { return Status::ok(); }
};
Status run_mix_merge(const MixMergeOptions& o);

struct ExportOptions {
  std::string dir, format, out;  // jsonl: out may be "-" (standard output)
  bool overwrite = false;
  Status validate() const { return Status::ok(); }
};
Status run_export(const ExportOptions& o);

struct InspectOptions {
  std::string dir, tokenizer;
  uint64_t chunk = 0, count = 1;  // any values: chunks [chunk, chunk + count) that exist are shown
  Status validate() const { return Status::ok(); }
};
Status run_inspect(const InspectOptions& o);

struct VerifyOptions {
  std::string path;
  uint64_t vocab_size = 0;  // exports: ids must be below it (0: the vocabulary of the mixture beside the file)
  Status validate() const { return Status::ok(); }
};
Status run_verify(const VerifyOptions& o);

void register_mix_commands(CLI::App& app);

}  // namespace longctx::cli
