// Line charts: loss against tokens trained, memory or speed against sequence length.
#include <algorithm>
#include <cmath>
#include <limits>

#include "plot/charts.h"
#include "plot/draw.h"

namespace longctx::plot {
using namespace detail;

namespace {

Status validate(const LineChartConfig& c) {
  if (c.series.empty()) return make_error(ErrorCode::kInvalidArgument, "line chart '{}': no series", c.title);
  for (const auto& s : c.series) {
    if (s.x.size() != s.y.size()) {
      return make_error(ErrorCode::kInvalidArgument, "line chart '{}': series '{}' has {} x and {} y values",
                        c.title, s.name, s.x.size(), s.y.size());
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        return make_error(ErrorCode::kInvalidArgument, "line chart '{}': series '{}' point {} is not finite",
                          c.title, s.name, i);
      }
      if ((c.x_scale != AxisScale::kLinear && !(s.x[i] > 0)) || (c.y_scale != AxisScale::kLinear && !(s.y[i] > 0))) {
        return make_error(ErrorCode::kInvalidArgument,
                          "line chart '{}': series '{}' point {} = ({}, {}) is not positive on a log axis",
                          c.title, s.name, i, s.x[i], s.y[i]);
      }
    }
  }
  return Status::ok();
}

}  // namespace

Status render_line_chart(const LineChartConfig& c, const std::string& path) {
  LONGCTX_RETURN_IF_ERROR(validate(c));
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double xlo = kInf, xhi = -kInf, ylo = kInf, yhi = -kInf;
  for (const auto& s : c.series) {
    for (size_t i = 0; i < s.x.size(); ++i) {
      xlo = std::min(xlo, s.x[i]);
      xhi = std::max(xhi, s.x[i]);
      ylo = std::min(ylo, s.y[i]);
      yhi = std::max(yhi, s.y[i]);
    }
  }
  if (xlo > xhi) {  // no points at all
    xlo = c.x_scale == AxisScale::kLinear ? 0 : 1, xhi = xlo + 1;
    ylo = c.y_scale == AxisScale::kLinear ? 0 : 1, yhi = ylo + 1;
  }
  if (c.y_include_zero && c.y_scale == AxisScale::kLinear) {
    ylo = std::min(ylo, 0.0);
    yhi = std::max(yhi, 0.0);
  }
  LONGCTX_ASSIGN_OR_RETURN(Axis xa, make_axis(xlo, xhi, c.x_scale, c.x_format, c.x_min, c.x_max, 7));
  LONGCTX_ASSIGN_OR_RETURN(Axis ya, make_axis(ylo, yhi, c.y_scale, c.y_format, c.y_min, c.y_max, 6));

  const ChartStyle& st = c.style;
  LONGCTX_ASSIGN_OR_RETURN(auto canvas, Canvas::create(path, st, c.title));
  cairo_t* cr = canvas->cr();
  std::vector<std::string> names;
  std::vector<Rgb> colors;
  std::vector<bool> dashed, markers;
  for (size_t s = 0; s < c.series.size(); ++s) {
    names.push_back(c.series[s].name);
    colors.push_back(c.series[s].color.value_or(palette_color(s)));
    dashed.push_back(c.series[s].dashed);
    markers.push_back(c.series[s].markers);
  }
  const bool legend = c.legend && c.series.size() >= 2;
  set_font(cr, st, st.tick_size);
  double tick_w = max_text_width(cr, tick_labels(ya));
  double lh = line_height(cr);
  double y_label_offset = tick_w + 17 + st.label_size;
  // Half the widest x tick label may hang past the plot's right edge.
  double x_overhang = max_text_width(cr, tick_labels(xa)) / 2;
  double top = std::round(pick(st.margins.top, title_band(st, c.title)));
  double right = std::round(pick(st.margins.right, legend ? legend_width(cr, st, names) + 40 : std::max(24.0, x_overhang + 8)));
  double left = std::round(pick(st.margins.left, (c.y_label.empty() ? tick_w + 9 : y_label_offset) + 14));
  double bottom = std::round(pick(st.margins.bottom, lh + 12 + (c.x_label.empty() ? 0 : st.label_size + 14) + 12));
  Rect plot{left, top, st.width - left - right, st.height - top - bottom};
  if (plot.w < 10 || plot.h < 10) {
    return make_error(ErrorCode::kInvalidArgument, "line chart '{}': {}x{} leaves no room to plot", c.title,
                      st.width, st.height);
  }
  draw_y_axis(cr, st, ya, plot);
  draw_x_axis(cr, st, xa, plot);
  auto px = [&](double x) { return plot.x + xa.to_unit(x) * plot.w; };
  auto py = [&](double y) { return plot.bottom() - ya.to_unit(y) * plot.h; };

  cairo_save(cr);
  cairo_rectangle(cr, plot.x - 4, plot.y - 4, plot.w + 8, plot.h + 8);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  for (size_t s = 0; s < c.series.size(); ++s) {
    const auto& ser = c.series[s];
    if (ser.x.empty()) continue;
    set_color(cr, colors[s]);
    cairo_set_line_width(cr, c.line_width);
    if (ser.dashed) {
      double d[] = {6, 4};
      cairo_set_dash(cr, d, 2, 0);
    }
    cairo_move_to(cr, px(ser.x[0]), py(ser.y[0]));
    for (size_t i = 1; i < ser.x.size(); ++i) cairo_line_to(cr, px(ser.x[i]), py(ser.y[i]));
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    if (ser.markers) {
      double r = std::max(2.5, c.line_width * 1.5);
      for (size_t i = 0; i < ser.x.size(); ++i) {
        cairo_new_sub_path(cr);
        cairo_arc(cr, px(ser.x[i]), py(ser.y[i]), r, 0, 2 * M_PI);
      }
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);
  draw_axis_lines(cr, st, plot);
  draw_x_label(cr, st, c.x_label, plot, lh + 20);
  draw_y_label(cr, st, c.y_label, plot, y_label_offset);
  if (legend) draw_legend(cr, st, names, colors, plot.right() + 20, plot.y, LegendMark::kLine, dashed, markers);
  draw_title(cr, st, c.title, plot);
  return canvas->finish();
}

}  // namespace longctx::plot
