#include "cli/command.h"

#include <cstdio>
#include <fmt/format.h>

namespace longctx::cli {

void report_error(std::string_view message) {
  std::fflush(stdout);
  fmt::print(stderr, "longctx: error: {}\n", message);
}

void finish(const Status& st, int exit_code) {
  if (st.is_ok()) return;
  report_error(st.message());
  throw CLI::RuntimeError(exit_code);
}

void print_help_hint(const CLI::App* cmd) {
  fmt::print(stderr, "Run '{} --help' for its options and examples.\n", command_path(cmd));
}

void finish_usage(const CLI::App* cmd, const Status& st) {
  if (st.is_ok()) return;
  report_error(st.message());
  print_help_hint(cmd);
  throw CLI::RuntimeError(kExitUsage);
}

std::string command_path(const CLI::App* cmd) {
  std::string path = cmd->get_name();
  for (const CLI::App* p = cmd->get_parent(); p; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

void set_examples(CLI::App* cmd, std::initializer_list<std::string_view> lines, std::string_view note) {
  std::string text = lines.size() > 1 ? "Examples:\n" : "Example:\n";
  for (std::string_view l : lines) text += fmt::format("  {}\n", l);
  if (!note.empty()) text += note;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  cmd->footer(text);
}

// CLI11 puts "FLAG: " before a validator's message, so these pass an empty name.
CLI::Validator strict_integer_signed(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) {
        auto r = parse_integer_signed("", s, lo, hi);
        return r.is_ok() ? std::string() : r.status().message();
      },
      "", kStrictNumber);
}

CLI::Validator strict_integer_unsigned(uint64_t hi) {
  return CLI::Validator(
      [hi](std::string& s) {
        auto r = parse_integer_unsigned("", s, hi);
        return r.is_ok() ? std::string() : r.status().message();
      },
      "", kStrictNumber);
}

CLI::Validator strict_real() {
  return CLI::Validator(
      [](std::string& s) {
        auto r = parse_real("", s);
        return r.is_ok() ? std::string() : r.status().message();
      },
      "", kStrictNumber);
}

}  // namespace longctx::cli
