// longctx stats
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx::cli {

struct StatsOptions {
  std::string store;
  std::vector<uint64_t> thresholds = {4096};
  std::string json, markdown, format = "table";
  std::vector<std::string> figures;
  bool overwrite = false;
  Status validate() const;
};
Status run_stats(const StatsOptions& o);

void register_stats_commands(CLI::App& app);

}  // namespace longctx::cli
