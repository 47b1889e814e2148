// The longctx program: one binary, one subcommand per stage (docs/architecture.md); the command
// tree and its error handling live in the longctx_cli library (cli/app.h) so tests run them too.
#include "cli/app.h"

int main(int argc, char** argv) {
  auto app = longctx::cli::make_app();
  return longctx::cli::run_app(*app, argc, argv);
}

// Under LeakSanitizer (the asan preset), fontconfig's process-lifetime caches (cairo text in
// figures) are not leaks of ours. Without LSan this hook is never called.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
