// The needle-in-a-haystack heatmap (paper.md "Needle in a haystack"): depth (rows) x context
// length (columns), values 0..1 on the red-yellow-green scale, with a colour bar and an optional
// dashed marker at the continual-pretraining length.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "plot/charts.h"
#include "plot/draw.h"

namespace longctx::plot {
using namespace detail;

double heatmap_column_position(const std::vector<double>& v, double x) {
  const size_t n = v.size();
  if (n == 0) return 0;
  if (n == 1) return 0.5;
  double pos;
  if (x <= v[0]) {
    pos = 0.5 - (v[0] - x) / (v[1] - v[0]);
  } else if (x >= v[n - 1]) {
    pos = n - 0.5 + (x - v[n - 1]) / (v[n - 1] - v[n - 2]);
  } else {
    size_t i = 1;
    while (v[i] < x) ++i;
    pos = (i - 1) + 0.5 + (x - v[i - 1]) / (v[i] - v[i - 1]);
  }
  return std::clamp(pos, 0.0, static_cast<double>(n));
}

namespace {

Status validate(const HeatmapConfig& c) {
  if (c.rows == 0 || c.cols == 0) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': {}x{} cells", c.title, c.rows, c.cols);
  }
  if (c.values.size() != c.rows * c.cols) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': {} values, expected rows*cols = {}",
                      c.title, c.values.size(), c.rows * c.cols);
  }
  if (!c.x_labels.empty() && c.x_labels.size() != c.cols) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': {} x labels for {} columns", c.title,
                      c.x_labels.size(), c.cols);
  }
  if (!c.cell_text.empty() && c.cell_text.size() != c.rows * c.cols) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': {} cell texts for {} cells", c.title,
                      c.cell_text.size(), c.rows * c.cols);
  }
  if (!c.y_labels.empty() && c.y_labels.size() != c.rows) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': {} y labels for {} rows", c.title,
                      c.y_labels.size(), c.rows);
  }
  if (c.marker_column && !(*c.marker_column >= 0 && *c.marker_column <= c.cols)) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': marker column {} outside [0, {}]", c.title,
                      *c.marker_column, c.cols);
  }
  return validate_color_scale(c.scale).with_context(fmt::format("heatmap '{}'", c.title));
}

// Smallest k such that every k-th label fits in k slots of `slot` units.
size_t label_stride(cairo_t* cr, const std::vector<std::string>& labels, double slot, double pad) {
  double w = max_text_width(cr, labels);
  size_t k = 1;
  while (k < labels.size() && w + pad > slot * k) ++k;
  return k;
}

constexpr double kBarGap = 22, kBarWidth = 16;

}  // namespace

