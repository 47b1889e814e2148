// Charts rendered with cairo (docs/plots.md): grouped/stacked bars, the needle heatmap, line
// charts, and small-multiple histograms over length buckets.
//
// Every render_* function writes PNG or SVG chosen by the output path's extension (".png" /
// ".svg", case-insensitive), publishes atomically ("<path>.tmp" then rename, core/file_io.h),
// and returns a Status; nothing is printed. The SVG carries the chart title in a <title> element.
//
// Coordinates: the picture is style.width x style.height units (PNG pixels are units times
// style.png_scale). The plot area is the rectangle left after the margins; a margin < 0 is sized
// automatically from the text it must hold, a margin >= 0 is used as given (tests fix margins to
// predict where marks land).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "plot/color.h"
#include "plot/ticks.h"

namespace longctx::plot {

struct Margins {
  double left = -1, right = -1, top = -1, bottom = -1;  // < 0: automatic
};

struct ChartStyle {
  double width = 900, height = 540;  // units (px at png_scale 1, pt in SVG)
  double png_scale = 1.0;            // >1 for high-resolution PNGs
  Margins margins;
  std::string font_family = "DejaVu Sans";
  double title_size = 18, label_size = 13, tick_size = 11, legend_size = 12, annotation_size = 10;
  Rgb background = rgb_from_hex(0xFFFFFF);
  Rgb text_color = rgb_from_hex(0x222222);
  Rgb axis_color = rgb_from_hex(0x555555);
  Rgb grid_color = rgb_from_hex(0xE3E3E3);
};

inline ChartStyle sized_style(double width, double height) {
  ChartStyle s;
  s.width = width;
  s.height = height;
  return s;
}

// ---- bars ----------------------------------------------------------------------------------

struct BarSeries {
  std::string name;
  std::vector<double> values;  // (n_categories)
  std::optional<Rgb> color;    // default palette_color(series index)
};

enum class BarMode { kGrouped, kStacked };

// Categories along x, one bar (grouped) or one bar segment (stacked) per series.
// Layout contract: category c occupies [x0 + c*g, x0 + (c+1)*g], g = plot_width / n_categories;
// its bars span the middle bar_width_fraction * g, split equally between the series when
// grouped (series 0 leftmost); stacked segments go up from 0 in series order (negative values
// stack downwards). Value axis: [y_min, y_max] when given, else nice_ticks over the data range
// including 0.
struct BarChartConfig {
  std::string title, x_label, y_label;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  BarMode mode = BarMode::kGrouped;
  // Divide each category's values by that category's sum over series (so stacked bars reach 1).
  bool normalize_per_category = false;
  TickFormat value_format = TickFormat::kAuto;  // kPercent shows fractions as "25%"
  // Print values above grouped bars (only when every label fits its bar's width) or inside
  // stacked segments (those tall and wide enough).
  bool show_values = false;
  double bar_width_fraction = 0.7;
  std::optional<double> y_min, y_max;
  bool legend = true;  // drawn right of the plot when there are >= 2 series
  ChartStyle style;
};

Status render_bar_chart(const BarChartConfig& config, const std::string& path);

// ---- heatmap -------------------------------------------------------------------------------

// rows x cols cells; row 0 at the top. Cell (r, c) covers
// [x0 + c*w, x0 + (c+1)*w] x [y0 + r*h, y0 + (r+1)*h], w = plot_width / cols,
// h = plot_height / rows, filled with color_scale_at(scale, value). NaN cells are drawn light
// grey (no measurement). A colour bar spanning the scale's first..last stop sits right of the plot.
struct HeatmapConfig {
  std::string title, x_label, y_label, colorbar_label;
  size_t rows = 0, cols = 0;
  std::vector<double> values;          // (rows, cols) row-major
  std::vector<std::string> x_labels;   // (cols) e.g. context lengths
  std::vector<std::string> y_labels;   // (rows) e.g. depth percent
  ColorScale scale = needle_color_scale();
  bool annotate = false;               // print each value in its cell
  int annotation_decimals = 2;
  size_t x_label_every = 0;            // show every k-th x label; 0: as many as fit
  // Vertical dashed white line at this column coordinate (0 = left edge of column 0, cols =
  // right edge; column c's centre is c + 0.5). See heatmap_column_position.
  std::optional<double> marker_column;
  std::string marker_label;            // optional text next to the marker, e.g. "80K (train)"
  TickFormat colorbar_format = TickFormat::kAuto;
  bool colorbar = true;                // false: no colour bar (categorical tables)
  std::vector<std::string> cell_text;  // (rows, cols) or empty: with annotate, printed instead of values
  ChartStyle style;
};

Status render_heatmap(const HeatmapConfig& config, const std::string& path);

// Several heatmaps on one figure with one colour scale (e.g. needle results of several models):
// panels in a grid of `columns` (0: up to 2), each panel_width x panel_height units, laid out
// exactly as render_heatmap lays out one picture of that size, below the figure's title.
struct HeatmapGridConfig {
  std::string title;
  std::vector<HeatmapConfig> panels;  // each panel's scale is replaced by `scale`
  ColorScale scale = needle_color_scale();
  size_t columns = 0;
  double panel_width = 640, panel_height = 400;
  ChartStyle style;  // fonts, colours, png_scale; width and height come from the panels
};

Status render_heatmap_grid(const HeatmapGridConfig& config, const std::string& path);

// Column coordinate of data value x for columns whose centres hold `column_values` (ascending):
// linear between neighbouring centres (centre of column i is i + 0.5), clamped to [0, cols].
// E.g. the paper's continual-pretraining length 80K among linspace(1000, 128000, 40).
double heatmap_column_position(const std::vector<double>& column_values, double x);

// ---- lines ---------------------------------------------------------------------------------

enum class AxisScale { kLinear, kLog10, kLog2 };

struct LineSeries {
  std::string name;
  std::vector<double> x, y;  // (n) points drawn in the given order
  std::optional<Rgb> color;  // default palette_color(series index)
  bool markers = true;       // a dot at each point
  bool dashed = false;
};

// Axes: [x_min, x_max] / [y_min, y_max] when given, else nice_ticks (linear) or log_ticks over the
// data. Log axes need positive values.
struct LineChartConfig {
  std::string title, x_label, y_label;
  std::vector<LineSeries> series;
  AxisScale x_scale = AxisScale::kLinear, y_scale = AxisScale::kLinear;
  TickFormat x_format = TickFormat::kAuto, y_format = TickFormat::kAuto;
  std::optional<double> x_min, x_max, y_min, y_max;
  bool y_include_zero = false;
  double line_width = 2.0;
  bool legend = true;  // drawn right of the plot when there are >= 2 series
  ChartStyle style;
};

Status render_line_chart(const LineChartConfig& config, const std::string& path);

// ---- histograms as small multiples -------------------------------------------------------------

struct HistogramPanel {
  std::string name;            // panel title, e.g. a domain
  std::vector<double> values;  // (n_buckets) e.g. tokens per length bucket
  std::optional<Rgb> color;    // default palette_color(panel index)
};

// One panel per domain in a grid (row-major, `columns` per row; 0 = ceil(sqrt(n))). Each panel
// is a bar chart over the same bucket labels -- the corpus's domain x length distribution
// (paper Figure 2). With normalize, a panel shows each bucket's share of that panel's total.
struct HistogramGridConfig {
  std::string title, x_label, y_label;
  std::vector<std::string> bucket_labels;
  std::vector<HistogramPanel> panels;
  size_t columns = 0;
  bool normalize = true;
  bool shared_y = true;                          // one value axis for all panels
  TickFormat value_format = TickFormat::kPercent;  // kAuto / kSi for raw counts
  ChartStyle style = sized_style(1100, 760);
};

Status render_histogram_grid(const HistogramGridConfig& config, const std::string& path);

// Labels for length buckets with the given ascending edges (tokens): edges.size() + 1 labels,
// "<e0", "e0-e1", ..., ">e_last", lengths in 1024-based K/M (units.h convention for lengths), the
// unit written once when both ends share it: {1024, 2048, 4096} -> "<1K", "1-2K", "2-4K", ">4K".
std::vector<std::string> length_bucket_labels(const std::vector<uint64_t>& edges);

}  // namespace longctx::plot
