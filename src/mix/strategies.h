// The strategies the paper compares (paper.md "The mixture strategies compared"; docs/mixing.md
// "Strategies"), each with its own typed options. One file each under src/mix/strategies/; the
// registry (strategy.h) finds them by --strategy name. Defaults are the CLI's. These typed
// constructors are for C++ callers (tests, benchmarks); the CLI and manifests go through the
// registry, so a new strategy needs no declaration here unless such a caller wants one.
#pragma once
#include <string>
#include <vector>

#include "mix/strategy.h"

namespace longctx {

// original: documents as they are, domain shares kept.
StrategyPtr original_strategy();

// cut: documents cut into pieces of at most `at` tokens, each with its BOS.
struct CutOptions {
  uint64_t at = 4096;  // --at
};
StrategyPtr cut_strategy(CutOptions o = {});

// natural: whole documents up to max_doc tokens; longer ones cut into max_doc pieces.
struct NaturalOptions {
  uint64_t max_doc = 131072;  // --max-doc
};
StrategyPtr natural_strategy(NaturalOptions o = {});

// per-source-upsample (the paper's): inside every domain, long_share of its tokens from long
// documents; a domain whose own share is higher keeps its own, one without long documents stays
// all short.
struct PerSourceUpsampleOptions {
  double long_share = 0.7;  // --long-share
};
StrategyPtr per_source_upsample_strategy(PerSourceUpsampleOptions o = {});

// global-upsample: every long document at one rate r, every short one at keep_short x r.
struct GlobalUpsampleOptions {
  double keep_short = 0.1;  // --keep-short
};
StrategyPtr global_upsample_strategy(GlobalUpsampleOptions o = {});

// upsample-domains: the named domains share `weight` of the tokens (split by their own shares).
struct UpsampleDomainsOptions {
  std::vector<std::string> domains = {"RedPajamaBook", "RedPajamaArXiv", "RedPajamaGithub"};  // --domains
  double weight = 0.6;                                                                          // --weight
};
StrategyPtr upsample_domains_strategy(UpsampleDomainsOptions o = {});

// paper-script: the authors' script, corpus order, short documents kept with probability
// keep_short, lengths estimated as text bytes / chars_per_token (0: exact token counts).
struct PaperScriptOptions {
  double keep_short = 0.1;        // --keep-short
  double chars_per_token = 3.68;  // --chars-per-token
};
StrategyPtr paper_script_strategy(PaperScriptOptions o = {});

}  // namespace longctx
