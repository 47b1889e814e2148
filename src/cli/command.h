// The one CLI dialect (docs/architecture.md "The command line"). Every command is
//   struct <Command>Options { ...flags...; Status validate() const; };
//   Status run_<command>(const <Command>Options&);
// bound to its CLI11 subcommand with set_run(), which validates, runs, reports a failure as
// "longctx: error: ..." on stderr and sets the exit code. Commands call libraries and print
// results; they hold no library logic of their own. Only src/cli prints or exits.
#pragma once
#include <CLI/CLI.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/status.h"
#include "core/validate.h"

namespace longctx::cli {

// Exit status of the longctx program.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and failed: bad input data, I/O, a failed check
inline constexpr int kExitUsage = 2;   // the command line is wrong: unknown flag or command, bad or out-of-range value

// Worker threads a --threads flag accepts (0 = all cores): more than any machine we target has
// cores, and few enough that per-thread buffers stay small.
inline constexpr int kMaxThreads = 1024;

// Prints "longctx: error: <message>" to stderr, after flushing stdout so the two stay in order.
void report_error(std::string_view message);

// Returns on ok; otherwise reports the error and ends the parse with `exit_code`
// (CLI::RuntimeError, which run_app() returns as the exit status; a test sees the exception).
void finish(const Status& st, int exit_code = kExitFailed);

// A wrong command line found by a command's validate(): reported with a pointer to the command's
// --help, exit 2.
void finish_usage(const CLI::App* cmd, const Status& st);

// The line after a usage error: "Run 'longctx mix --help' for its options and examples."
void print_help_hint(const CLI::App* cmd);

// Binds a subcommand to its options and run function. CLI11 fills *options while parsing; the
// callback then checks options->validate() (every numeric flag range-checked before any work;
// failure: exit 2) and calls run(*options) (failure: exit 1). A command that also has subcommands
// (`mix` and `mix report`) runs only when none of them was given.
template <typename Options>
void set_run(CLI::App* cmd, std::shared_ptr<Options> options, Status (*run)(const Options&)) {
  cmd->callback([cmd, options, run] {
    if (!cmd->get_subcommands().empty()) return;
    finish_usage(cmd, options->validate());
    finish(run(*options));
  });
}

// The examples shown at the end of `--help`: each line is a full invocation starting with the
// command's own path ("longctx mix report ..."); `note` (optional) follows them.
void set_examples(CLI::App* cmd, std::initializer_list<std::string_view> lines, std::string_view note = {});

// "longctx mix report": the invocation of a (sub)command.
std::string command_path(const CLI::App* cmd);

// CLI11 validator name of strict_number(); tests check every numeric option carries it.
inline constexpr const char* kStrictNumber = "strict-number";

// A validator giving T's text strict syntax (core/validate.h parse_number: no sign on unsigned
// values, no octal or hex, no silent overflow), with messages naming the flag and T's range.
CLI::Validator strict_integer_signed(int64_t lo, int64_t hi);
CLI::Validator strict_integer_unsigned(uint64_t hi);
CLI::Validator strict_real();

template <typename T>
struct element_of {
  using type = T;
};
template <typename T>
struct element_of<std::vector<T>> {
  using type = T;
};

template <typename T>
CLI::Validator strict_number() {
  using E = typename element_of<T>::type;
  if constexpr (std::is_floating_point_v<E>) return strict_real();
  else if constexpr (std::is_signed_v<E>) return strict_integer_signed(std::numeric_limits<E>::min(), std::numeric_limits<E>::max());
  else return strict_integer_unsigned(std::numeric_limits<E>::max());
}

// A numeric option (or a list of numbers) with strict syntax and its default shown in --help. The
// range is checked by the command's validate() with check_range (core/validate.h).
template <typename T>
CLI::Option* add_number(CLI::App* cmd, const std::string& name, T& value, const std::string& description) {
  return cmd->add_option(name, value, description)->check(strict_number<T>())->capture_default_str();
}

}  // namespace longctx::cli
