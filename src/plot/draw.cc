#include "plot/draw.h"

#include <cairo-svg.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/file_io.h"
#include "plot/html_report.h"

namespace longctx::plot::detail {
namespace {

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string lower_extension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// cairo names SVG groups "surface<N>" from a process-wide counter; renumber them in order of
// appearance so the same chart gives the same bytes in any process.
std::string renumber_surfaces(const std::string& svg) {
  static const std::string kKey = "surface";
  std::vector<std::pair<std::string, std::string>> seen;
  std::string out;
  out.reserve(svg.size());
  size_t i = 0;
  while (i < svg.size()) {
    size_t p = svg.find(kKey, i);
    if (p == std::string::npos) {
      out.append(svg, i, std::string::npos);
      break;
    }
    size_t e = p + kKey.size();
    while (e < svg.size() && std::isdigit(static_cast<unsigned char>(svg[e]))) ++e;
    bool is_id = e > p + kKey.size() && p > 0 && (svg[p - 1] == '"' || svg[p - 1] == '#');
    out.append(svg, i, p - i);
    if (!is_id) {
      out.append(kKey);
      i = p + kKey.size();
      continue;
    }
    std::string old_num = svg.substr(p + kKey.size(), e - p - kKey.size());
    std::string new_num;
    for (const auto& [o, n] : seen) {
      if (o == old_num) new_num = n;
    }
    if (new_num.empty()) {
      new_num = std::to_string(seen.size() + 1);
      seen.emplace_back(old_num, new_num);
    }
    out += kKey + new_num;
    i = e;
  }
  return out;
}

// Pixel-aligned coordinate for a 1-unit line at png_scale 1 (crisp grid lines).
double crisp(double v) { return std::floor(v) + 0.5; }

}  // namespace

Result<Format> format_from_path(const std::string& path) {
  std::string ext = lower_extension(path);
  if (ext == ".png") return Format::kPng;
  if (ext == ".svg") return Format::kSvg;
  return make_error(ErrorCode::kInvalidArgument,
                    "chart output '{}': unknown extension '{}', expected .png or .svg", path, ext);
}

Result<std::unique_ptr<Canvas>> Canvas::create(const std::string& path, const ChartStyle& style,
                                               const std::string& title) {
  LONGCTX_ASSIGN_OR_RETURN(Format format, format_from_path(path));
  if (!(style.width >= 16 && style.height >= 16 && style.width <= 20000 && style.height <= 20000)) {
    return make_error(ErrorCode::kInvalidArgument, "chart '{}': size {}x{} outside 16..20000", path,
                      style.width, style.height);
  }
  if (!(style.png_scale > 0 && style.png_scale <= 8)) {
    return make_error(ErrorCode::kInvalidArgument, "chart '{}': png_scale {} outside (0, 8]", path,
                      style.png_scale);
  }
  std::unique_ptr<Canvas> c(new Canvas());
  c->path_ = path;
  c->title_ = title;
  c->style_ = style;
  c->format_ = format;
  if (format == Format::kPng) {
    int w = static_cast<int>(std::ceil(style.width * style.png_scale));
    int h = static_cast<int>(std::ceil(style.height * style.png_scale));
    c->surface_ = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  } else {
    c->surface_ = cairo_svg_surface_create_for_stream(append_to_string, &c->svg_bytes_, style.width,
                                                      style.height);
    // Pixels, so an SVG shows at the same size as the PNG (cairo's default unit is pt).
    cairo_svg_surface_set_document_unit(c->surface_, CAIRO_SVG_UNIT_PX);
  }
  if (cairo_surface_status(c->surface_) != CAIRO_STATUS_SUCCESS) {
    return make_error(ErrorCode::kInternal, "chart '{}': cannot create cairo surface: {}", path,
                      cairo_status_to_string(cairo_surface_status(c->surface_)));
  }
  c->cr_ = cairo_create(c->surface_);
  if (format == Format::kPng) cairo_scale(c->cr_, style.png_scale, style.png_scale);
  // Unhinted metrics: text measures the same in PNG and SVG, so both layouts agree.
  cairo_font_options_t* fo = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_set_font_options(c->cr_, fo);
  cairo_font_options_destroy(fo);
  set_color(c->cr_, style.background);
  cairo_paint(c->cr_);
  return c;
}

Canvas::~Canvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

Status Canvas::finish() {
  cairo_status_t st = cairo_status(cr_);
  if (st != CAIRO_STATUS_SUCCESS) {
    return make_error(ErrorCode::kInternal, "chart '{}': drawing failed: {}", path_,
                      cairo_status_to_string(st));
  }
  std::string bytes;
  if (format_ == Format::kPng) {
    cairo_surface_flush(surface_);
    st = cairo_surface_write_to_png_stream(surface_, append_to_string, &bytes);
  } else {
    cairo_destroy(cr_);
    cr_ = nullptr;
    cairo_surface_finish(surface_);
    st = cairo_surface_status(surface_);
    bytes = renumber_surfaces(svg_bytes_);
    // An accessible name for the picture: <title> as the first child of <svg>.
    size_t open = bytes.find("<svg");
    size_t end = open == std::string::npos ? open : bytes.find('>', open);
    if (end != std::string::npos && !title_.empty()) {
      bytes.insert(end + 1, "\n<title>" + html_escape(title_) + "</title>");
    }
  }
  if (st != CAIRO_STATUS_SUCCESS) {
    return make_error(ErrorCode::kInternal, "chart '{}': encoding failed: {}", path_,
                      cairo_status_to_string(st));
  }
  return write_file_atomic(path_, bytes).with_context("writing chart");
}

void set_color(cairo_t* cr, Rgb c, double alpha) { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha); }

