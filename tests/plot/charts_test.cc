// Charts rendered to PNG are checked pixel by pixel at positions worked out from the layout
// contract in charts.h (fixed margins -> plot rectangle -> bar/cell geometry), with colours
// computed by hand; SVG output is parsed with libxml2.
#include <cairo.h>
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

#include "core/file_io.h"
#include "plot/charts.h"

// fontconfig (behind cairo's toy font API) keeps its configuration for the process lifetime;
// LeakSanitizer reports it at exit in the asan preset. Not ours: suppressed by library name.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace longctx::plot {
namespace {

std::string tmpdir(const std::string& name) {
  std::string d = std::string(LONGCTX_TEST_TMP) + "/plot/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

struct Px {
  int r, g, b;
};

// Decoded PNG (cairo's reader; ARGB32, opaque pictures so premultiplication is a no-op).
class Image {
 public:
  explicit Image(const std::string& path) : s_(cairo_image_surface_create_from_png(path.c_str())) {}
  ~Image() { cairo_surface_destroy(s_); }
  bool ok() const { return cairo_surface_status(s_) == CAIRO_STATUS_SUCCESS; }
  int width() const { return cairo_image_surface_get_width(s_); }
  int height() const { return cairo_image_surface_get_height(s_); }
  Px at(int x, int y) const {
    const unsigned char* row = cairo_image_surface_get_data(s_) + y * cairo_image_surface_get_stride(s_);
    uint32_t v;
    std::memcpy(&v, row + 4 * x, 4);
    return {int((v >> 16) & 0xFF), int((v >> 8) & 0xFF), int(v & 0xFF)};
  }

 private:
  cairo_surface_t* s_;
};

::testing::AssertionResult near_px(Px p, double r, double g, double b, double tol = 1.01) {
  if (std::fabs(p.r - r) <= tol && std::fabs(p.g - g) <= tol && std::fabs(p.b - b) <= tol) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "pixel (" << p.r << "," << p.g << "," << p.b << ") expected ("
                                       << r << "," << g << "," << b << ") +- " << tol;
}
::testing::AssertionResult near_hex(Px p, uint32_t hex, double tol = 1.01) {
  return near_px(p, (hex >> 16) & 0xFF, (hex >> 8) & 0xFF, hex & 0xFF, tol);
}

ChartStyle fixed_style(double w, double h, double l, double r, double t, double b) {
  ChartStyle s;
  s.width = w;
  s.height = h;
  s.margins = {l, r, t, b};
  return s;
}

// Every element of a parsed SVG, depth first.
void walk(xmlNode* n, const std::function<void(xmlNode*)>& f) {
  for (; n; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) f(n);
    walk(n->children, f);
  }
}

std::string attr(xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return "";
  std::string s(reinterpret_cast<char*>(v));
  xmlFree(v);
  return s;
}

// Elements whose style says fill:rgb(r%,g%,b%) matching 0xRRGGBB (cairo's SVG surface writes
// fills as percentages).
int count_fills(xmlDoc* doc, uint32_t hex) {
  int n = 0;
  walk(xmlDocGetRootElement(doc), [&](xmlNode* e) {
    std::string style = attr(e, "style");
    size_t p = style.find("fill:rgb(");
    if (p == std::string::npos) return;
    double r, g, b;
    if (std::sscanf(style.c_str() + p, "fill:rgb(%lf%%,%lf%%,%lf%%)", &r, &g, &b) != 3) return;
    auto same = [](double pct, uint32_t byte) { return std::fabs(pct * 2.55 - byte) < 0.6; };
    if (same(r, (hex >> 16) & 0xFF) && same(g, (hex >> 8) & 0xFF) && same(b, hex & 0xFF)) ++n;
  });
  return n;
}

// ---- bars ------------------------------------------------------------------------------------

// 400x300, margins l50 r100 t40 b40 -> plot x 50..300, y 40..260 (w 250, h 220).
// 2 categories -> slot 125; bar_width_fraction 0.7 -> group 87.5 starting 18.75 into the slot;
// grouped: 2 bars of 43.75.
BarChartConfig two_by_two() {
  BarChartConfig c;
  c.title = "Grouped test";
  c.categories = {"A", "B"};
  c.series = {{"s0", {0.3, 0.55}, std::nullopt}, {"s1", {0.7, 0.1}, std::nullopt}};
  c.y_min = 0;
  c.y_max = 1;
  c.style = fixed_style(400, 300, 50, 100, 40, 40);
  return c;
}

TEST(BarChart, GroupedBarsLandWhereTheLayoutSays) {
  auto d = tmpdir("bars");
  auto c = two_by_two();
  ASSERT_TRUE(render_bar_chart(c, d + "/g.png").is_ok());
  EXPECT_FALSE(file_exists(d + "/g.png.tmp"));
  Image img(d + "/g.png");
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(img.width(), 400);
  ASSERT_EQ(img.height(), 300);
  // Series 0, category A: x 68.75..112.5, top y = 260 - 0.3*220 = 194. Palette 0 = #4477AA.
  EXPECT_TRUE(near_hex(img.at(90, 230), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(90, 196), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(90, 191), 0xFFFFFF));  // just above the bar: background
  EXPECT_TRUE(near_hex(img.at(69, 230), 0x4477AA));  // pixel 69..70, right of the edge at 68.75
  EXPECT_TRUE(near_hex(img.at(67, 230), 0xFFFFFF));  // pixel 67..68, left of it
  // Series 1, category A: x 112.5..156.25, top 260 - 0.7*220 = 106. Palette 1 = #EE6677.
  EXPECT_TRUE(near_hex(img.at(134, 200), 0xEE6677));
  EXPECT_TRUE(near_hex(img.at(134, 108), 0xEE6677));
  EXPECT_TRUE(near_hex(img.at(134, 103), 0xFFFFFF));
  // Category B, series 0: x 193.75..237.5, top 260 - 0.55*220 = 139.
  EXPECT_TRUE(near_hex(img.at(215, 141), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(215, 136), 0xFFFFFF));
  // Gap between the groups (x 156.25..193.75) at mid height, off any grid line: background.
  EXPECT_TRUE(near_hex(img.at(175, 200), 0xFFFFFF));
  // Grid line at tick 0.4 -> y = 260 - 88 = 172, in the gap: light grey, not white.
  Px grid = img.at(175, 172);
  EXPECT_LT(grid.r, 250);
  EXPECT_GT(grid.r, 200);
}

TEST(BarChart, PngScaleMultipliesPixelPositions) {
  auto d = tmpdir("bars_scale");
  auto c = two_by_two();
  c.style.png_scale = 2;
  ASSERT_TRUE(render_bar_chart(c, d + "/g.png").is_ok());
  Image img(d + "/g.png");
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img.width(), 800);
  EXPECT_EQ(img.height(), 600);
  // Same layout in units, doubled in pixels: series 0 / category A spans x 137.5..225, top y 388.
  EXPECT_TRUE(near_hex(img.at(180, 392), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(180, 383), 0xFFFFFF));
}

