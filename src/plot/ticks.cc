#include "plot/ticks.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace longctx::plot {
namespace {

// Decimals needed to print multiples of `step` exactly: the smallest d with step * 10^d whole.
int decimals_for_step(double step) {
  if (!(step > 0) || !std::isfinite(step)) return 3;
  for (int d = 0; d < 10; ++d) {
    double scaled = step * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) <= 1e-6 * scaled) return d;
  }
  return 10;
}

// Shortest representation with at most `max_dec` decimals, trailing zeros removed.
std::string trim_number(double v, int max_dec) {
  std::string s = fmt::format("{:.{}f}", v, max_dec);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

// Fixed decimals, so the labels of one axis line up ("0.10", "0.15", "0.20").
std::string fixed_number(double v, int dec) {
  std::string s = fmt::format("{:.{}f}", v, dec);
  if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);
  return s;
}

std::string with_suffix(double v, double step, double base, const char* const* suffixes, int n) {
  double a = std::fabs(v);
  int k = 0;
  while (k + 1 < n && a >= std::pow(base, k + 1)) ++k;
  double unit = std::pow(base, k);
  // Decimals: enough to tell neighbouring ticks apart at this unit.
  int dec = step > 0 ? decimals_for_step(step / unit) : 2;
  return trim_number(v / unit, std::min(dec, 3)) + suffixes[k];
}

}  // namespace

double nice_number(double x, bool round) {
  if (!(x > 0) || !std::isfinite(x)) return 1.0;
  double e = std::floor(std::log10(x));
  double f = x / std::pow(10.0, e);  // in [1, 10)
  double nf;
  if (round) {
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return nf * std::pow(10.0, e);
}

Ticks nice_ticks(double lo, double hi, int target_count) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    if (lo == 0) {
      hi = 1;
    } else {
      double d = std::fabs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
  }
  target_count = std::max(target_count, 2);
  double range = nice_number(hi - lo, false);
  double step = nice_number(range / (target_count - 1), true);
  double first = std::floor(lo / step + 1e-9);
  double last = std::ceil(hi / step - 1e-9);
  Ticks t;
  t.step = step;
  for (double k = first; k <= last + 0.5; k += 1) {
    double v = k * step;
    if (std::fabs(v) < step * 1e-9) v = 0;
    t.values.push_back(v);
  }
  t.lo = t.values.front();
  t.hi = t.values.back();
  return t;
}

Ticks log_ticks(double lo, double hi, double base, int max_count) {
  Ticks t;
  if (!(lo > 0) || !(hi > 0)) lo = 1, hi = base;
  if (lo > hi) std::swap(lo, hi);
  double lb = std::log(base);
  int e0 = static_cast<int>(std::floor(std::log(lo) / lb + 1e-9));
  int e1 = static_cast<int>(std::ceil(std::log(hi) / lb - 1e-9));
  if (e1 == e0) ++e1;
  int n = e1 - e0 + 1;
  int every = 1;
  while ((n + every - 1) / every > std::max(max_count, 2)) ++every;
  for (int e = e0; e <= e1; e += every) t.values.push_back(std::pow(base, e));
  if (base == 10 && e1 - e0 <= 2) {
    std::vector<double> more;
    for (int e = e0; e < e1; ++e) {
      double p = std::pow(10.0, e);
      more.push_back(p);
      more.push_back(2 * p);
      more.push_back(5 * p);
    }
    more.push_back(std::pow(10.0, e1));
    t.values = more;
  }
  t.lo = std::pow(base, e0);
  t.hi = std::max(t.values.back(), std::pow(base, e1));
  // With `every` > 1 the last power may be skipped; the axis still ends at base^e1.
  return t;
}

std::string format_tick(double v, double step, TickFormat format) {
  if (step > 0 && std::fabs(v) < step * 1e-9) v = 0;
  switch (format) {
    case TickFormat::kPercent:
      if (step > 0) return fixed_number(v * 100, decimals_for_step(step * 100)) + "%";
      return trim_number(v * 100, 1) + "%";
    case TickFormat::kSi: {
      static const char* const kSuffix[] = {"", "K", "M", "B", "T"};
      return with_suffix(v, step, 1000.0, kSuffix, 5);
    }
    case TickFormat::kBinary: {
      static const char* const kSuffix[] = {"", "K", "M", "G"};
      return with_suffix(v, step, 1024.0, kSuffix, 4);
    }
    case TickFormat::kAuto:
    default:
      if (step > 0) return fixed_number(v, decimals_for_step(step));
      return trim_number(v, 3);
  }
}

}  // namespace longctx::plot
