// longctx reproduce | report
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"
#include "study/study_config.h"

namespace longctx::cli {

struct ReproduceOptions {
  std::string preset, config, out;
  std::string corpus, tokenizer;  // override corpus.source/path and tokenizer.path
  std::string from, until;
  int threads = -1;  // -1: the configuration's
  bool list = false, print_config = false, no_report = false;
  // The study's configuration: the preset or file (or, with neither, the one the study directory
  // already holds), the overrides applied, range-checked.
  Result<study::StudyConfig> resolve() const;
  Status validate() const { return resolve().status(); }
};
Status run_reproduce(const ReproduceOptions& o);

struct ReportOptions {
  std::string dir;
  Status validate() const { return Status::ok(); }
};
Status run_report(const ReportOptions& o);

void register_reproduce_commands(CLI::App& app);

}  // namespace longctx::cli