TEST(BarChart, StackedNormalisedSegments) {
  auto d = tmpdir("stacked");
  BarChartConfig c;
  c.title = "Stacked shares";
  c.categories = {"before", "after"};
  c.series = {{"short", {1, 3}, std::nullopt}, {"long", {3, 1}, rgb_from_hex(0x228833)}};
  c.mode = BarMode::kStacked;
  c.normalize_per_category = true;
  c.value_format = TickFormat::kPercent;
  c.style = fixed_style(400, 300, 50, 100, 40, 40);
  ASSERT_TRUE(render_bar_chart(c, d + "/s.png").is_ok());
  Image img(d + "/s.png");
  ASSERT_TRUE(img.ok());
  // Axis from nice_ticks(0, 1) = [0, 1]. Category 0 bar x 68.75..156.25; "short" = 1/4 -> y 260..205,
  // "long" = 3/4 -> y 205..40.
  EXPECT_TRUE(near_hex(img.at(110, 235), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(110, 208), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(110, 202), 0x228833));
  EXPECT_TRUE(near_hex(img.at(110, 45), 0x228833));
  // Category 1: short = 3/4 -> y 260..95, long 95..40.
  EXPECT_TRUE(near_hex(img.at(235, 98), 0x4477AA));
  EXPECT_TRUE(near_hex(img.at(235, 92), 0x228833));
}

