// `longctx corpus sample` (docs/corpus.md): a multi-domain corpus in SlimPajama's layout and
// record format, built from text that Debian packages install (scripts/setup.sh installs them).
// Domains are named after SlimPajama's sources; see docs/corpus.md for what feeds each one.
// Deterministic: the same bytes on every run with the same package versions (recorded in
// sample.json), whatever the thread count.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/status.h"

namespace longctx {

struct SampleCorpusConfig {
  std::string out_dir;
  std::string dpkg_dir = "/var/lib/dpkg";  // where package file lists are read from
  int num_shards = 8;                      // train shards: train/chunk1/example_train_{i}.jsonl.zst
  double holdout_fraction = 0.01;          // documents (by id hash) written to validation/
  int threads = 0;
  bool overwrite = false;
};

struct SampleCorpusSummary {
  std::map<std::string, uint64_t> domain_documents, domain_bytes;
  std::map<std::string, std::string> package_versions;
  uint64_t documents = 0, bytes = 0, holdout_documents = 0;
};

// The Debian packages the sample corpus reads.
std::vector<std::string> sample_corpus_packages();

Result<SampleCorpusSummary> build_sample_corpus(const SampleCorpusConfig& cfg, const ProgressFn& progress);

// A pool of real local text (from the same packages) for the synthetic corpus.
Result<std::string> load_text_pool(const std::string& dpkg_dir, uint64_t max_bytes);

// The Book domain's longest single document: the Debian Reference (package debian-reference-en,
// about 860 KB of prose), as the sample corpus writes it. The needle test's default haystack
// (docs/evaluation.md "Haystack").
Result<std::string> sample_book_text(const std::string& dpkg_dir = "/var/lib/dpkg");

}  // namespace longctx
