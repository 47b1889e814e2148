// Axis tick generation and tick-label formatting.
// Linear axes use Heckbert's "nice numbers" (Graphics Gems I, 1990): the step is 1, 2 or 5 times a
// power of ten and the axis is widened outward to whole steps. Log axes tick at powers of the base.
#pragma once
#include <string>
#include <vector>

namespace longctx::plot {

// Ticks of one axis. The axis spans [lo, hi]; `values` are the tick positions, ascending.
struct Ticks {
  double lo = 0, hi = 1;
  double step = 0;  // linear step (0 for log axes)
  std::vector<double> values;
};

// Heckbert's nice number near x > 0: with round, the nearest of {1,2,5,10}*10^k (cut-offs 1.5, 3,
// 7); without, the smallest of them >= x.
double nice_number(double x, bool round);
// Linear ticks covering [lo, hi] with about `target_count` ticks:
//   range = nice_number(hi - lo, false); step = nice_number(range / (target_count - 1), true);
//   ticks from floor(lo / step) * step to ceil(hi / step) * step.
// lo == hi is widened (to [0, 1] at 0, else by 10% of |lo| each way). Tick values are rounded to
// whole multiples of the step so labels never read 0.30000000000000004.
Ticks nice_ticks(double lo, double hi, int target_count = 6);
// Ticks at the powers of `base` (10 or 2) from floor(log_b lo) to ceil(log_b hi) (lo, hi > 0).
// With more than `max_count` powers, every k-th is kept (k the smallest that fits). A base-10 axis
// spanning at most two decades also gets 2x and 5x ticks.
Ticks log_ticks(double lo, double hi, double base = 10, int max_count = 10);

enum class TickFormat {
  kAuto,     // fixed decimals from the step ("0.25", "100")
  kSi,       // 1000-based suffixes K, M, B, T (token counts: "300M", "5B")
  kBinary,   // 1024-based K, M (sequence lengths: 131072 -> "128K")
  kPercent,  // fractions as percent: 0.25 -> "25%"
};

// Formats tick value v on an axis with linear step `step`. kAuto and kPercent print the decimals
// the step needs, the same for every tick ("0.10", "0.15"); step 0 (log axes, annotations) prints
// the shortest form up to 3 decimals (1 for percent). Suffixed formats drop trailing zeros
// ("1.5K", "2K"). Values within step*1e-9 of zero print as zero, never "-0".
std::string format_tick(double v, double step, TickFormat format);

}  // namespace longctx::plot
