// longctx needle, needle compare, loss (docs/evaluation.md); longctx serve is in cmd_serve.h.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx::cli {

struct NeedleOptions {
  std::string model, endpoint, model_name, api_key_env, tokenizer, haystack, out, name;
  std::string task = "needle", lengths = "1K:128K:40", depths = "10", train_length;
  std::string needle, question, answer, prompt_template;
  int max_new_tokens = 50, needles = 4, concurrency = 1, retries = 5, threads = 0, prefill_chunk = 512;
  int64_t buffer = 200, context_length = 0;
  double timeout = 600, backoff = 1;
  uint64_t seed = 0;
  bool overwrite = false, allow_beyond_context = false;
  Status validate() const;
};
Status run_needle(const NeedleOptions& o);

struct NeedleCompareOptions {
  std::vector<std::string> runs, names;
  std::string out, train_length;
  bool overwrite = false;
  Status validate() const;
};
Status run_needle_compare(const NeedleCompareOptions& o);

struct LossOptions {
  std::string model, data, baseline, out, name, baseline_name;
  std::string split = "4K", seq_len = "0", max_tokens = "1M", buckets;
  std::vector<std::string> also;  // loss.json files of earlier runs, added to the position curve
  double threshold = 0.01;
  uint64_t seed = 0;
  int threads = 0;
  bool markdown = false, overwrite = false;
  Status validate() const;
};
Status run_loss(const LossOptions& o);

void register_eval_commands(CLI::App& app);

}  // namespace longctx::cli
