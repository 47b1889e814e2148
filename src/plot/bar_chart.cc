// Grouped and stacked bar charts (layout contract in charts.h, BarChartConfig).
#include <algorithm>
#include <cmath>

#include "plot/charts.h"
#include "plot/draw.h"

namespace longctx::plot {
using namespace detail;

namespace {

Status validate(const BarChartConfig& c) {
  if (c.categories.empty()) return make_error(ErrorCode::kInvalidArgument, "bar chart '{}': no categories", c.title);
  if (c.series.empty()) return make_error(ErrorCode::kInvalidArgument, "bar chart '{}': no series", c.title);
  for (size_t s = 0; s < c.series.size(); ++s) {
    const auto& v = c.series[s].values;
    if (v.size() != c.categories.size()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "bar chart '{}': series '{}' has {} values, expected one per category ({})",
                        c.title, c.series[s].name, v.size(), c.categories.size());
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (!std::isfinite(v[i])) {
        return make_error(ErrorCode::kInvalidArgument, "bar chart '{}': series '{}' value {} is not finite",
                          c.title, c.series[s].name, i);
      }
    }
  }
  if (!(c.bar_width_fraction > 0 && c.bar_width_fraction <= 1)) {
    return make_error(ErrorCode::kInvalidArgument, "bar chart '{}': bar_width_fraction {} outside (0, 1]",
                      c.title, c.bar_width_fraction);
  }
  return Status::ok();
}

// The value printed on a bar: a grouped bar gets two more decimals than the axis labels (small
// before/after differences must show: "52.1%" vs "51.7%"), a stacked segment one more.
std::string value_text(double v, const Axis& a, BarMode mode) {
  return format_tick(v, a.ticks.step / (mode == BarMode::kGrouped ? 100 : 10), a.format);
}

}  // namespace

