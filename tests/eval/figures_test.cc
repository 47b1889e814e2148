// The needle heatmap read back from the PNG: grid, the paper's colours at known cells, the white
// dashed line at the training length, the mean score in the title.
#include <gtest/gtest.h>

#include <cairo.h>

#include "eval/figures.h"
#include "test_util.h"

using namespace longctx;
using namespace longctx::eval;

namespace {

struct Pixel {
  int r, g, b;
};

class Png {
 public:
  explicit Png(const std::string& path) : s_(cairo_image_surface_create_from_png(path.c_str())) {}
  ~Png() { cairo_surface_destroy(s_); }
  bool ok() const { return cairo_surface_status(s_) == CAIRO_STATUS_SUCCESS; }
  int width() const { return cairo_image_surface_get_width(s_); }
  int height() const { return cairo_image_surface_get_height(s_); }
  Pixel at(int x, int y) const {
    cairo_surface_flush(s_);
    const unsigned char* d = cairo_image_surface_get_data(s_);
    uint32_t v = *reinterpret_cast<const uint32_t*>(d + y * cairo_image_surface_get_stride(s_) + x * 4);
    return {static_cast<int>((v >> 16) & 255), static_cast<int>((v >> 8) & 255), static_cast<int>(v & 255)};
  }

 private:
  cairo_surface_t* s_;
};

void expect_color(const Pixel& p, uint32_t hex, const std::string& where) {
  EXPECT_NEAR(p.r, static_cast<int>((hex >> 16) & 255), 1) << where;
  EXPECT_NEAR(p.g, static_cast<int>((hex >> 8) & 255), 1) << where;
  EXPECT_NEAR(p.b, static_cast<int>(hex & 255), 1) << where;
}

}  // namespace

TEST(NeedleHeatmap, CellsColoursMarkerAndTitle) {
  NeedleConfig cfg;
  cfg.lengths = {1000, 2000, 3000};
  cfg.depths = {0, 100};
  SweepSummary s;
  // row 0 (depth 0): 0, 0.5, 1; row 1 (depth 100): 1, skipped, 0
  auto cell = [](int64_t L, double d, double score, bool skipped = false) {
    CellResult c;
    c.length = L;
    c.depth = d;
    c.score = score;
    c.skipped = skipped;
    return c;
  };
  s = summarize(cfg, {cell(1000, 0, 0), cell(2000, 0, 0.5), cell(3000, 0, 1), cell(1000, 100, 1),
                      cell(2000, 100, 0, true), cell(3000, 100, 0)});
  EXPECT_EQ(s.measured, 5u);
  EXPECT_DOUBLE_EQ(s.mean_score, 2.5 / 5);
  plot::HeatmapConfig h = needle_heatmap(cfg, s, "tiny", 1500.0);
  EXPECT_NE(h.title.find("mean score 0.500"), std::string::npos) << h.title;
  EXPECT_EQ(h.x_labels, (std::vector<std::string>{"1K", "2K", "3K"}));
  EXPECT_EQ(h.y_labels, (std::vector<std::string>{"0", "100"}));
  // 1500 lies halfway between the centres of columns 0 and 1: the line is at column coordinate 1.0
  ASSERT_TRUE(h.marker_column.has_value());
  EXPECT_DOUBLE_EQ(*h.marker_column, 1.0);

  // Fixed margins: the plot is x in [50, 350), y in [40, 300): cells 100 x 130.
  h.style = plot::sized_style(450, 340);
  h.style.margins = {50, 100, 40, 40};
  const std::string png = longctx::testing::scratch_dir("heatmap") + "/h.png";
  ASSERT_TRUE(plot::render_heatmap(h, png).is_ok());
  Png img(png);
  ASSERT_TRUE(img.ok());
  ASSERT_EQ(img.width(), 450);
  ASSERT_EQ(img.height(), 340);
  auto centre = [&](int r, int c) { return img.at(50 + 100 * c + 60, 40 + 130 * r + 65); };
  expect_color(centre(0, 0), 0xF0496E, "score 0: red");
  expect_color(centre(0, 1), 0xEBB839, "score 0.5: yellow");
  expect_color(centre(0, 2), 0x0CD79F, "score 1: green");
  expect_color(centre(1, 0), 0x0CD79F, "depth 100, 1K: green");
  expect_color(centre(1, 1), 0xD9D9D9, "skipped: grey");
  expect_color(centre(1, 2), 0xF0496E, "depth 100, 3K: red");
  // the marker: 2 units wide centred on x = 150 (pixels 149 and 150), dashes 6 on / 4 off from
  // the plot's top: white at y = 42 (in the first dash), the cell's colour at y = 48 (a gap)
  expect_color(img.at(149, 42), 0xFFFFFF, "marker dash");
  expect_color(img.at(150, 42), 0xFFFFFF, "marker dash");
  expect_color(img.at(150, 48), 0xEBB839, "gap between dashes");
  expect_color(img.at(140, 42), 0xF0496E, "left of the marker");
}

TEST(NeedleHeatmap, CompareSharesOneFigure) {
  NeedleConfig cfg;
  cfg.lengths = {1000, 2000};
  cfg.depths = {0, 50};
  CellResult a;
  std::vector<CellResult> cells;
  for (int64_t L : cfg.lengths)
    for (double d : cfg.depths) {
      a.length = L;
      a.depth = d;
      a.score = 1;
      cells.push_back(a);
    }
  SweepSummary s1 = summarize(cfg, cells);
  for (auto& c : cells) c.score = 0;
  SweepSummary s2 = summarize(cfg, cells);
  const std::string png = longctx::testing::scratch_dir("compare") + "/c.png";
  ASSERT_TRUE(render_needle_compare({cfg, cfg}, {s1, s2}, {"good", "bad"}, std::nullopt, png).is_ok());
  Png img(png);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img.width(), 2 * 640);  // two panels side by side
  // the middle of each panel's plot area: green in the first, red in the second
  bool green = false, red = false;
  for (int x = 100; x < 600; x += 20) {
    Pixel p = img.at(x, 250);
    green = green || (std::abs(p.r - 0x0C) <= 1 && std::abs(p.g - 0xD7) <= 1 && std::abs(p.b - 0x9F) <= 1);
    Pixel q = img.at(x + 640, 250);
    red = red || (std::abs(q.r - 0xF0) <= 1 && std::abs(q.g - 0x49) <= 1 && std::abs(q.b - 0x6E) <= 1);
  }
  EXPECT_TRUE(green);
  EXPECT_TRUE(red);
}