void set_font(cairo_t* cr, const ChartStyle& s, double size, bool bold) {
  cairo_select_font_face(cr, s.font_family.c_str(), CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double text_width(cairo_t* cr, std::string_view text) {
  std::string t(text);
  cairo_text_extents_t te;
  cairo_text_extents(cr, t.c_str(), &te);
  return te.x_advance;
}

double line_height(cairo_t* cr) {
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  return fe.ascent + fe.descent;
}

void draw_text(cairo_t* cr, std::string_view text, double x, double y, HAlign h, VAlign v,
               double angle) {
  if (text.empty()) return;
  std::string t(text);
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(cr, t.c_str(), &te);
  cairo_font_extents(cr, &fe);
  double dx = h == HAlign::kLeft ? 0 : h == HAlign::kCenter ? -te.x_advance / 2 : -te.x_advance;
  // Vertical anchors use the font's cap height (not this text's ink) so labels on one axis share
  // a baseline: kTop puts the cap line at y, kMiddle centres capitals on y.
  cairo_text_extents_t cap;
  cairo_text_extents(cr, "H", &cap);
  double cap_h = -cap.y_bearing;
  double dy = v == VAlign::kTop ? cap_h : v == VAlign::kMiddle ? cap_h / 2 : -fe.descent;
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, dx, dy);
  cairo_show_text(cr, t.c_str());
  cairo_new_path(cr);
  cairo_restore(cr);
}

double title_band(const ChartStyle& s, const std::string& title) {
  return title.empty() ? 14 : s.title_size * 1.25 + 24;
}

void draw_title(cairo_t* cr, const ChartStyle& s, const std::string& title, const Rect& plot) {
  if (title.empty()) return;
  set_font(cr, s, s.title_size, true);
  set_color(cr, s.text_color);
  double cx = std::clamp(plot.x + plot.w / 2, 0.0, s.width);
  double w = text_width(cr, title);
  // Keep a long title inside the picture.
  cx = std::clamp(cx, std::min(w / 2 + 8, s.width / 2), std::max(s.width - w / 2 - 8, s.width / 2));
  draw_text(cr, title, cx, 14, HAlign::kCenter, VAlign::kTop);
}

double Axis::to_unit(double v) const {
  if (scale == AxisScale::kLinear) return (v - lo) / (hi - lo);
  return (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
}

Result<Axis> make_axis(double dlo, double dhi, AxisScale scale, TickFormat fmt,
                       std::optional<double> fixed_lo, std::optional<double> fixed_hi,
                       int target_ticks) {
  Axis a;
  a.scale = scale;
  a.format = fmt;
  double lo = fixed_lo.value_or(dlo), hi = fixed_hi.value_or(dhi);
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    return make_error(ErrorCode::kInvalidArgument, "axis range [{}, {}] is not finite", lo, hi);
  }
  if (fixed_lo && fixed_hi && !(*fixed_hi > *fixed_lo)) {
    return make_error(ErrorCode::kInvalidArgument, "axis range [{}, {}] is empty", *fixed_lo, *fixed_hi);
  }
  if (scale == AxisScale::kLinear) {
    // 1024-based labels read best at multiples of 1024 (K) or 1024^2 (M): tick in those units.
    double unit = 1;
    if (fmt == TickFormat::kBinary) {
      double m = std::max(std::fabs(lo), std::fabs(hi));
      unit = m >= 4 * 1048576.0 ? 1048576.0 : m >= 4 * 1024.0 ? 1024.0 : 1.0;
    }
    Ticks t = nice_ticks(lo / unit, hi / unit, target_ticks);
    for (double& v : t.values) v *= unit;
    t.lo *= unit;
    t.hi *= unit;
    t.step *= unit;
    a.lo = fixed_lo.value_or(t.lo);
    a.hi = fixed_hi.value_or(t.hi);
    a.ticks = t;
  } else {
    if (!(lo > 0) || !(hi > 0)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "log axis needs positive values, range is [{}, {}]", lo, hi);
    }
    double base = scale == AxisScale::kLog2 ? 2 : 10;
    Ticks t = log_ticks(lo, hi, base, target_ticks + 4);
    a.lo = fixed_lo.value_or(t.lo);
    a.hi = fixed_hi.value_or(t.hi);
    a.ticks = t;
  }
  double eps = (a.hi - a.lo) * 1e-9;
  std::vector<double> kept;
  for (double v : a.ticks.values) {
    if (v >= a.lo - eps && v <= a.hi + eps) kept.push_back(v);
  }
  a.ticks.values = kept;
  return a;
}

