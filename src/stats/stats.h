// Corpus statistics (the analysis behind the paper's Figure 2; `longctx stats`): per domain,
// documents, tokens, token share, length quantiles, the share of tokens in long documents, and a
// histogram over log-spaced length buckets. Lengths are document token counts as stored (no BOS).
// Memory is bounded: a domain's first 4,096 lengths are kept as they are; past that, lengths
// below 2^16 are counted in a dense table (512 KiB) and only longer documents are kept
// individually (at most total_tokens / 2^16 of them). Quantiles are exact either way, and
// thousands of small domains cost little.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/document_store.h"

namespace longctx {

// Bucket upper edges in tokens (K = 1024, as for sequence lengths): <1K, 1-2K, 2-4K, 4-8K, 8-16K,
// 16-32K, 32-64K, 64-128K, >=128K. A document of exactly 1,024 tokens is in "1-2K".
std::vector<uint64_t> length_bucket_edges();
std::vector<std::string> length_bucket_labels();
size_t length_bucket_of(uint64_t length);

struct StatsConfig {
  std::vector<uint64_t> long_thresholds = {4096};  // "long" = strictly more tokens than this
};

struct DomainStats {
  std::string name;
  uint64_t documents = 0;
  uint64_t tokens = 0;
  double token_share = 0;      // of all tokens in the store
  uint64_t median = 0;         // lower median: sorted[(n-1)/2]
  uint64_t p90 = 0;            // nearest rank: sorted[ceil(0.9 n) - 1]
  uint64_t max = 0;
  std::vector<double> long_token_share;    // per threshold: tokens in docs longer than it / tokens
  std::vector<uint64_t> bucket_documents;  // per length bucket
  std::vector<uint64_t> bucket_tokens;
};

struct CorpusStats {
  std::vector<uint64_t> thresholds;
  std::vector<std::string> bucket_labels;
  std::vector<DomainStats> domains;  // sorted by tokens, descending (ties by name)
  DomainStats total;                 // name "all"
};

// Length distribution accumulator (also used by the mixture report).
class LengthAccumulator {
 public:
  void add(uint64_t length);
  void merge(const LengthAccumulator& o);
  DomainStats finish(const std::string& name, const std::vector<uint64_t>& thresholds, uint64_t all_tokens) const;
  uint64_t tokens() const { return tokens_; }

 private:
  void densify();
  std::vector<uint64_t> few_;    // every length, while the domain has at most kFew documents
  std::vector<uint64_t> small_;  // then: count per exact length < 65536
  std::vector<uint64_t> large_;  //       and lengths >= 65536
  static constexpr size_t kFew = 4096;
  uint64_t docs_ = 0, tokens_ = 0;
};

CorpusStats compute_stats(const DocumentStore& store, const StatsConfig& cfg);

std::string stats_table(const CorpusStats& s);     // fixed-width terminal table
std::string stats_markdown(const CorpusStats& s);  // GitHub-flavoured Markdown
nlohmann::json stats_json(const CorpusStats& s);

}  // namespace longctx
