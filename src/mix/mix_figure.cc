// draw_mix_figure (mixture.h): the paper's Figure 2 view of mixtures side by side.
#include <fmt/format.h>

#include "core/units.h"

#include "mix/mixture.h"
#include "plot/charts.h"

namespace longctx {

std::string mix_domains_figure_path(const std::string& path) {
  size_t dot = path.find_last_of('.');
  return dot == std::string::npos ? path + "-domains" : path.substr(0, dot) + "-domains" + path.substr(dot);
}

std::string long_share_title(uint64_t long_threshold) {
  return fmt::format("Share of each domain's tokens in documents longer than {} tokens", format_length(long_threshold));
}

Status draw_mix_figure(const std::vector<MixReport>& reports, const std::vector<std::string>& names, bool with_before,
                       const std::string& path) {
  if (reports.empty()) return make_error(ErrorCode::kInvalidArgument, "mixture figure: no reports");
  const MixReport& r0 = reports[0];
  auto short_name = [](const std::string& n) { return n.rfind("RedPajama", 0) == 0 && n.size() > 9 ? n.substr(9) : n; };
  plot::BarChartConfig lc, dc;
  for (const auto& s : r0.after) {
    lc.categories.push_back(short_name(s.name));
    dc.categories.push_back(short_name(s.name));
  }
  auto add = [&](const std::string& name, const std::vector<MixSide>& side) -> Status {
    if (side.size() != r0.after.size()) return make_error(ErrorCode::kInvalidArgument, "mixture figure: '{}' has other domains", name);
    plot::BarSeries l{name, {}, std::nullopt}, d{name, {}, std::nullopt};
    for (size_t i = 0; i < side.size(); ++i) {
      if (side[i].name != r0.after[i].name)
        return make_error(ErrorCode::kInvalidArgument, "mixture figure: '{}' domain {} is {}, expected {}", name, i, side[i].name, r0.after[i].name);
      l.values.push_back(side[i].long_share);
      d.values.push_back(side[i].token_share);
    }
    lc.series.push_back(std::move(l));
    dc.series.push_back(std::move(d));
    return Status::ok();
  };
  if (with_before) LONGCTX_RETURN_IF_ERROR(add("store (before)", r0.before));
  for (size_t i = 0; i < reports.size(); ++i) LONGCTX_RETURN_IF_ERROR(add(i < names.size() ? names[i] : reports[i].title, reports[i].after));
  lc.title = long_share_title(r0.long_threshold);
  lc.y_label = "share of the domain's tokens";
  dc.title = "Domain token shares";
  dc.y_label = "share of all tokens";
  lc.value_format = dc.value_format = plot::TickFormat::kPercent;
  lc.style = dc.style = plot::sized_style(1100, 560);
  LONGCTX_RETURN_IF_ERROR(plot::render_bar_chart(lc, path));
  return plot::render_bar_chart(dc, mix_domains_figure_path(path));
}

}  // namespace longctx
