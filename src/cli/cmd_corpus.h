// longctx corpus sample | synth
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"
#include "corpus/sample_corpus.h"
#include "corpus/synth_corpus.h"

namespace longctx::cli {

struct CorpusSampleOptions {
  SampleCorpusConfig config;
  Status validate() const;
};
Status run_corpus_sample(const CorpusSampleOptions& o);

struct CorpusSynthOptions {
  SynthConfig config;  // size_bytes and shard_bytes come from the two texts below
  std::string size = "1GB", shard_size = "256MiB";
  Result<SynthConfig> to_config() const;
  Status validate() const { return to_config().status(); }
};
Status run_corpus_synth(const CorpusSynthOptions& o);

void register_corpus_commands(CLI::App& app);

}  // namespace longctx::cli
