// The longctx program: one binary, one subcommand per stage (design.md "Data flow").
#include <CLI/CLI.hpp>

#include "cli/cli_util.h"
#include "cli/cmd_model.h"
#include "longctx/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "longctx: extend a LLaMA-family model's context window to 64K-128K by data engineering\n"
      "(Fu et al. 2024, \"Data Engineering for Scaling Language Models to 128K Context\").\n\n"
      "Typical flow:\n"
      "  longctx corpus sample --out data/sample                  # or your SlimPajama copy\n"
      "  longctx tokenizer train data/sample/train --out data/tokenizer.model\n"
      "  longctx tokenize data/sample/train --tokenizer data/tokenizer.model --out data/store\n"
      "  longctx stats data/store --figure data/stats.png\n",
      "longctx"};
  app.set_version_flag("--version", LONGCTX_VERSION);
  app.add_flag("-q,--quiet", longctx::cli::global_quiet(), "No progress output");
  app.require_subcommand(1);
  app.fallthrough();
  longctx::cli::register_corpus_commands(app);
  longctx::cli::register_tokenizer_commands(app);
  longctx::cli::register_tokenize_commands(app);
  longctx::cli::register_stats_commands(app);
  longctx::cli::register_mix_commands(app);
  longctx::cli::register_model_commands(app);
  try {
    CLI11_PARSE(app, argc, argv);
  } catch (const std::exception& e) {  // a library bug must still end with a message, not an abort
    return longctx::cli::fail(std::string("internal error: ") + e.what());
  }
  return longctx::cli::exit_code();
}

// Under LeakSanitizer (the asan preset), fontconfig's process-lifetime caches (cairo text in
// figures) are not leaks of ours. Without LSan this hook is never called.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