TEST(BarChart, NegativeValuesHangBelowZero) {
  auto d = tmpdir("bars_neg");
  BarChartConfig c;
  c.categories = {"loss diff", "other"};
  c.series = {{"d", {-0.5, 0.5}, rgb_from_hex(0xEE6677)}};
  c.style = fixed_style(400, 300, 50, 100, 40, 40);
  ASSERT_TRUE(render_bar_chart(c, d + "/n.png").is_ok());
  Image img(d + "/n.png");
  ASSERT_TRUE(img.ok());
  // nice_ticks(-0.5, 0.5): range 1, step 0.2, ticks -0.6 .. 0.6 -> zero at y = 40 + 220/2 = 150.
  // Category 0's bar (x 68.75..156.25) spans y 150 .. 150 + 0.5/1.2*220 = 241.7.
  EXPECT_TRUE(near_hex(img.at(110, 200), 0xEE6677));
  EXPECT_TRUE(near_hex(img.at(110, 239), 0xEE6677));
  EXPECT_TRUE(near_hex(img.at(110, 245), 0xFFFFFF));
  EXPECT_TRUE(near_hex(img.at(110, 140), 0xFFFFFF));
  // Category 1 (x 193.75..281.25) rises from 150 to 58.3.
  EXPECT_TRUE(near_hex(img.at(235, 100), 0xEE6677));
  EXPECT_TRUE(near_hex(img.at(235, 160), 0xFFFFFF));
  // All-zero data: axis [0, 1], no bars at all.
  c.series[0].values = {0, 0};
  ASSERT_TRUE(render_bar_chart(c, d + "/z.png").is_ok());
  Image z(d + "/z.png");
  EXPECT_TRUE(near_hex(z.at(110, 150), 0xFFFFFF));
  EXPECT_TRUE(near_hex(z.at(110, 255), 0xFFFFFF));
}

TEST(BarChart, SvgIsWellFormedWithOneShapePerBar) {
  auto d = tmpdir("bars_svg");
  auto c = two_by_two();
  c.title = "Mixture <before> & \"after\"";
  ASSERT_TRUE(render_bar_chart(c, d + "/g.svg").is_ok());
  auto text = read_file(d + "/g.svg");
  ASSERT_TRUE(text.is_ok());
  xmlDoc* doc = xmlReadMemory(text->data(), static_cast<int>(text->size()), "g.svg", nullptr, XML_PARSE_NONET);
  ASSERT_NE(doc, nullptr) << "SVG is not well-formed XML";
  xmlNode* root = xmlDocGetRootElement(doc);
  EXPECT_STREQ(reinterpret_cast<const char*>(root->name), "svg");
  std::string title;
  walk(root, [&](xmlNode* e) {
    if (std::string(reinterpret_cast<const char*>(e->name)) == "title") {
      xmlChar* t = xmlNodeGetContent(e);
      title = reinterpret_cast<char*>(t);
      xmlFree(t);
    }
  });
  EXPECT_EQ(title, c.title);
  // Two bars + one legend swatch per series.
  EXPECT_EQ(count_fills(doc, 0x4477AA), 3);
  EXPECT_EQ(count_fills(doc, 0xEE6677), 3);
  xmlFreeDoc(doc);
}

