// Mix planning memory is bounded by the store and the selected pieces, never by the number of
// repeats (docs/mixing.md "Scale"): --plan-only stays under 100 MB for any budget, a budget
// needing more than --max-epochs uses of a document is refused with the numbers, a memory
// estimate is checked before the mixture is built, and no flag value reaches std::bad_alloc.
// Peak memory is that of the child process (wait4's rusage), a bound and not a speed.
#include <gtest/gtest.h>

#include <filesystem>

#include "measured_run.h"
#include "mix/mixture.h"
#include "mix/synth_store.h"

namespace longctx {
namespace {

using testing::memory_bound;
using testing::run_longctx_measured;
using testing::scratch_dir;

// 100 MB (above the sanitizer runtime's own memory in the asan preset: memory_bound).
uint64_t plan_limit() { return memory_bound(100ull << 20); }

// About 2.7M tokens, SlimPajama-shaped (the size of the store the limits were first seen on).
std::string store_27m() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = scratch_dir("store-2.7M");
  SynthStoreConfig sc;
  sc.out_dir = dir;
  sc.tokens = 2700000;
  sc.max_doc_tokens = 200000;
  EXPECT_TRUE(build_synth_store(sc).is_ok());
  return dir;
}

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(MixMemory, HugeBudgetIsRefusedWithTheNumbersInLittleMemory) {
  // 10,000B tokens from 2.7M: millions of repeats of every document.
  auto r = run_longctx_measured({"mix", store_27m(), "--tokens", "10000B", "--seq-len", "16K", "--plan-only"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(has(r.output, "more than --max-epochs 64")) << r.output;
  EXPECT_TRUE(has(r.output, "uses of each of them")) << r.output;
  EXPECT_FALSE(has(r.output, "bad_alloc")) << r.output;
  EXPECT_LT(r.peak_rss_bytes, plan_limit()) << r.output;
}

TEST(MixMemory, PlanOnlyMemoryDoesNotGrowWithRepeats) {
  // 100B tokens = about 37,000 uses of every document, allowed by --max-epochs: the plan counts
  // repeats instead of listing them, so it takes as little memory as a one-epoch plan.
  const std::string store = store_27m();
  auto many = run_longctx_measured({"mix", store, "--tokens", "100B", "--seq-len", "16K", "--max-epochs", "1000000", "--plan-only"});
  ASSERT_EQ(many.exit_code, 0) << many.output;
  EXPECT_LT(many.peak_rss_bytes, plan_limit());
  auto one = run_longctx_measured({"mix", store, "--tokens", "1M", "--seq-len", "16K", "--plan-only"});
  ASSERT_EQ(one.exit_code, 0) << one.output;
  EXPECT_LT(one.peak_rss_bytes, plan_limit());
  // Library level: the plan's counts are exact multiples (no piece list behind them).
  auto s = DocumentStore::open(store);
  ASSERT_TRUE(s.is_ok());
  MixConfig cfg;
  cfg.strategy = original_strategy();
  cfg.seq_len = 16384;
  cfg.max_epochs = kMaxEpochsLimit;
  uint64_t cost = 0;  // one epoch of the store in packed tokens (document + BOS)
  for (const auto& d : s->docs()) cost += d.num_tokens + 1;
  cfg.total_tokens = 40000 * cost;  // 40,000 epochs, up to the rounding to whole chunks
  auto plan = plan_mixture(*s, cfg);
  ASSERT_TRUE(plan.is_ok()) << plan.status().message();
  // Per domain: ceil(target / available) uses of its documents, so that repeat index minus one at
  // most; the selected tokens add up to the target exactly.
  for (const auto& d : plan->domains) {
    ASSERT_GT(d.available, 0u);
    EXPECT_EQ(d.max_repeat, (d.target + d.available - 1) / d.available - 1) << d.name;
    EXPECT_GT(d.max_repeat, 39000u) << d.name;
    uint64_t selected = 0;
    for (const auto& b : d.buckets) selected += b.selected;
    EXPECT_EQ(selected, d.target) << d.name;
  }
  EXPECT_GT(plan->pieces, 39000 * s->num_docs());
}

TEST(MixMemory, BuildIsRefusedByItsMemoryEstimate) {
  std::string out = scratch_dir("mem-refused") + "/mix";
  auto r = run_longctx_measured({"mix", store_27m(), "--tokens", "100B", "--seq-len", "16K", "--max-epochs", "1000000",
                                 "--max-memory", "200MB", "--out", out});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(has(r.output, "the mixture needs about")) << r.output;
  EXPECT_TRUE(has(r.output, "more than the limit of 200.00 MB (--max-memory)")) << r.output;
  EXPECT_LT(r.peak_rss_bytes, plan_limit());
  EXPECT_FALSE(std::filesystem::exists(out + "/manifest.json"));
}

TEST(MixMemory, BadStrategyOptionsAreRefusedBeforeAnyWork) {
  struct Case {
    std::vector<std::string> flags;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--strategy", "upsample-domains", "--weight", "2"}, "--weight: expected a number in [0, 1], got 2"},
      {{"--strategy", "upsample-domains", "--weight", "3"}, "--weight: expected a number in [0, 1], got 3"},
      {{"--long-share", "nan"}, "--long-share: expected a number in [0, 1], got nan"},
      {{"--long-share", "inf"}, "--long-share: expected a number in [0, 1], got inf"},
      {{"--strategy", "global-upsample", "--keep-short", "-0.5"}, "--keep-short: expected a number in [0, 1], got -0.5"},
      {{"--strategy", "paper-script", "--chars-per-token", "nan"}, "--chars-per-token: expected a number in [0, 1024], got nan"},
      {{"--strategy", "cut", "--at", "0"}, "--at: expected an integer in [1, 4294967295], got 0"},
      {{"--domain-shares", "RedPajamaBook=nan"}, "--domain-shares (RedPajamaBook): expected a number in [0, 1], got nan"},
      {{"--max-epochs", "0"}, "--max-epochs: expected an integer in [1, 1000000], got 0"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"mix", store_27m(), "--tokens", "1M", "--seq-len", "16K", "--plan-only"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    auto r = run_longctx_measured(args);
    EXPECT_NE(r.exit_code, 0) << c.says;
    EXPECT_TRUE(has(r.output, c.says)) << r.output;
    EXPECT_FALSE(has(r.output, "bad_alloc")) << r.output;
    EXPECT_LT(r.peak_rss_bytes, plan_limit()) << c.says;
  }
  // The library refuses the same configurations (callers other than the CLI).
  MixConfig cfg;
  cfg.total_tokens = 1000000;
  cfg.seq_len = 16384;
  cfg.strategy = upsample_domains_strategy({.weight = 2});
  EXPECT_FALSE(cfg.validate().is_ok());
  cfg.strategy = per_source_upsample_strategy({.long_share = std::nan("")});
  EXPECT_FALSE(cfg.validate().is_ok());
  cfg.strategy = per_source_upsample_strategy();
  cfg.seq_len = 0;
  EXPECT_FALSE(cfg.validate().is_ok());
}

}  // namespace
}  // namespace longctx
