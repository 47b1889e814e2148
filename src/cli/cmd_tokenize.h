// longctx tokenize | store merge | store info | store verify
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/status.h"
#include "store/build_store.h"

namespace longctx::cli {

struct TokenizeOptions {
  TokenizeConfig config;  // task and num_tasks come from `task`
  std::string task = "0/1", impl = "auto";
  Result<TokenizeConfig> to_config() const;
  Status validate() const;
};
Status run_tokenize(const TokenizeOptions& o);

struct StoreMergeOptions {
  std::vector<std::string> inputs;
  std::string out;
  bool overwrite = false;
  Status validate() const { return Status::ok(); }
};
Status run_store_merge(const StoreMergeOptions& o);

struct StoreInfoOptions {
  std::string store;
  Status validate() const { return Status::ok(); }
};
Status run_store_info(const StoreInfoOptions& o);

struct StoreVerifyOptions {
  std::string store;
  Status validate() const { return Status::ok(); }
};
Status run_store_verify(const StoreVerifyOptions& o);

void register_tokenize_commands(CLI::App& app);

}  // namespace longctx::cli
