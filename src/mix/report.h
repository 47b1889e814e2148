// The mixture report (docs/mixing.md "Outputs"; the paper's Figure 2 view): per domain, token
// share and share of tokens in long documents before (the store) and after (the mixture), epochs,
// repeats, and tokens by length bucket. Written into the manifest, read back by `mix report` and
// `mix compare`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "mix/packing.h"
#include "store/document_store.h"

namespace longctx {

struct MixSide {
  std::string name;
  double token_share = 0;  // of all tokens of this side
  double long_share = 0;   // share of the domain's tokens in documents (pieces) longer than the threshold
  uint64_t tokens = 0;
  std::vector<uint64_t> bucket_tokens;  // by piece length (after) / document length (before)
  double epochs = 0;                    // after only: selected / available document tokens
  double epochs_long = 0;               // the same over documents longer than the threshold
  uint32_t max_repeat = 0;
};
struct MixReport {
  std::string title;
  uint64_t long_threshold = 4096;
  std::vector<std::string> bucket_labels;
  std::vector<MixSide> before, after;  // same domain order
  uint64_t total_before = 0, total_after = 0, pad_tokens = 0;
};
// Before: the store's documents as they are (tokens without BOS). After: the mixture's packed
// tokens (with BOS/EOS) in the written chunks, bucketed and called long by the nominal length of
// their piece: the cut piece (cut / natural) or the rest of the source document (so a prefix a
// budget truncated counts as the document it came from). Padding is counted apart.
MixReport mix_report(const DocumentStore& store, const Mixture& m);
nlohmann::json report_json(const MixReport& r);
Result<MixReport> report_from_json(const nlohmann::json& j);
std::string report_table(const MixReport& r);
std::string report_markdown(const MixReport& r);
// Grouped bars per domain: series = the given reports' "after" sides (and the first one's
// "before" when with_before). Writes `path` (long-token share) and `<stem>-domains<ext>` (domain
// token share). PNG or SVG by extension.
Status draw_mix_figure(const std::vector<MixReport>& reports, const std::vector<std::string>& names,
                       bool with_before, const std::string& path);
// The title of draw_mix_figure's long-token chart: "... longer than 64K tokens" (format_length).
std::string long_share_title(uint64_t long_threshold);
// The second file draw_mix_figure writes: "mix.png" -> "mix-domains.png".
std::string mix_domains_figure_path(const std::string& path);

}  // namespace longctx
