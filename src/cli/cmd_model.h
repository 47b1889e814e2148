// `longctx model init|info|export-gguf|forward` and `longctx generate` (issue 4).
#pragma once
#include <CLI/CLI.hpp>

namespace longctx::cli {

// Adds the "model" command group and "generate" to app. Failures print "longctx: error: ..." to
// stderr and end the parse with exit code 1 (CLI::RuntimeError), so any main() works.
void register_model_commands(CLI::App& app);

}  // namespace longctx::cli
