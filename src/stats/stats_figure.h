// The picture of a store's domain x length distribution (the analysis behind the paper's
// Figure 2): one panel per domain, the share of its tokens in each length bucket.
#pragma once
#include <string>

#include "core/status.h"
#include "stats/stats.h"

namespace longctx {

// A panel's title: "Book (12.3% of tokens, 45% in >4K)" (the share in documents longer than the
// first threshold, written by format_length).
std::string stats_panel_title(const CorpusStats& stats, const DomainStats& d);

// Writes PNG or SVG by the path's extension.
Status draw_stats_figure(const CorpusStats& stats, const std::string& path, const std::string& title);

}  // namespace longctx
