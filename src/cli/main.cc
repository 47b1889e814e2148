#include <CLI/CLI.hpp>
#include "longctx/version.h"
int main(int argc, char** argv) {
  CLI::App app{"longctx"};
  app.set_version_flag("--version", LONGCTX_VERSION);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
