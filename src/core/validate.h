// Range checks for flags and configuration fields, with one wording everywhere: every numeric
// flag of every command and every field of a stage's configuration struct is checked with these
// before any work starts, so no value reaches an allocation or a loop it was not meant for.
//
// Messages name the flag (or field), the valid range and the value found, e.g.
//   "--long-share: expected a number in [0, 1], got nan"
//   "--seed: expected an integer in [0, 18446744073709551615], got -1"
// 64-bit values are printed in full, never truncated or rounded through a double; NaN and
// infinities are always out of range.
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/status.h"

namespace longctx {

Status check_range_signed(std::string_view name, int64_t value, int64_t lo, int64_t hi);
Status check_range_unsigned(std::string_view name, uint64_t value, uint64_t lo, uint64_t hi);
Status check_range_real(std::string_view name, double value, double lo, double hi);

// lo <= value <= hi (closed interval). The bounds take the value's own type, so
// check_range("--threads", int_flag, 0, 1024) needs no casts.
template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
Status check_range(std::string_view name, T value, std::type_identity_t<T> lo, std::type_identity_t<T> hi) {
  if constexpr (std::is_floating_point_v<T>) {
    return check_range_real(name, static_cast<double>(value), static_cast<double>(lo), static_cast<double>(hi));
  } else if constexpr (std::is_signed_v<T>) {
    return check_range_signed(name, value, lo, hi);
  } else {
    return check_range_unsigned(name, value, lo, hi);
  }
}

// Shares over named parts (e.g. --domain-shares): each in [0, 1], summing to 1 within 1e-6.
inline constexpr double kShareSumTolerance = 1e-6;
Status check_shares(std::string_view name, const std::map<std::string, double>& shares);

// Fails when a planned allocation of `bytes` is more than this machine's physical memory, so a
// flag never ends in std::bad_alloc or the kernel's out-of-memory killer: the message names
// `what`, the size needed and the memory there is.
Status check_memory(std::string_view what, uint64_t bytes);
uint64_t physical_memory_bytes();

// Strict decimal syntax for a value of type T given as text: the whole text must be the number;
// integers are plain decimal digits (a leading '-' only for signed types; no octal, hex, '+' or
// spaces) within T's range; reals are what std::from_chars reads (decimal or exponent notation,
// "nan", "inf"), whose range is for check_range to judge. The error names the flag and, for
// integers, T's range.
Result<int64_t> parse_integer_signed(std::string_view name, std::string_view text, int64_t lo, int64_t hi);
Result<uint64_t> parse_integer_unsigned(std::string_view name, std::string_view text, uint64_t hi);
Result<double> parse_real(std::string_view name, std::string_view text);

template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
Result<T> parse_number(std::string_view name, std::string_view text) {
  if constexpr (std::is_floating_point_v<T>) {
    LONGCTX_ASSIGN_OR_RETURN(double v, parse_real(name, text));
    return static_cast<T>(v);
  } else if constexpr (std::is_signed_v<T>) {
    LONGCTX_ASSIGN_OR_RETURN(int64_t v, parse_integer_signed(name, text, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    return static_cast<T>(v);
  } else {
    LONGCTX_ASSIGN_OR_RETURN(uint64_t v, parse_integer_unsigned(name, text, std::numeric_limits<T>::max()));
    return static_cast<T>(v);
  }
}

}  // namespace longctx
