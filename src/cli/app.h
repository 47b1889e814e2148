// The longctx program's command tree and its one entry point, shared by main() and the tests.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace longctx::cli {

// Builds the whole command tree: every command group registered, -q/--quiet and --version.
std::unique_ptr<CLI::App> make_app();

// Parses the command line and runs the chosen command; returns the exit status (command.h:
// 0 ok, 1 the command failed, 2 the command line is wrong). Usage errors name the unknown flag or
// command, with a "did you mean" when one is close, and point to the command's --help.
int run_app(CLI::App& app, int argc, const char* const* argv);

// The candidate closest to `word` by edit distance (insertions, deletions, substitutions and
// swaps of neighbours), if it is close enough to be a typo (at most a third of the word's length,
// at least 1), else empty.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace longctx::cli
