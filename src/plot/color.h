// Colours for charts: sRGB triples, "#RRGGBB" parsing, piecewise-linear colour scales given as
// stops (the needle heatmap, paper.md "Needle in a haystack"), and a colour-blind-safe
// categorical palette for series.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx::plot {

// sRGB components in [0, 1] (not linear light).
struct Rgb {
  double r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// "#RRGGBB" or "RRGGBB" (case-insensitive).
Result<Rgb> parse_hex_color(std::string_view hex);
// 0xRRGGBB -> Rgb.
Rgb rgb_from_hex(uint32_t rrggbb);
// "#rrggbb", components rounded to the nearest of 0..255.
std::string to_hex(Rgb c);
// WCAG relative luminance (0 = black, 1 = white); picks readable text over a fill.
double relative_luminance(Rgb c);

struct ColorStop {
  double value = 0;  // data value at which `color` is reached
  Rgb color;
};

// Piecewise-linear map from data values to colours. Stops must be strictly increasing in value
// (at least one). Values below the first stop / above the last get the end colours.
struct ColorScale {
  std::vector<ColorStop> stops;
};

Status validate_color_scale(const ColorScale& scale);
// Interpolates each sRGB component linearly between the two stops around v (the same rule as a
// cairo linear gradient, so the heatmap's colour bar matches its cells). NaN -> first colour.
Rgb color_scale_at(const ColorScale& scale, double v);
// The paper's needle heatmap scale over [0, 1]: 0 red #F0496E, 0.5 yellow #EBB839, 1 green #0CD79F.
ColorScale needle_color_scale();

// Categorical palette for series: Paul Tol's "bright" scheme (7 colours, distinguishable under
// the common colour-vision deficiencies), continued by colours of his "muted" scheme.
// palette_color(i) cycles for i beyond the palette.
const std::vector<Rgb>& categorical_palette();
Rgb palette_color(size_t i);

}  // namespace longctx::plot
