#include "core/validate.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/units.h"

namespace longctx {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "NAME: " before a message, or nothing for an empty name (a caller that adds the name itself,
// such as CLI11, which prefixes the flag to its validators' messages).
std::string lead(std::string_view name) { return name.empty() ? std::string() : fmt::format("{}: ", name); }

}  // namespace

Status check_range_signed(std::string_view name, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return Status::ok();
  return make_error(ErrorCode::kInvalidArgument, "{}expected an integer in [{}, {}], got {}", lead(name), lo, hi, value);
}

Status check_range_unsigned(std::string_view name, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value >= lo && value <= hi) return Status::ok();
  return make_error(ErrorCode::kInvalidArgument, "{}expected an integer in [{}, {}], got {}", lead(name), lo, hi, value);
}

Status check_range_real(std::string_view name, double value, double lo, double hi) {
  if (value >= lo && value <= hi) return Status::ok();  // false for NaN
  return make_error(ErrorCode::kInvalidArgument, "{}expected a number in [{}, {}], got {}", lead(name), lo, hi, value);
}

Status check_shares(std::string_view name, const std::map<std::string, double>& shares) {
  double sum = 0;
  for (const auto& [part, share] : shares) {
    LONGCTX_RETURN_IF_ERROR(check_range(fmt::format("{} ({})", name, part), share, 0.0, 1.0));
    sum += share;
  }
  if (shares.empty() || std::fabs(sum - 1) > kShareSumTolerance)
    return make_error(ErrorCode::kInvalidArgument, "{}the shares sum to {}, expected 1 (within {})", lead(name), sum, kShareSumTolerance);
  return Status::ok();
}

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : UINT64_MAX;
}

Status check_memory(std::string_view what, uint64_t bytes) {
  const uint64_t have = physical_memory_bytes();
  if (bytes <= have) return Status::ok();
  return make_error(ErrorCode::kInvalidArgument, "{} needs {} bytes ({}), more than this machine's {} bytes ({}) of memory", what, bytes,
                    format_bytes(static_cast<double>(bytes)), have, format_bytes(static_cast<double>(have)));
}

Result<int64_t> parse_integer_signed(std::string_view name, std::string_view text, int64_t lo, int64_t hi) {
  const bool negative = !text.empty() && text[0] == '-';
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (!all_digits(text.substr(negative ? 1 : 0)) || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    return make_error(ErrorCode::kInvalidArgument, "{}expected an integer in [{}, {}], got '{}'", lead(name), lo, hi, text);
  return v;
}

Result<uint64_t> parse_integer_unsigned(std::string_view name, std::string_view text, uint64_t hi) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (!all_digits(text) || ec != std::errc() || end != text.data() + text.size() || v > hi)
    return make_error(ErrorCode::kInvalidArgument, "{}expected an integer in [0, {}], got '{}'", lead(name), hi, text);
  return v;
}

Result<double> parse_real(std::string_view name, std::string_view text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  // from_chars reports magnitudes beyond double (1e999, 1e-999) as errors; strtod gives them
  // their value (an infinity or zero), which the range check then judges.
  if (ec == std::errc::result_out_of_range && end == text.data() + text.size())
    return std::strtod(std::string(text).c_str(), nullptr);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return make_error(ErrorCode::kInvalidArgument, "{}expected a number, got '{}'", lead(name), text);
  return v;
}

}  // namespace longctx
