// Colour parsing/interpolation and tick generation against hand-worked values.
#include <gtest/gtest.h>

#include <cmath>

#include "plot/color.h"
#include "plot/ticks.h"

namespace longctx::plot {
namespace {

void expect_rgb255(Rgb c, double r, double g, double b, double tol = 1e-9) {
  EXPECT_NEAR(c.r * 255, r, tol);
  EXPECT_NEAR(c.g * 255, g, tol);
  EXPECT_NEAR(c.b * 255, b, tol);
}

TEST(Color, ParsesHex) {
  auto c = parse_hex_color("#F0496E");
  ASSERT_TRUE(c.is_ok());
  expect_rgb255(*c, 240, 73, 110);
  expect_rgb255(*parse_hex_color("0cd79f"), 12, 215, 159);
  EXPECT_FALSE(parse_hex_color("#12345").is_ok());
  EXPECT_FALSE(parse_hex_color("#GG0000").is_ok());
  EXPECT_EQ(parse_hex_color("#GG0000").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(to_hex(rgb_from_hex(0xEBB839)), "#ebb839");
  EXPECT_EQ(to_hex({0.5, 0, 1}), "#8000ff");  // 127.5 rounds up
}

TEST(Color, NeedleScaleInterpolatesBetweenStops) {
  ColorScale s = needle_color_scale();
  ASSERT_TRUE(validate_color_scale(s).is_ok());
  // Stops: red (240,73,110) at 0, yellow (235,184,57) at 0.5, green (12,215,159) at 1.
  expect_rgb255(color_scale_at(s, 0.0), 240, 73, 110);
  expect_rgb255(color_scale_at(s, 0.5), 235, 184, 57);
  expect_rgb255(color_scale_at(s, 1.0), 12, 215, 159);
  // 0.25: halfway red->yellow.
  expect_rgb255(color_scale_at(s, 0.25), 237.5, 128.5, 83.5);
  // 0.75: halfway yellow->green.
  expect_rgb255(color_scale_at(s, 0.75), 123.5, 199.5, 108);
  // 0.1: 20% of the way red->yellow: 240-0.2*5, 73+0.2*111, 110-0.2*53.
  expect_rgb255(color_scale_at(s, 0.1), 239, 95.2, 99.4);
  // Outside the stops: clamped to the end colours.
  expect_rgb255(color_scale_at(s, -3), 240, 73, 110);
  expect_rgb255(color_scale_at(s, 7), 12, 215, 159);
}

TEST(Color, ScaleValidation) {
  ColorScale bad{{{0, {}}, {0, {1, 1, 1}}}};
  EXPECT_FALSE(validate_color_scale(bad).is_ok());
  EXPECT_FALSE(validate_color_scale(ColorScale{}).is_ok());
  ColorScale two{{{-1, {0, 0, 0}}, {3, {1, 1, 1}}}};
  ASSERT_TRUE(validate_color_scale(two).is_ok());
  Rgb mid = color_scale_at(two, 0);  // a quarter of the way
  EXPECT_NEAR(mid.r, 0.25, 1e-12);
}

TEST(Color, LuminanceAndPalette) {
  EXPECT_NEAR(relative_luminance({1, 1, 1}), 1.0, 1e-12);
  EXPECT_NEAR(relative_luminance({0, 0, 0}), 0.0, 1e-12);
  // sRGB 0.5 -> linear ((0.5+0.055)/1.055)^2.4 = 0.21404.
  EXPECT_NEAR(relative_luminance({0.5, 0.5, 0.5}), 0.21404, 1e-4);
  EXPECT_EQ(to_hex(palette_color(0)), "#4477aa");
  EXPECT_EQ(palette_color(categorical_palette().size()), palette_color(0));
  for (size_t i = 0; i < categorical_palette().size(); ++i) {
    for (size_t j = 0; j < i; ++j) EXPECT_NE(to_hex(palette_color(i)), to_hex(palette_color(j)));
  }
}

TEST(Ticks, NiceNumber) {
  EXPECT_DOUBLE_EQ(nice_number(0.83, false), 1.0);
  EXPECT_DOUBLE_EQ(nice_number(0.25, true), 0.2);  // f = 2.5 < 3 -> 2
  EXPECT_DOUBLE_EQ(nice_number(1234, false), 2000);
  EXPECT_DOUBLE_EQ(nice_number(400, true), 500);  // f = 4 < 7 -> 5
  EXPECT_DOUBLE_EQ(nice_number(75, true), 100);   // f = 7.5 -> 10
  EXPECT_DOUBLE_EQ(nice_number(14, true), 10);
}

TEST(Ticks, HandWorkedLinearCases) {
  // [0, 0.83], 6 ticks: range nice(0.83) = 1, step nice(1/5 = 0.2) = 0.2 -> 0 .. 1.0.
  Ticks t = nice_ticks(0, 0.83, 6);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_DOUBLE_EQ(t.hi, 1.0);
  EXPECT_DOUBLE_EQ(t.values[3], 0.6000000000000001);  // 3 * 0.2 in doubles
  EXPECT_EQ(format_tick(t.values[3], t.step, TickFormat::kAuto), "0.6");
  // [0, 1234]: range nice(1234) = 2000, step nice(400) = 500 -> 0, 500, 1000, 1500.
  t = nice_ticks(0, 1234, 6);
  EXPECT_EQ(t.values, (std::vector<double>{0, 500, 1000, 1500}));
  // [-3.2, 7.7]: range nice(10.9) = 20, step nice(4) = 5 -> -5 .. 10.
  t = nice_ticks(-3.2, 7.7, 6);
  EXPECT_EQ(t.values, (std::vector<double>{-5, 0, 5, 10}));
  // [0, 95]: range 100, step nice(20) = 20 -> 0 .. 100.
  t = nice_ticks(0, 95, 6);
  EXPECT_EQ(t.values.size(), 6u);
  EXPECT_DOUBLE_EQ(t.hi, 100);
  // [0.1, 0.3]: range nice(0.2) = 0.2, step nice(0.04) = 0.05 -> 0.1, 0.15, ..., 0.3.
  t = nice_ticks(0.1, 0.3, 6);
  ASSERT_EQ(t.values.size(), 5u);
  EXPECT_EQ(format_tick(t.values[1], t.step, TickFormat::kAuto), "0.15");
  EXPECT_EQ(format_tick(t.values[4], t.step, TickFormat::kAuto), "0.30");
  // Degenerate range at 0 widens to [0, 1].
  t = nice_ticks(0, 0, 6);
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_DOUBLE_EQ(t.hi, 1);
  // Exact ends are kept: [0, 1] stays [0, 1].
  t = nice_ticks(0, 1, 6);
  EXPECT_DOUBLE_EQ(t.hi, 1);
}

TEST(Ticks, LogTicks) {
  Ticks t = log_ticks(1000, 128000, 10);
  EXPECT_EQ(t.values, (std::vector<double>{1e3, 1e4, 1e5, 1e6}));
  t = log_ticks(1024, 131072, 2);  // 2^10 .. 2^17: 8 ticks
  ASSERT_EQ(t.values.size(), 8u);
  EXPECT_DOUBLE_EQ(t.values.front(), 1024);
  EXPECT_DOUBLE_EQ(t.values.back(), 131072);
  t = log_ticks(1, 1 << 20, 2, 10);  // 21 powers -> every 3rd: 2^0, 2^3, ..., 2^18
  EXPECT_EQ(t.values.size(), 7u);
  EXPECT_DOUBLE_EQ(t.values[1], 8);
  t = log_ticks(1e8, 1e10, 10);  // two decades: 1, 2, 5 times each power
  EXPECT_EQ(t.values, (std::vector<double>{1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10}));
  t = log_ticks(2, 8, 10);  // one decade: 1, 2, 5, 10
  EXPECT_EQ(t.values, (std::vector<double>{1, 2, 5, 10}));
}

TEST(Ticks, Formats) {
  EXPECT_EQ(format_tick(0.25, 0.05, TickFormat::kPercent), "25%");
  EXPECT_EQ(format_tick(0.125, 0.005, TickFormat::kPercent), "12.5%");
  EXPECT_EQ(format_tick(1500, 500, TickFormat::kSi), "1.5K");
  EXPECT_EQ(format_tick(5e9, 1e9, TickFormat::kSi), "5B");
  EXPECT_EQ(format_tick(300e6, 100e6, TickFormat::kSi), "300M");
  EXPECT_EQ(format_tick(131072, 0, TickFormat::kBinary), "128K");
  EXPECT_EQ(format_tick(81920, 0, TickFormat::kBinary), "80K");
  EXPECT_EQ(format_tick(512, 0, TickFormat::kBinary), "512");
  EXPECT_EQ(format_tick(1e-17, 0.2, TickFormat::kAuto), "0.0");
  EXPECT_EQ(format_tick(-1e-17, 0.2, TickFormat::kAuto), "0.0");
  EXPECT_EQ(format_tick(0.1, 0.025, TickFormat::kPercent), "10.0%");
  EXPECT_EQ(format_tick(-0.0, 1, TickFormat::kAuto), "0");
  EXPECT_EQ(format_tick(2.5, 0.5, TickFormat::kAuto), "2.5");
}

}  // namespace
}  // namespace longctx::plot