std::vector<std::string> tick_labels(const Axis& a) {
  std::vector<std::string> out;
  for (double v : a.ticks.values) out.push_back(format_tick(v, a.ticks.step, a.format));
  return out;
}

void draw_y_axis(cairo_t* cr, const ChartStyle& s, const Axis& a, const Rect& plot, bool grid,
                 bool labels) {
  auto text = tick_labels(a);
  set_font(cr, s, s.tick_size);
  cairo_set_line_width(cr, 1.0);
  for (size_t i = 0; i < a.ticks.values.size(); ++i) {
    double y = plot.bottom() - a.to_unit(a.ticks.values[i]) * plot.h;
    if (grid) {
      set_color(cr, s.grid_color);
      cairo_move_to(cr, plot.x, crisp(y));
      cairo_line_to(cr, plot.right(), crisp(y));
      cairo_stroke(cr);
    }
    if (labels) {
      set_color(cr, s.text_color);
      draw_text(cr, text[i], plot.x - 7, y, HAlign::kRight, VAlign::kMiddle);
    }
  }
}

void draw_x_axis(cairo_t* cr, const ChartStyle& s, const Axis& a, const Rect& plot) {
  auto text = tick_labels(a);
  set_font(cr, s, s.tick_size);
  cairo_set_line_width(cr, 1.0);
  for (size_t i = 0; i < a.ticks.values.size(); ++i) {
    double x = plot.x + a.to_unit(a.ticks.values[i]) * plot.w;
    set_color(cr, s.grid_color);
    cairo_move_to(cr, crisp(x), plot.y);
    cairo_line_to(cr, crisp(x), plot.bottom());
    cairo_stroke(cr);
    set_color(cr, s.text_color);
    draw_text(cr, text[i], x, plot.bottom() + 7, HAlign::kCenter, VAlign::kTop);
  }
}

double max_text_width(cairo_t* cr, const std::vector<std::string>& texts) {
  double w = 0;
  for (const auto& t : texts) w = std::max(w, text_width(cr, t));
  return w;
}

bool category_labels_rotated(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& labels,
                             double slot_width, double font_size, size_t every) {
  set_font(cr, s, font_size);
  every = std::max<size_t>(every, 1);
  double w = 0;
  for (size_t i = 0; i < labels.size(); i += every) w = std::max(w, text_width(cr, labels[i]));
  return w > slot_width * every - 6;
}

