#include "stats/stats_figure.h"

#include <fmt/format.h>

#include "core/units.h"

#include "plot/charts.h"

namespace longctx {

std::string stats_panel_title(const CorpusStats& stats, const DomainStats& d) {
  std::string longs;
  if (!d.long_token_share.empty() && !stats.thresholds.empty())
    longs = fmt::format(", {:.0f}% in >{}", 100 * d.long_token_share[0], format_length(stats.thresholds[0]));
  // "RedPajamaBook" -> "Book": the panel titles must fit a third of the figure's width.
  std::string name = d.name.rfind("RedPajama", 0) == 0 && d.name.size() > 9 ? d.name.substr(9) : d.name;
  return fmt::format("{} ({:.1f}% of tokens{})", name, 100 * d.token_share, longs);
}

Status draw_stats_figure(const CorpusStats& stats, const std::string& path, const std::string& title) {
  plot::HistogramGridConfig cfg;
  cfg.title = title;
  cfg.x_label = "document length (tokens)";
  cfg.y_label = "share of the domain's tokens";
  cfg.bucket_labels = stats.bucket_labels;
  cfg.normalize = true;
  for (const auto& d : stats.domains) {
    plot::HistogramPanel p;
    p.name = stats_panel_title(stats, d);
    for (auto t : d.bucket_tokens) p.values.push_back(static_cast<double>(t));
    cfg.panels.push_back(std::move(p));
  }
  return plot::render_histogram_grid(cfg, path);
}

}  // namespace longctx
