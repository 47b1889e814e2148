#include "core/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <numeric>
#include <fmt/format.h>

namespace longctx {
namespace {

Result<uint64_t> parse_with(const std::string& s, const char* what,
                            double (*mult)(const std::string& suffix, bool& ok)) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + i, v);
  if (i == 0 || ec != std::errc() || end != s.data() + i || !(v >= 0))
    return make_error(ErrorCode::kInvalidArgument, "invalid {} '{}': expected a number with an optional suffix", what, s);
  std::string suf = s.substr(i);
  for (auto& c : suf) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  bool ok = true;
  double m = mult(suf, ok);
  if (!ok) return make_error(ErrorCode::kInvalidArgument, "invalid {} '{}': unknown suffix '{}'", what, s, s.substr(i));
  double x = v * m;
  if (!(x < 1.8e19)) return make_error(ErrorCode::kInvalidArgument, "invalid {} '{}': too large", what, s);
  return static_cast<uint64_t>(std::llround(x));
}

}  // namespace

Result<uint64_t> parse_byte_size(const std::string& s) {
  return parse_with(s, "size", [](const std::string& u, bool& ok) -> double {
    if (u.empty() || u == "B") return 1;
    if (u == "K" || u == "KB") return 1e3;
    if (u == "M" || u == "MB") return 1e6;
    if (u == "G" || u == "GB") return 1e9;
    if (u == "T" || u == "TB") return 1e12;
    if (u == "KIB") return 1024.0;
    if (u == "MIB") return 1024.0 * 1024;
    if (u == "GIB") return 1024.0 * 1024 * 1024;
    if (u == "TIB") return 1024.0 * 1024 * 1024 * 1024;
    ok = false;
    return 0;
  });
}

Result<uint64_t> parse_token_count(const std::string& s) {
  return parse_with(s, "token count", [](const std::string& u, bool& ok) -> double {
    if (u.empty()) return 1;
    if (u == "K") return 1e3;
    if (u == "M") return 1e6;
    if (u == "B" || u == "G") return 1e9;
    if (u == "T") return 1e12;
    ok = false;
    return 0;
  });
}

Result<uint64_t> parse_seq_len(const std::string& s) {
  return parse_with(s, "length", [](const std::string& u, bool& ok) -> double {
    if (u.empty()) return 1;
    if (u == "K") return 1024;
    if (u == "M") return 1024.0 * 1024;
    ok = false;
    return 0;
  });
}

std::string format_bytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int i = 0;
  while (b >= 1000 && i < 4) {
    b /= 1000;
    ++i;
  }
  return i == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.2f} {}", b, units[i]);
}

std::string format_count(double n) {
  const char* units[] = {"", "K", "M", "B", "T"};
  int i = 0;
  while (n >= 1000 && i < 4) {
    n /= 1000;
    ++i;
  }
  return i == 0 ? fmt::format("{:.0f}", n) : fmt::format("{:.2f}{}", n, units[i]);
}

std::string format_length(uint64_t n) {
  for (uint64_t unit : {uint64_t{1} << 20, uint64_t{1} << 10}) {
    // n / unit has at most two decimals when 100 n is a multiple of unit, i.e. when n is a
    // multiple of unit / gcd(100, unit) (no overflow for any n).
    if (n < unit || n % (unit / std::gcd(uint64_t{100}, unit)) != 0) continue;
    std::string s = fmt::format("{:.2f}", static_cast<double>(n) / static_cast<double>(unit));  // quarters: exact
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s + (unit == (uint64_t{1} << 20) ? "M" : "K");
  }
  return std::to_string(n);
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--";
  auto t = static_cast<long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

}  // namespace longctx
