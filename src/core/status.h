// Status / Result<T>: how every library in longctx reports failure.
// Libraries never print or exit (only src/cli does); they return an error whose message carries the
// context a user needs: the file, the line or record, what was expected and what was found.
#pragma once
#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace longctx {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad flag or parameter
  kIo,               // open/read/write/rename failed
  kCorrupt,          // input does not follow its format (bad JSON, truncated zstd, bad magic)
  kNotFound,
  kUnsupported,
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prefix context, e.g. status.with_context("reading shard 3").
  Status with_context(const std::string& ctx) const {
    if (is_ok()) return *this;
    return {code_, ctx + ": " + message_};
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename... Args>
Status make_error(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}

// Result<T>: a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }  // NOLINT
  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace longctx

#define LONGCTX_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::longctx::Status _st = (expr);          \
    if (!_st.is_ok()) return _st;            \
  } while (0)

#define LONGCTX_CONCAT_INNER(a, b) a##b
#define LONGCTX_CONCAT(a, b) LONGCTX_CONCAT_INNER(a, b)
#define LONGCTX_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.is_ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
#define LONGCTX_ASSIGN_OR_RETURN(lhs, expr) \
  LONGCTX_ASSIGN_OR_RETURN_IMPL(LONGCTX_CONCAT(_res_, __LINE__), lhs, expr)