TEST(BarChart, RejectsBadInputWithoutWriting) {
  auto d = tmpdir("bars_bad");
  auto c = two_by_two();
  c.series[1].values = {1};
  Status st = render_bar_chart(c, d + "/x.png");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(st.message().find("s1"), std::string::npos) << st.message();
  EXPECT_FALSE(file_exists(d + "/x.png"));
  c = two_by_two();
  st = render_bar_chart(c, d + "/x.jpg");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(file_exists(d + "/x.jpg"));
  c.series[0].values[0] = std::nan("");
  EXPECT_FALSE(render_bar_chart(c, d + "/x.png").is_ok());
  // An existing chart is not clobbered by a failed render.
  ASSERT_TRUE(write_file_atomic(d + "/keep.png", "old").is_ok());
  EXPECT_FALSE(render_bar_chart(c, d + "/keep.png").is_ok());
  EXPECT_EQ(*read_file(d + "/keep.png"), "old");
}

TEST(BarChart, OutputIsDeterministic) {
  auto d = tmpdir("bars_det");
  auto c = two_by_two();
  c.show_values = true;
  c.x_label = "domain";
  c.y_label = "share";
  for (const char* ext : {".png", ".svg"}) {
    ASSERT_TRUE(render_bar_chart(c, d + "/a" + ext).is_ok());
    ASSERT_TRUE(render_bar_chart(c, d + "/b" + ext).is_ok());
    EXPECT_EQ(*read_file(d + "/a" + ext), *read_file(d + "/b" + ext)) << ext;
  }
}

// ---- heatmap ---------------------------------------------------------------------------------

// 500x300, margins l60 r120 t40 b50 -> plot x 60..380, y 40..250; 4 cols x 3 rows -> cells 80 x 70.
HeatmapConfig small_heatmap() {
  HeatmapConfig c;
  c.title = "Needle";
  c.rows = 3;
  c.cols = 4;
  c.values = {0.0, 0.1, 0.25, 0.5,  //
              0.75, 0.9, 1.0, 0.3,  //
              std::nan(""), 0.05, 0.6, 0.95};
  c.x_labels = {"1K", "2K", "4K", "8K"};
  c.y_labels = {"0", "50", "100"};
  c.marker_column = 2.0;
  c.style = fixed_style(500, 300, 60, 120, 40, 50);
  return c;
}

Px cell_centre(const Image& img, int r, int c) { return img.at(60 + 80 * c + 40, 40 + 70 * r + 35); }

TEST(Heatmap, CellColoursFollowTheStops) {
  auto d = tmpdir("heat");
  ASSERT_TRUE(render_heatmap(small_heatmap(), d + "/h.png").is_ok());
  Image img(d + "/h.png");
  ASSERT_TRUE(img.ok());
  // Hand-interpolated from red (240,73,110) @0, yellow (235,184,57) @0.5, green (12,215,159) @1.
  EXPECT_TRUE(near_px(cell_centre(img, 0, 0), 240, 73, 110));
  EXPECT_TRUE(near_px(cell_centre(img, 0, 1), 239, 95.2, 99.4));      // 0.1: 20% red->yellow
  EXPECT_TRUE(near_px(cell_centre(img, 0, 2), 237.5, 128.5, 83.5));   // 0.25
  EXPECT_TRUE(near_px(cell_centre(img, 0, 3), 235, 184, 57));         // 0.5
  EXPECT_TRUE(near_px(cell_centre(img, 1, 0), 123.5, 199.5, 108));    // 0.75
  EXPECT_TRUE(near_px(cell_centre(img, 1, 1), 56.6, 208.8, 138.6));   // 0.9: 80% yellow->green
  EXPECT_TRUE(near_px(cell_centre(img, 1, 2), 12, 215, 159));         // 1.0
  EXPECT_TRUE(near_px(cell_centre(img, 1, 3), 237, 139.6, 78.2));     // 0.3: 60% red->yellow
  EXPECT_TRUE(near_hex(cell_centre(img, 2, 0), 0xD9D9D9));            // NaN: no measurement
  EXPECT_TRUE(near_px(cell_centre(img, 2, 3), 34.3, 211.9, 148.8));   // 0.95: 90% yellow->green
  // Near a cell's corner (off the marker) the colour is still the cell's: no seams.
  EXPECT_TRUE(near_px(img.at(60 + 80 * 1 + 78, 40 + 70 * 1 + 68), 56.6, 208.8, 138.6));
}

