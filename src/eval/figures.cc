#include "eval/figures.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace longctx::eval {

namespace {
std::string k_label(int64_t tokens) {
  double k = static_cast<double>(tokens) / 1000.0;
  return std::fabs(k - std::round(k)) < 0.05 ? fmt::format("{:.0f}K", k) : fmt::format("{:.1f}K", k);
}
}  // namespace

plot::HeatmapConfig needle_heatmap(const NeedleConfig& cfg, const SweepSummary& s, const std::string& name,
                                   std::optional<double> train_length) {
  plot::HeatmapConfig h;
  h.rows = cfg.depths.size();
  h.cols = cfg.lengths.size();
  h.values.assign(h.rows * h.cols, std::numeric_limits<double>::quiet_NaN());
  for (const auto& c : s.cells) {
    if (c.skipped) continue;
    for (size_t r = 0; r < h.rows; ++r)
      for (size_t col = 0; col < h.cols; ++col)
        if (cfg.depths[r] == c.depth && cfg.lengths[col] == c.length) h.values[r * h.cols + col] = c.score;
  }
  for (int64_t L : cfg.lengths) h.x_labels.push_back(k_label(L));
  for (double d : cfg.depths) h.y_labels.push_back(fmt::format("{:g}", d));
  h.title = fmt::format("{} {}: mean score {:.3f} ({} cells{})", name, task_name(cfg.task), s.mean_score, s.measured,
                        s.skipped ? fmt::format(", {} skipped", s.skipped) : "");
  h.x_label = "context length (tokens)";
  h.y_label = "depth (%)";
  h.colorbar_label = "score";
  h.scale = plot::needle_color_scale();
  if (train_length) {
    std::vector<double> xs(cfg.lengths.begin(), cfg.lengths.end());
    h.marker_column = plot::heatmap_column_position(xs, *train_length);
    h.marker_label = k_label(static_cast<int64_t>(*train_length)) + " (train)";
  }
  return h;
}

Status render_needle_heatmap(const NeedleConfig& cfg, const SweepSummary& s, const std::string& name,
                             std::optional<double> train_length, const std::string& stem) {
  plot::HeatmapConfig h = needle_heatmap(cfg, s, name, train_length);
  LONGCTX_RETURN_IF_ERROR(plot::render_heatmap(h, stem + ".png"));
  return plot::render_heatmap(h, stem + ".svg");
}

Status render_needle_compare(const std::vector<NeedleConfig>& cfgs, const std::vector<SweepSummary>& runs,
                             const std::vector<std::string>& names, std::optional<double> train_length,
                             const std::string& path) {
  plot::HeatmapGridConfig g;
  g.title = "Needle in a haystack";
  for (size_t i = 0; i < runs.size(); ++i) g.panels.push_back(needle_heatmap(cfgs[i], runs[i], names[i], train_length));
  return plot::render_heatmap_grid(g, path);
}

Status render_loss_curves(const std::vector<LossEvalResult>& results, const std::vector<std::string>& names,
                          const std::string& path) {
  plot::LineChartConfig lc;
  lc.title = "Loss against context position";
  lc.x_label = "position (upper edge of the bucket, tokens)";
  lc.y_label = "mean loss (nats)";
  lc.x_scale = plot::AxisScale::kLog2;
  for (size_t i = 0; i < results.size(); ++i) {
    plot::LineSeries s;
    s.name = names[i];
    for (const auto& b : results[i].buckets) {
      if (b.count == 0) continue;
      s.x.push_back(static_cast<double>(b.hi));
      s.y.push_back(b.mean());
    }
    if (!s.x.empty()) lc.series.push_back(std::move(s));
  }
  if (lc.series.empty()) return make_error(ErrorCode::kInvalidArgument, "no loss positions to plot");
  return plot::render_line_chart(lc, path);
}

Status render_loss_difference(const LossDiffTable& t, const std::string& path) {
  plot::HeatmapConfig h;
  h.rows = t.rows.size();
  h.cols = 2;
  if (h.rows == 0) return make_error(ErrorCode::kInvalidArgument, "the loss difference table has no domains");
  // Marks as values on a three-colour scale: worse 0 (red), no difference 0.5 (grey), better 1.
  h.scale.stops = {{0.0, plot::rgb_from_hex(0xF0496E)}, {0.5, plot::rgb_from_hex(0xBDBDBD)},
                   {1.0, plot::rgb_from_hex(0x0CD79F)}};
  auto value = [](LossMark m) {
    return m == LossMark::kWorse ? 0.0 : m == LossMark::kBetter ? 1.0 : m == LossMark::kNone ? 0.5
                                                                           : std::numeric_limits<double>::quiet_NaN();
  };
  auto text = [](double d) { return std::isnan(d) ? std::string("-") : fmt::format("{:+.3f}", d); };
  for (const auto& r : t.rows) {
    h.y_labels.push_back(r.domain);
    h.values.push_back(value(r.mark_before));
    h.values.push_back(value(r.mark_after));
    h.cell_text.push_back(text(r.diff_before));
    h.cell_text.push_back(text(r.diff_after));
  }
  std::string a = t.split % 1024 == 0 ? fmt::format("{}K", t.split / 1024) : std::to_string(t.split);
  h.x_labels = {"0-" + a, a + "-N"};
  h.annotate = true;
  h.colorbar = false;
  h.title = fmt::format("Loss difference: {} - {}", t.model, t.baseline);
  h.x_label = fmt::format("token positions (|d| > {} marked)", t.threshold);
  h.style = plot::sized_style(620, 120 + 34.0 * static_cast<double>(h.rows));
  h.style.annotation_size = 13;
  return plot::render_heatmap(h, path);
}

}  // namespace longctx::eval
