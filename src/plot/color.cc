#include "plot/color.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace longctx::plot {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

double srgb_to_linear(double c) {
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

}  // namespace

Result<Rgb> parse_hex_color(std::string_view hex) {
  std::string_view s = hex;
  if (!s.empty() && s[0] == '#') s.remove_prefix(1);
  if (s.size() != 6) {
    return make_error(ErrorCode::kInvalidArgument, "colour '{}': expected #RRGGBB", hex);
  }
  uint32_t v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return make_error(ErrorCode::kInvalidArgument, "colour '{}': '{}' is not a hex digit", hex, c);
    v = v * 16 + static_cast<uint32_t>(d);
  }
  return rgb_from_hex(v);
}

Rgb rgb_from_hex(uint32_t rrggbb) {
  return {((rrggbb >> 16) & 0xFF) / 255.0, ((rrggbb >> 8) & 0xFF) / 255.0, (rrggbb & 0xFF) / 255.0};
}

std::string to_hex(Rgb c) {
  auto byte = [](double x) { return static_cast<int>(std::lround(std::clamp(x, 0.0, 1.0) * 255.0)); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(c.r), byte(c.g), byte(c.b));
}

double relative_luminance(Rgb c) {
  return 0.2126 * srgb_to_linear(c.r) + 0.7152 * srgb_to_linear(c.g) + 0.0722 * srgb_to_linear(c.b);
}

Status validate_color_scale(const ColorScale& scale) {
  if (scale.stops.empty()) return make_error(ErrorCode::kInvalidArgument, "colour scale has no stops");
  for (size_t i = 0; i < scale.stops.size(); ++i) {
    if (!std::isfinite(scale.stops[i].value)) {
      return make_error(ErrorCode::kInvalidArgument, "colour scale stop {} is not finite", i);
    }
    if (i > 0 && !(scale.stops[i].value > scale.stops[i - 1].value)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "colour scale stops must increase: stop {} = {} after {}", i,
                        scale.stops[i].value, scale.stops[i - 1].value);
    }
  }
  return Status::ok();
}

Rgb color_scale_at(const ColorScale& scale, double v) {
  const auto& s = scale.stops;
  if (s.empty()) return {};
  if (std::isnan(v) || v <= s.front().value) return s.front().color;
  if (v >= s.back().value) return s.back().color;
  size_t hi = 1;
  while (s[hi].value < v) ++hi;
  const ColorStop& a = s[hi - 1];
  const ColorStop& b = s[hi];
  double t = (v - a.value) / (b.value - a.value);
  return {a.color.r + t * (b.color.r - a.color.r), a.color.g + t * (b.color.g - a.color.g),
          a.color.b + t * (b.color.b - a.color.b)};
}

ColorScale needle_color_scale() {
  return ColorScale{{{0.0, rgb_from_hex(0xF0496E)}, {0.5, rgb_from_hex(0xEBB839)}, {1.0, rgb_from_hex(0x0CD79F)}}};
}

const std::vector<Rgb>& categorical_palette() {
  static const std::vector<Rgb> kPalette = {
      // Tol bright: blue, red, green, yellow, cyan, purple, grey.
      rgb_from_hex(0x4477AA), rgb_from_hex(0xEE6677), rgb_from_hex(0x228833), rgb_from_hex(0xCCBB44),
      rgb_from_hex(0x66CCEE), rgb_from_hex(0xAA3377), rgb_from_hex(0xBBBBBB),
      // Tol muted: indigo, teal, olive, wine, sand.
      rgb_from_hex(0x332288), rgb_from_hex(0x44AA99), rgb_from_hex(0x999933), rgb_from_hex(0x882255),
      rgb_from_hex(0xDDCC77)};
  return kPalette;
}

Rgb palette_color(size_t i) {
  const auto& p = categorical_palette();
  return p[i % p.size()];
}

}  // namespace longctx::plot