namespace {

// Draws one heatmap in the box [0, style.width] x [0, style.height] of the current cairo
// transformation (render_heatmap: the whole picture; render_heatmap_grid: one panel).
Status draw_heatmap(cairo_t* cr, const HeatmapConfig& c) {
  const ChartStyle& st = c.style;

  const double v0 = c.scale.stops.front().value, v1 = c.scale.stops.back().value;
  Axis bar_axis;
  if (v1 > v0) {
    LONGCTX_ASSIGN_OR_RETURN(bar_axis, make_axis(v0, v1, AxisScale::kLinear, c.colorbar_format, v0, v1, 6));
  }
  set_font(cr, st, st.tick_size);
  double bar_tick_w = v1 > v0 ? max_text_width(cr, tick_labels(bar_axis)) : 0;
  double y_tick_w = max_text_width(cr, c.y_labels);
  double lh = line_height(cr);
  double y_label_offset = y_tick_w + 17 + st.label_size;

  double top = std::round(pick(st.margins.top, title_band(st, c.title) + (c.marker_label.empty() ? 0 : lh + 6)));
  double right = std::round(pick(st.margins.right, !c.colorbar ? 14.0 : kBarGap + kBarWidth + 8 + bar_tick_w +
                                                       (c.colorbar_label.empty() ? 0 : st.label_size + 14) + 14));
  double left = std::round(pick(st.margins.left, (c.y_label.empty() ? y_tick_w + 9 : y_label_offset) + 14));
  double bottom = std::round(pick(st.margins.bottom, lh + 12 + (c.x_label.empty() ? 0 : st.label_size + 14) + 12));
  Rect plot{left, top, st.width - left - right, st.height - top - bottom};
  if (plot.w < 10 || plot.h < 10) {
    return make_error(ErrorCode::kInvalidArgument, "heatmap '{}': {}x{} leaves no room to plot", c.title,
                      st.width, st.height);
  }
  const double cw = plot.w / c.cols, ch = plot.h / c.rows;

  // Cells without antialiasing, each reaching 1 unit under its right and lower neighbours (drawn
  // later): no seams between equal colours (SVG viewers antialias each rectangle on its own).
  cairo_save(cr);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  const Rgb missing = rgb_from_hex(0xD9D9D9);
  for (size_t r = 0; r < c.rows; ++r) {
    for (size_t col = 0; col < c.cols; ++col) {
      double v = c.values[r * c.cols + col];
      set_color(cr, std::isnan(v) ? missing : color_scale_at(c.scale, v));
      double ox = col + 1 < c.cols ? 1.0 : 0, oy = r + 1 < c.rows ? 1.0 : 0;
      cairo_rectangle(cr, plot.x + col * cw, plot.y + r * ch, cw + ox, ch + oy);
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);

  if (c.annotate) {
    set_font(cr, st, st.annotation_size);
    for (size_t r = 0; r < c.rows; ++r) {
      for (size_t col = 0; col < c.cols; ++col) {
        double v = c.values[r * c.cols + col];
        if (std::isnan(v)) continue;
        std::string t = !c.cell_text.empty() ? c.cell_text[r * c.cols + col]
                                             : fmt::format("{:.{}f}", v, std::clamp(c.annotation_decimals, 0, 6));
        if (text_width(cr, t) > cw - 2 || st.annotation_size > ch - 2) continue;
        Rgb fill = color_scale_at(c.scale, v);
        set_color(cr, relative_luminance(fill) > 0.3 ? st.text_color : rgb_from_hex(0xFFFFFF));
        draw_text(cr, t, plot.x + (col + 0.5) * cw, plot.y + (r + 0.5) * ch, HAlign::kCenter, VAlign::kMiddle);
      }
    }
  }

  if (c.marker_column) {
    double x = plot.x + *c.marker_column * cw;
    set_color(cr, rgb_from_hex(0xFFFFFF));
    cairo_set_line_width(cr, 2.0);
    double dash[] = {6, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, x, plot.y);
    cairo_line_to(cr, x, plot.bottom());
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    if (!c.marker_label.empty()) {
      set_font(cr, st, st.tick_size);
      set_color(cr, st.text_color);
      draw_text(cr, c.marker_label, x, plot.y - 5, HAlign::kCenter, VAlign::kBottom);
    }
  }

  // Row and column labels.
  set_font(cr, st, st.tick_size);
  set_color(cr, st.text_color);
  if (!c.y_labels.empty()) {
    size_t every = std::max<size_t>(1, static_cast<size_t>(std::ceil((lh + 2) / ch)));
    for (size_t r = 0; r < c.rows; r += every) {
      draw_text(cr, c.y_labels[r], plot.x - 7, plot.y + (r + 0.5) * ch, HAlign::kRight, VAlign::kMiddle);
    }
  }
  if (!c.x_labels.empty()) {
    size_t every = c.x_label_every > 0 ? c.x_label_every : label_stride(cr, c.x_labels, cw, 8);
    for (size_t col = 0; col < c.cols; col += every) {
      double x = plot.x + (col + 0.5) * cw;
      set_color(cr, st.axis_color);
      cairo_set_line_width(cr, 1.0);
      cairo_move_to(cr, std::floor(x) + 0.5, plot.bottom());
      cairo_line_to(cr, std::floor(x) + 0.5, plot.bottom() + 4);
      cairo_stroke(cr);
      set_color(cr, st.text_color);
      draw_text(cr, c.x_labels[col], x, plot.bottom() + 8, HAlign::kCenter, VAlign::kTop);
    }
  }
  draw_x_label(cr, st, c.x_label, plot, lh + 16);
  draw_y_label(cr, st, c.y_label, plot, y_label_offset);

  // Colour bar: the scale's stops as a vertical gradient, first stop at the bottom.
  Rect bar{plot.right() + kBarGap, plot.y, kBarWidth, plot.h};
  if (v1 > v0 && c.colorbar) {
    cairo_pattern_t* grad = cairo_pattern_create_linear(0, bar.bottom(), 0, bar.y);
    for (const auto& s : c.scale.stops) {
      cairo_pattern_add_color_stop_rgb(grad, (s.value - v0) / (v1 - v0), s.color.r, s.color.g, s.color.b);
    }
    cairo_rectangle(cr, bar.x, bar.y, bar.w, bar.h);
    cairo_set_source(cr, grad);
    cairo_fill(cr);
    cairo_pattern_destroy(grad);
    auto labels = tick_labels(bar_axis);
    set_font(cr, st, st.tick_size);
    for (size_t i = 0; i < bar_axis.ticks.values.size(); ++i) {
      double y = bar.bottom() - bar_axis.to_unit(bar_axis.ticks.values[i]) * bar.h;
      set_color(cr, st.axis_color);
      cairo_set_line_width(cr, 1.0);
      cairo_move_to(cr, bar.right(), std::floor(y) + 0.5);
      cairo_line_to(cr, bar.right() + 4, std::floor(y) + 0.5);
      cairo_stroke(cr);
      set_color(cr, st.text_color);
      draw_text(cr, labels[i], bar.right() + 7, y, HAlign::kLeft, VAlign::kMiddle);
    }
    if (!c.colorbar_label.empty()) {
      set_font(cr, st, st.label_size);
      set_color(cr, st.text_color);
      draw_text(cr, c.colorbar_label, bar.right() + 17 + bar_tick_w + st.label_size, bar.y + bar.h / 2, HAlign::kCenter,
                VAlign::kTop, M_PI / 2);
    }
  }
  draw_title(cr, st, c.title, plot);
  return Status::ok();
}

}  // namespace

Status render_heatmap(const HeatmapConfig& c, const std::string& path) {
  LONGCTX_RETURN_IF_ERROR(validate(c));
  LONGCTX_ASSIGN_OR_RETURN(auto canvas, Canvas::create(path, c.style, c.title));
  LONGCTX_RETURN_IF_ERROR(draw_heatmap(canvas->cr(), c));
  return canvas->finish();
}

Status render_heatmap_grid(const HeatmapGridConfig& g, const std::string& path) {
  if (g.panels.empty()) return make_error(ErrorCode::kInvalidArgument, "heatmap grid '{}': no panels", g.title);
  const size_t cols = g.columns > 0 ? g.columns : std::min<size_t>(g.panels.size(), 2);
  const size_t rows = (g.panels.size() + cols - 1) / cols;
  ChartStyle st = g.style;
  const double band = g.title.empty() ? 0 : title_band(st, g.title);
  st.width = g.panel_width * static_cast<double>(cols);
  st.height = band + g.panel_height * static_cast<double>(rows);
  for (const auto& p : g.panels) LONGCTX_RETURN_IF_ERROR(validate(p));
  LONGCTX_ASSIGN_OR_RETURN(auto canvas, Canvas::create(path, st, g.title));
  cairo_t* cr = canvas->cr();
  for (size_t i = 0; i < g.panels.size(); ++i) {
    HeatmapConfig p = g.panels[i];
    p.scale = g.scale;  // one scale for every panel
    p.style.width = g.panel_width;
    p.style.height = g.panel_height;
    p.style.png_scale = st.png_scale;
    cairo_save(cr);
    cairo_translate(cr, g.panel_width * static_cast<double>(i % cols), band + g.panel_height * static_cast<double>(i / cols));
    Status s = draw_heatmap(cr, p);
    cairo_restore(cr);
    LONGCTX_RETURN_IF_ERROR(s);
  }
  if (!g.title.empty()) {
    set_font(cr, st, st.title_size, true);
    set_color(cr, st.text_color);
    draw_text(cr, g.title, st.width / 2, 8, HAlign::kCenter, VAlign::kTop);
  }
  return canvas->finish();
}

}  // namespace longctx::plot