TEST(Heatmap, DashedMarkerAndColourBar) {
  auto d = tmpdir("heat_marker");
  ASSERT_TRUE(render_heatmap(small_heatmap(), d + "/h.png").is_ok());
  Image img(d + "/h.png");
  ASSERT_TRUE(img.ok());
  // Marker at column coordinate 2 -> x = 60 + 160 = 220, 2 units wide (pixels 219 and 220);
  // dashes 6 on / 4 off from the plot top (y 40): on at y 40..46, off at 46..50.
  EXPECT_TRUE(near_hex(img.at(219, 43), 0xFFFFFF));
  EXPECT_TRUE(near_hex(img.at(220, 43), 0xFFFFFF));
  EXPECT_TRUE(near_px(img.at(220, 48), 237.5, 128.5, 83.5));  // gap: cell (0, 2) shows through
  EXPECT_TRUE(near_px(img.at(216, 43), 239, 95.2, 99.4));     // left of the line: cell (0, 1)
  // Colour bar: x 380 + 22 .. +16, spanning y 40 (value 1) .. 250 (value 0). Pixel row 197 has
  // its centre at y 197.5 = 250 - 0.25 * 210 -> value 0.25.
  EXPECT_TRUE(near_px(img.at(410, 197), 237.5, 128.5, 83.5, 2.01));
  // Row 92 centre 92.5 = 250 - 0.75 * 210 -> 0.75.
  EXPECT_TRUE(near_px(img.at(410, 92), 123.5, 199.5, 108, 2.01));
}

TEST(Heatmap, SvgHasOneRectPerCell) {
  auto d = tmpdir("heat_svg");
  auto c = small_heatmap();
  c.marker_column.reset();
  ASSERT_TRUE(render_heatmap(c, d + "/h.svg").is_ok());
  auto text = read_file(d + "/h.svg");
  ASSERT_TRUE(text.is_ok());
  xmlDoc* doc = xmlReadMemory(text->data(), static_cast<int>(text->size()), "h.svg", nullptr, XML_PARSE_NONET);
  ASSERT_NE(doc, nullptr);
  EXPECT_EQ(count_fills(doc, 0xF0496E), 1);  // value 0
  EXPECT_EQ(count_fills(doc, 0xEBB839), 1);  // value 0.5
  EXPECT_EQ(count_fills(doc, 0x0CD79F), 1);  // value 1
  EXPECT_EQ(count_fills(doc, 0xD9D9D9), 1);  // NaN
  xmlFreeDoc(doc);
  EXPECT_NE(text->find("<title>Needle</title>"), std::string::npos);
}

