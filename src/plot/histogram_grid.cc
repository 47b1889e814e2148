// Small-multiple histograms: one panel per domain over shared length buckets (the corpus's
// domain x length distribution, paper Figure 2).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/units.h"
#include "plot/charts.h"
#include "plot/draw.h"

namespace longctx::plot {
using namespace detail;

std::vector<std::string> length_bucket_labels(const std::vector<uint64_t>& edges) {
  // {number, unit suffix} of a length written as format_length writes it ("1.5K" -> {"1.5", "K"}),
  // so that a range in one unit is written "1-2K".
  auto split = [](uint64_t v) -> std::pair<std::string, std::string> {
    std::string s = format_length(v);
    if (s.back() == 'K' || s.back() == 'M') return {s.substr(0, s.size() - 1), s.substr(s.size() - 1)};
    return {s, ""};
  };
  std::vector<std::string> out;
  if (edges.empty()) return {"all"};
  auto [n0, u0] = split(edges.front());
  out.push_back("<" + n0 + u0);
  for (size_t i = 0; i + 1 < edges.size(); ++i) {
    auto [a, ua] = split(edges[i]);
    auto [b, ub] = split(edges[i + 1]);
    out.push_back(ua == ub ? a + "-" + b + ub : a + ua + "-" + b + ub);
  }
  auto [nl, ul] = split(edges.back());
  out.push_back(">" + nl + ul);
  return out;
}

namespace {

Status validate(const HistogramGridConfig& c) {
  if (c.bucket_labels.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "histogram grid '{}': no buckets", c.title);
  }
  if (c.panels.empty()) return make_error(ErrorCode::kInvalidArgument, "histogram grid '{}': no panels", c.title);
  for (const auto& p : c.panels) {
    if (p.values.size() != c.bucket_labels.size()) {
      return make_error(ErrorCode::kInvalidArgument, "histogram grid '{}': panel '{}' has {} values for {} buckets",
                        c.title, p.name, p.values.size(), c.bucket_labels.size());
    }
    for (size_t i = 0; i < p.values.size(); ++i) {
      if (!std::isfinite(p.values[i]) || p.values[i] < 0) {
        return make_error(ErrorCode::kInvalidArgument,
                          "histogram grid '{}': panel '{}' bucket {} = {} (need a finite value >= 0)", c.title,
                          p.name, i, p.values[i]);
      }
    }
  }
  return Status::ok();
}

}  // namespace

Status render_histogram_grid(const HistogramGridConfig& c, const std::string& path) {
  LONGCTX_RETURN_IF_ERROR(validate(c));
  const size_t np = c.panels.size(), nb = c.bucket_labels.size();
  const size_t ncols = c.columns > 0 ? c.columns : static_cast<size_t>(std::ceil(std::sqrt(double(np))));
  const size_t nrows = (np + ncols - 1) / ncols;

  // vals[p][b]: plotted value (share of the panel's total when normalizing).
  std::vector<std::vector<double>> vals(np);
  double global_max = 0;
  for (size_t p = 0; p < np; ++p) {
    vals[p] = c.panels[p].values;
    if (c.normalize) {
      double sum = 0;
      for (double v : vals[p]) sum += v;
      if (sum > 0) {
        for (double& v : vals[p]) v /= sum;
      }
    }
    for (double v : vals[p]) global_max = std::max(global_max, v);
  }
  std::vector<Axis> axes(np);
  for (size_t p = 0; p < np; ++p) {
    double m = c.shared_y ? global_max : *std::max_element(vals[p].begin(), vals[p].end());
    LONGCTX_ASSIGN_OR_RETURN(axes[p], make_axis(0, m, AxisScale::kLinear, c.value_format, 0.0, std::nullopt, 5));
  }

  const ChartStyle& st = c.style;
  LONGCTX_ASSIGN_OR_RETURN(auto canvas, Canvas::create(path, st, c.title));
  cairo_t* cr = canvas->cr();
  set_font(cr, st, st.tick_size);
  double tick_w = 0;
  for (const auto& a : axes) tick_w = std::max(tick_w, max_text_width(cr, tick_labels(a)));

  double top = std::round(pick(st.margins.top, title_band(st, c.title)));
  double left = std::round(pick(st.margins.left, c.y_label.empty() ? 12 : st.label_size + 22));
  double right = std::round(pick(st.margins.right, 16));
  double bottom = std::round(pick(st.margins.bottom, c.x_label.empty() ? 10 : st.label_size + 22));
  Rect grid{left, top, st.width - left - right, st.height - top - bottom};
  const double cell_w = grid.w / ncols, cell_h = grid.h / nrows;
  // Inside each cell: panel title band, value labels on the left, bucket labels below.
  const double title_h = st.legend_size * 1.3 + 10;
  const double inset_l = tick_w + 12, inset_r = 12;
  const double slot = (cell_w - inset_l - inset_r) / nb;
  const double label_h = category_labels_height(cr, st, c.bucket_labels, slot, st.tick_size - 1);
  Rect first{grid.x + inset_l, grid.y + title_h, cell_w - inset_l - inset_r, cell_h - title_h - label_h - 10};
  if (first.w < 10 || first.h < 10) {
    return make_error(ErrorCode::kInvalidArgument,
                      "histogram grid '{}': {}x{} is too small for {} panels of {} buckets", c.title, st.width,
                      st.height, np, nb);
  }

  for (size_t p = 0; p < np; ++p) {
    size_t row = p / ncols, col = p % ncols;
    Rect plot = first;
    plot.x = std::round(first.x + col * cell_w);
    plot.y = std::round(first.y + row * cell_h);
    const Axis& a = axes[p];
    draw_y_axis(cr, st, a, plot);
    Rgb color = c.panels[p].color.value_or(palette_color(p));
    set_color(cr, color);
    double g = plot.w / nb, bw = g * 0.8;
    for (size_t b = 0; b < nb; ++b) {
      double top_y = plot.bottom() - a.to_unit(vals[p][b]) * plot.h;
      cairo_rectangle(cr, plot.x + b * g + (g - bw) / 2, top_y, bw, plot.bottom() - top_y);
    }
    cairo_fill(cr);
    draw_axis_lines(cr, st, plot);
    draw_category_labels(cr, st, c.bucket_labels, plot, st.tick_size - 1);
    set_font(cr, st, st.legend_size, true);
    set_color(cr, st.text_color);
    draw_text(cr, c.panels[p].name, plot.x, plot.y - 10, HAlign::kLeft, VAlign::kBottom);
  }
  if (!c.x_label.empty()) {
    set_font(cr, st, st.label_size);
    set_color(cr, st.text_color);
    draw_text(cr, c.x_label, grid.x + grid.w / 2, st.height - 12, HAlign::kCenter, VAlign::kBottom);
  }
  if (!c.y_label.empty()) {
    set_font(cr, st, st.label_size);
    set_color(cr, st.text_color);
    draw_text(cr, c.y_label, 12, grid.y + grid.h / 2, HAlign::kCenter, VAlign::kTop, -M_PI / 2);
  }
  draw_title(cr, st, c.title, grid);
  return canvas->finish();
}

}  // namespace longctx::plot