Status render_bar_chart(const BarChartConfig& c, const std::string& path) {
  LONGCTX_RETURN_IF_ERROR(validate(c));
  const size_t nc = c.categories.size(), ns = c.series.size();
  // vals[s][i]: the plotted value of series s in category i.
  std::vector<std::vector<double>> vals(ns);
  for (size_t s = 0; s < ns; ++s) vals[s] = c.series[s].values;
  if (c.normalize_per_category) {
    for (size_t i = 0; i < nc; ++i) {
      double sum = 0;
      for (size_t s = 0; s < ns; ++s) sum += vals[s][i];
      if (sum != 0) {
        for (size_t s = 0; s < ns; ++s) vals[s][i] /= sum;
      }
    }
  }
  double lo = 0, hi = 0;
  for (size_t i = 0; i < nc; ++i) {
    double pos = 0, neg = 0;
    for (size_t s = 0; s < ns; ++s) {
      double v = vals[s][i];
      if (c.mode == BarMode::kStacked) {
        (v >= 0 ? pos : neg) += v;
      } else {
        pos = std::max(pos, v);
        neg = std::min(neg, v);
      }
    }
    hi = std::max(hi, pos);
    lo = std::min(lo, neg);
  }
  LONGCTX_ASSIGN_OR_RETURN(Axis axis, make_axis(lo, hi, AxisScale::kLinear, c.value_format, c.y_min, c.y_max));

  const ChartStyle& st = c.style;
  LONGCTX_ASSIGN_OR_RETURN(auto canvas, Canvas::create(path, st, c.title));
  cairo_t* cr = canvas->cr();

  std::vector<std::string> names;
  std::vector<Rgb> colors;
  for (size_t s = 0; s < ns; ++s) {
    names.push_back(c.series[s].name);
    colors.push_back(c.series[s].color.value_or(palette_color(s)));
  }
  const bool legend = c.legend && ns >= 2;
  set_font(cr, st, st.tick_size);
  double tick_w = max_text_width(cr, tick_labels(axis));
  double y_label_offset = tick_w + 17 + st.label_size;
  Rect plot;
  double top = std::round(pick(st.margins.top, title_band(st, c.title)));
  double right = std::round(pick(st.margins.right, legend ? legend_width(cr, st, names) + 40 : 24));
  double left = std::round(pick(st.margins.left, (c.y_label.empty() ? tick_w + 9 : y_label_offset) + 14));
  double slot = (st.width - left - right) / nc;
  if (st.margins.left < 0 && category_labels_rotated(cr, st, c.categories, slot, st.tick_size)) {
    // A 45-degree label ends at its slot centre and reaches back left by width / sqrt(2).
    set_font(cr, st, st.tick_size);
    left = std::max(left, std::round(text_width(cr, c.categories[0]) * std::sqrt(0.5) - slot / 2 + 10));
    slot = (st.width - left - right) / nc;
  }
  double cat_h = category_labels_height(cr, st, c.categories, slot, st.tick_size);
  double bottom = std::round(pick(st.margins.bottom, cat_h + (c.x_label.empty() ? 0 : st.label_size + 14) + 14));
  plot = {left, top, st.width - left - right, st.height - top - bottom};
  if (plot.w < 10 || plot.h < 10) {
    return make_error(ErrorCode::kInvalidArgument, "bar chart '{}': {}x{} leaves no room to plot", c.title,
                      st.width, st.height);
  }

  draw_y_axis(cr, st, axis, plot);
  auto y_of = [&](double v) { return plot.bottom() - axis.to_unit(v) * plot.h; };
  const double g = plot.w / nc;
  const double group_w = g * c.bar_width_fraction;
  cairo_save(cr);
  cairo_rectangle(cr, plot.x, plot.y, plot.w, plot.h);
  cairo_clip(cr);
  for (size_t i = 0; i < nc; ++i) {
    double x0 = plot.x + i * g + (g - group_w) / 2;
    double pos = 0, neg = 0;
    for (size_t s = 0; s < ns; ++s) {
      double v = vals[s][i];
      double bx, bw, a, b;  // bar spans values [a, b]
      if (c.mode == BarMode::kGrouped) {
        bw = group_w / ns;
        bx = x0 + s * bw;
        a = std::min(0.0, v);
        b = std::max(0.0, v);
      } else {
        bw = group_w;
        bx = x0;
        double& base = v >= 0 ? pos : neg;
        a = std::min(base, base + v);
        b = std::max(base, base + v);
        base += v;
      }
      double ya = y_of(a), yb = y_of(b);
      set_color(cr, colors[s]);
      cairo_rectangle(cr, bx, yb, bw, ya - yb);
      cairo_fill(cr);
      if (c.mode == BarMode::kStacked && ns > 1 && v != 0) {
        // Thin separators between stacked segments.
        set_color(cr, st.background);
        cairo_set_line_width(cr, 1.0);
        cairo_move_to(cr, bx, v >= 0 ? yb : ya);
        cairo_line_to(cr, bx + bw, v >= 0 ? yb : ya);
        cairo_stroke(cr);
      }
    }
  }
  cairo_restore(cr);
  if (axis.lo < 0 && axis.hi > 0) {
    set_color(cr, st.axis_color);
    cairo_set_line_width(cr, 1.0);
    double y0 = std::floor(y_of(0)) + 0.5;
    cairo_move_to(cr, plot.x, y0);
    cairo_line_to(cr, plot.right(), y0);
    cairo_stroke(cr);
  }
  if (c.show_values) {
    set_font(cr, st, st.annotation_size);
    // Grouped labels are all-or-none: when one does not fit over its bar, none is drawn.
    bool grouped_fit = true;
    for (size_t i = 0; i < nc && c.mode == BarMode::kGrouped && ns > 1; ++i) {
      for (size_t s = 0; s < ns; ++s) {
        grouped_fit &= text_width(cr, value_text(vals[s][i], axis, c.mode)) <= group_w / ns + 2;
      }
    }
    for (size_t i = 0; i < nc; ++i) {
      double x0 = plot.x + i * g + (g - group_w) / 2;
      double pos = 0, neg = 0;
      for (size_t s = 0; s < ns; ++s) {
        double v = vals[s][i];
        std::string t = value_text(v, axis, c.mode);
        if (c.mode == BarMode::kGrouped) {
          double bw = group_w / ns;
          if (!grouped_fit) continue;
          set_color(cr, st.text_color);
          double y = y_of(v);
          draw_text(cr, t, x0 + (s + 0.5) * bw, v >= 0 ? y - 3 : y + 3, HAlign::kCenter,
                    v >= 0 ? VAlign::kBottom : VAlign::kTop);
        } else {
          double& base = v >= 0 ? pos : neg;
          double ya = y_of(base), yb = y_of(base + v);
          base += v;
          if (std::fabs(ya - yb) < st.annotation_size + 4 || text_width(cr, t) > group_w - 4) continue;
          set_color(cr, relative_luminance(colors[s]) > 0.35 ? st.text_color : rgb_from_hex(0xFFFFFF));
          draw_text(cr, t, x0 + group_w / 2, (ya + yb) / 2, HAlign::kCenter, VAlign::kMiddle);
        }
      }
    }
  }
  draw_axis_lines(cr, st, plot);
  draw_category_labels(cr, st, c.categories, plot, st.tick_size);
  draw_x_label(cr, st, c.x_label, plot, cat_h + 6);
  draw_y_label(cr, st, c.y_label, plot, y_label_offset);
  if (legend) {
    // Stacked: list top-down in the order segments appear from the top.
    std::vector<std::string> ln = names;
    std::vector<Rgb> lc = colors;
    if (c.mode == BarMode::kStacked) {
      std::reverse(ln.begin(), ln.end());
      std::reverse(lc.begin(), lc.end());
    }
    draw_legend(cr, st, ln, lc, plot.right() + 20, plot.y, LegendMark::kBox);
  }
  draw_title(cr, st, c.title, plot);
  return canvas->finish();
}

}  // namespace longctx::plot