double category_labels_height(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& labels,
                              double slot_width, double font_size, size_t every) {
  set_font(cr, s, font_size);
  double lh = line_height(cr);
  if (!category_labels_rotated(cr, s, labels, slot_width, font_size, every)) return lh + 8;
  set_font(cr, s, font_size);
  return max_text_width(cr, labels) * std::sqrt(0.5) + lh + 8;
}

void draw_category_labels(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& labels,
                          const Rect& plot, double font_size, size_t every) {
  if (labels.empty()) return;
  every = std::max<size_t>(every, 1);
  double slot = plot.w / labels.size();
  bool rotated = category_labels_rotated(cr, s, labels, slot, font_size, every);
  set_font(cr, s, font_size);
  set_color(cr, s.text_color);
  for (size_t i = 0; i < labels.size(); i += every) {
    double x = plot.x + (i + 0.5) * slot;
    if (rotated) {
      draw_text(cr, labels[i], x + 3, plot.bottom() + 8, HAlign::kRight, VAlign::kMiddle, -M_PI / 4);
    } else {
      draw_text(cr, labels[i], x, plot.bottom() + 7, HAlign::kCenter, VAlign::kTop);
    }
  }
}

void draw_x_label(cairo_t* cr, const ChartStyle& s, const std::string& label, const Rect& plot,
                  double offset) {
  if (label.empty()) return;
  set_font(cr, s, s.label_size);
  set_color(cr, s.text_color);
  draw_text(cr, label, plot.x + plot.w / 2, plot.bottom() + offset, HAlign::kCenter, VAlign::kTop);
}

void draw_y_label(cairo_t* cr, const ChartStyle& s, const std::string& label, const Rect& plot,
                  double offset) {
  if (label.empty()) return;
  set_font(cr, s, s.label_size);
  set_color(cr, s.text_color);
  draw_text(cr, label, plot.x - offset, plot.y + plot.h / 2, HAlign::kCenter, VAlign::kTop, -M_PI / 2);
}

void draw_axis_lines(cairo_t* cr, const ChartStyle& s, const Rect& plot) {
  set_color(cr, s.axis_color);
  cairo_set_line_width(cr, 1.0);
  cairo_move_to(cr, crisp(plot.x), plot.y);
  cairo_line_to(cr, crisp(plot.x), crisp(plot.bottom()));
  cairo_line_to(cr, plot.right(), crisp(plot.bottom()));
  cairo_stroke(cr);
}

namespace {
constexpr double kSwatch = 12, kLineSwatch = 24, kSwatchGap = 7;
}

double legend_width(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& names) {
  set_font(cr, s, s.legend_size);
  return kLineSwatch + kSwatchGap + max_text_width(cr, names);
}

void draw_legend(cairo_t* cr, const ChartStyle& s, const std::vector<std::string>& names,
                 const std::vector<Rgb>& colors, double x, double y, LegendMark mark,
                 const std::vector<bool>& dashed, const std::vector<bool>& markers) {
  set_font(cr, s, s.legend_size);
  double row = s.legend_size * 1.7;
  for (size_t i = 0; i < names.size(); ++i) {
    double cy = y + (i + 0.5) * row;
    set_color(cr, colors[i]);
    double text_x;
    if (mark == LegendMark::kBox) {
      cairo_rectangle(cr, x, cy - kSwatch / 2, kSwatch, kSwatch);
      cairo_fill(cr);
      text_x = x + kSwatch + kSwatchGap;
    } else {
      cairo_set_line_width(cr, 2.0);
      if (i < dashed.size() && dashed[i]) {
        double d[] = {5, 3};
        cairo_set_dash(cr, d, 2, 0);
      }
      cairo_move_to(cr, x, cy);
      cairo_line_to(cr, x + kLineSwatch, cy);
      cairo_stroke(cr);
      cairo_set_dash(cr, nullptr, 0, 0);
      if (i >= markers.size() || markers[i]) {
        cairo_arc(cr, x + kLineSwatch / 2, cy, 3, 0, 2 * M_PI);
        cairo_fill(cr);
      }
      text_x = x + kLineSwatch + kSwatchGap;
    }
    set_color(cr, s.text_color);
    draw_text(cr, names[i], text_x, cy, HAlign::kLeft, VAlign::kMiddle);
  }
}

double pick(double configured, double automatic) { return configured >= 0 ? configured : automatic; }

}  // namespace longctx::plot::detail
