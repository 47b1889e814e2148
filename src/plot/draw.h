// Internal drawing layer shared by the charts: the output surface (PNG or SVG by extension,
// atomic publish), text placement, axes, legends. Not part of the public API.
#pragma once
#include <cairo.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "plot/charts.h"

namespace longctx::plot::detail {

struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

enum class Format { kPng, kSvg };
Result<Format> format_from_path(const std::string& path);

// One chart being drawn. create() paints the background; finish() checks cairo's status, encodes
// and publishes the file atomically.
class Canvas {
 public:
  static Result<std::unique_ptr<Canvas>> create(const std::string& path, const ChartStyle& style,
                                                const std::string& title);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;
  cairo_t* cr() const { return cr_; }
  const ChartStyle& style() const { return style_; }
  Status finish();

 private:
  Canvas() = default;
  std::string path_, title_;
  ChartStyle style_;
  Format format_ = Format::kPng;
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
  std::string svg_bytes_;  // the SVG surface streams here
};

enum class HAlign { kLeft, kCenter, kRight };
enum class VAlign { kTop, kMiddle, kBottom };

void set_color(cairo_t* cr, Rgb c, double alpha = 1.0);
void set_font(cairo_t* cr, const ChartStyle& s, double size, bool bold = false);
double text_width(cairo_t* cr, std::string_view text);
// Height of a line of text in the current font (ascent + descent).
double line_height(cairo_t* cr);
// Draws text anchored at (x, y); angle in radians (counter-clockwise positive visually = negative
// cairo rotation is handled by the caller passing -pi/2 for bottom-to-top text).
void draw_text(cairo_t* cr, std::string_view text, double x, double y, HAlign h, VAlign v,
               double angle = 0);

// Title centred over the plot area, in the top margin.
void draw_title(cairo_t* cr, const ChartStyle& s, const std::string& title, const Rect& plot);
double title_band(const ChartStyle& s, const std::string& title);

// A numeric axis: maps data values to a pixel interval.
struct Axis {
  double lo = 0, hi = 1;
  AxisScale scale = AxisScale::kLinear;
  Ticks ticks;
  TickFormat format = TickFormat::kAuto;
  double to_unit(double v) const;  // 0 at lo, 1 at hi
};
// Builds an axis over data range [dlo, dhi] with optional fixed ends.
Result<Axis> make_axis(double dlo, double dhi, AxisScale scale, TickFormat fmt,
                       std::optional<double> fixed_lo, std::optional<double> fixed_hi,
                       int target_ticks = 6);
std::vector<std::string> tick_labels(const Axis& a);

// Horizontal grid lines + y tick labels left of `plot`.
void draw_y_axis(cairo_t* cr, const ChartStyle& s, const Axis& a, const Rect& plot, bool grid = true,
                 bool labels = true);
// Vertical grid lines + x tick labels below `plot`.
void draw_x_axis(cairo_t* cr, const ChartStyle& s, const Axis& a, const Rect& plot);
// Category labels centred under equal slots of `plot`; rotated 45 degrees when they do not fit.
// Returns the height they take (for margin sizing use category_labels_height).
void draw_category_labels(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& labels,
                          const Rect& plot, double font_size, size_t every = 1);
bool category_labels_rotated(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& labels,
                             double slot_width, double font_size, size_t every = 1);
double category_labels_height(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& labels,
                              double slot_width, double font_size, size_t every = 1);
double max_text_width(cairo_t* cr, const std::vector<std::string>& texts);
// Axis titles: x centred below, y rotated left of the plot at distance `offset` from its edge.
void draw_x_label(cairo_t* cr, const ChartStyle& s, const std::string& label, const Rect& plot,
                  double offset);
void draw_y_label(cairo_t* cr, const ChartStyle& s, const std::string& label, const Rect& plot,
                  double offset);
// Plot frame: the left and bottom axis lines.
void draw_axis_lines(cairo_t* cr, const ChartStyle& s, const Rect& plot);

enum class LegendMark { kBox, kLine };
double legend_width(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& names);
void draw_legend(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& names,
                 const std::vector<Rgb>& colors, double x, double y, LegendMark mark,
                 const std::vector<bool>& dashed = {}, const std::vector<bool>& markers = {});

// Resolves automatic margins: value < 0 takes `automatic`.
double pick(double configured, double automatic);

}  // namespace longctx::plot::detail