TEST(Heatmap, ColumnPositionAndValidation) {
  std::vector<double> xs = {1000, 2000, 4000, 8000};
  EXPECT_DOUBLE_EQ(heatmap_column_position(xs, 1000), 0.5);
  EXPECT_DOUBLE_EQ(heatmap_column_position(xs, 3000), 2.0);   // halfway between centres 1.5 and 2.5
  EXPECT_DOUBLE_EQ(heatmap_column_position(xs, 7000), 3.25);  // 3/4 of 4000..8000
  EXPECT_DOUBLE_EQ(heatmap_column_position(xs, 10000), 4.0);  // 3.5 + 0.5, clamped at the edge
  EXPECT_DOUBLE_EQ(heatmap_column_position(xs, 0), 0.0);
  // Paper grid: linspace(1000, 128000, 40), step 127000/39; 80K = 81920 -> 0.5 + 80920*39/127000.
  std::vector<double> grid;
  for (int i = 0; i < 40; ++i) grid.push_back(1000 + i * 127000.0 / 39);
  EXPECT_NEAR(heatmap_column_position(grid, 81920), 0.5 + 80920.0 * 39 / 127000, 1e-9);

  auto d = tmpdir("heat_bad");
  auto c = small_heatmap();
  c.values.pop_back();
  EXPECT_EQ(render_heatmap(c, d + "/h.png").code(), ErrorCode::kInvalidArgument);
  c = small_heatmap();
  c.marker_column = 4.5;
  EXPECT_EQ(render_heatmap(c, d + "/h.png").code(), ErrorCode::kInvalidArgument);
  c = small_heatmap();
  c.scale.stops[1].value = 0;
  EXPECT_EQ(render_heatmap(c, d + "/h.png").code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(file_exists(d + "/h.png"));
}

// ---- lines -----------------------------------------------------------------------------------

// 400x300, margins l60 r40 t40 b40 -> plot x 60..360 (w 300), y 40..260 (h 220).
TEST(LineChart, LinearAndLogPlacement) {
  auto d = tmpdir("lines");
  LineChartConfig c;
  c.title = "lines";
  c.series = {{"flat", {0, 10}, {0.5, 0.5}, rgb_from_hex(0x228833), false, false}};
  c.x_min = 0, c.x_max = 10, c.y_min = 0, c.y_max = 1;
  c.style = fixed_style(400, 300, 60, 40, 40, 40);
  ASSERT_TRUE(render_line_chart(c, d + "/flat.png").is_ok());
  {
    Image img(d + "/flat.png");
    ASSERT_TRUE(img.ok());
    // y = 0.5 -> 260 - 110 = 150; a 2-unit line covers rows 149 and 150.
    EXPECT_TRUE(near_hex(img.at(200, 149), 0x228833));
    EXPECT_TRUE(near_hex(img.at(200, 150), 0x228833));
    EXPECT_TRUE(near_hex(img.at(200, 145), 0xFFFFFF));
    EXPECT_TRUE(near_hex(img.at(200, 155), 0xFFFFFF));
  }
  // Log-x on [1, 10^4]: x = 10 and 1000 sit at 1/4 and 3/4 of the width; the straight segment
  // between (10, 0.3) and (1000, 0.7) passes through unit (0.5, 0.5) = (210, 150); at x 210.5 it
  // is at y 149.7, so pixel (210, 149) lies wholly inside the 2-unit-wide line.
  // On a linear x axis the same point would be far off the line.
  c.series = {{"log", {10, 1000}, {0.3, 0.7}, rgb_from_hex(0xAA3377), true, false}};
  c.x_scale = AxisScale::kLog10;
  c.x_min = 1, c.x_max = 1e4;
  ASSERT_TRUE(render_line_chart(c, d + "/log.png").is_ok());
  {
    Image img(d + "/log.png");
    ASSERT_TRUE(img.ok());
    EXPECT_TRUE(near_hex(img.at(210, 149), 0xAA3377, 3));
    EXPECT_TRUE(near_hex(img.at(135, 194), 0xAA3377, 3));  // marker at (10, 0.3): x 60+75, y 260-66
    EXPECT_TRUE(near_hex(img.at(285, 106), 0xAA3377, 3));  // marker at (1000, 0.7)
    EXPECT_TRUE(near_hex(img.at(200, 120), 0xFFFFFF));  // above the line, off the grid
  }
  c.series[0].x[0] = 0;
  EXPECT_EQ(render_line_chart(c, d + "/bad.png").code(), ErrorCode::kInvalidArgument);
  c.series[0].x = {1};
  EXPECT_EQ(render_line_chart(c, d + "/bad.png").code(), ErrorCode::kInvalidArgument);
}

// ---- histogram grid --------------------------------------------------------------------------

struct Run {
  int x0, x1;    // columns [x0, x1)
  int height;    // pixels of the colour in the run's middle column
};

// Runs of columns in [xa, xb) containing the colour, with the colour's pixel count in the middle
// column of each run (the bar height).
std::vector<Run> bars_of(const Image& img, uint32_t hex, int xa, int xb) {
  auto count = [&](int x) {
    int n = 0;
    for (int y = 0; y < img.height(); ++y) {
      Px p = img.at(x, y);
      n += p.r == int((hex >> 16) & 0xFF) && p.g == int((hex >> 8) & 0xFF) && p.b == int(hex & 0xFF);
    }
    return n;
  };
  std::vector<Run> runs;
  int x = xa;
  while (x < xb) {
    if (count(x) < 2) {
      ++x;
      continue;
    }
    int s = x;
    while (x < xb && count(x) >= 2) ++x;
    runs.push_back({s, x, count((s + x) / 2)});
  }
  return runs;
}

TEST(HistogramGrid, BarHeightsAreSharesOnASharedAxis) {
  auto d = tmpdir("hist");
  HistogramGridConfig c;
  c.title = "Domain x length";
  c.bucket_labels = {"<1K", "1-2K", "2-4K", ">4K"};
  // Shares: a = 1/8, 2/8, 4/8, 1/8; b = 0, 0, 3/4, 1/4.
  c.panels = {{"a", {1, 2, 4, 1}, rgb_from_hex(0x4477AA)}, {"b", {0, 0, 3, 1}, rgb_from_hex(0xEE6677)}};
  c.columns = 2;
  c.style = fixed_style(800, 400, 10, 10, 40, 10);
  ASSERT_TRUE(render_histogram_grid(c, d + "/h.png").is_ok());
  Image img(d + "/h.png");
  ASSERT_TRUE(img.ok());
  auto a = bars_of(img, 0x4477AA, 0, 400);
  auto b = bars_of(img, 0xEE6677, 400, 800);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 2u);  // zero buckets draw nothing
  EXPECT_TRUE(bars_of(img, 0x4477AA, 400, 800).empty());
  EXPECT_TRUE(bars_of(img, 0xEE6677, 0, 400).empty());
  // Heights in proportion to the shares (+-2 px for antialiased edges).
  double unit = a[2].height / 0.5;  // pixels per share
  EXPECT_NEAR(a[0].height, unit * 0.125, 2);
  EXPECT_NEAR(a[1].height, unit * 0.25, 2);
  EXPECT_NEAR(a[3].height, unit * 0.125, 2);
  EXPECT_NEAR(b[0].height, unit * 0.75, 2);  // same axis in both panels
  EXPECT_NEAR(b[1].height, unit * 0.25, 2);
  // Panel b's bars sit in its buckets 2 and 3: shifted from panel a's by one grid cell,
  // (800 - 10 - 10) / 2 = 390.
  EXPECT_EQ(b[0].x0 - a[2].x0, 390);
  EXPECT_EQ(b[1].x0 - a[3].x0, 390);
}

TEST(HistogramGrid, LengthBucketLabels) {
  std::vector<uint64_t> edges;
  for (uint64_t e = 1024; e <= 131072; e *= 2) edges.push_back(e);
  auto l = length_bucket_labels(edges);
  ASSERT_EQ(l.size(), 9u);
  EXPECT_EQ(l[0], "<1K");
  EXPECT_EQ(l[1], "1-2K");
  EXPECT_EQ(l[7], "64-128K");
  EXPECT_EQ(l[8], ">128K");
  EXPECT_EQ(length_bucket_labels({512, 1024, 1536, 1048576}),
            (std::vector<std::string>{"<512", "512-1K", "1-1.5K", "1.5K-1M", ">1M"}));
  // Edges that are not a quarter of a K are written in full (core/units.h format_length).
  EXPECT_EQ(length_bucket_labels({256, 1100, 1280}), (std::vector<std::string>{"<256", "256-1100", "1100-1.25K", ">1.25K"}));
  HistogramGridConfig c;
  c.bucket_labels = {"a", "b"};
  c.panels = {{"x", {1, -1}, std::nullopt}};
  EXPECT_EQ(render_histogram_grid(c, tmpdir("hist_bad") + "/h.png").code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace longctx::plot
