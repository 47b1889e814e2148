// The strategy interface on its own (mix/strategy.h): each strategy's per-cell targets from cell
// availabilities written down by hand, its options' JSON round trip through the registry, its
// range checks, and the plan's memory-free accounting of repeats. A new strategy adds its case
// here (docs/architecture.md "Checklist: adding a mixture strategy").
#include <gtest/gtest.h>

#include <cmath>

#include "mix/mixture.h"

namespace longctx {
namespace {

// Two domains A, B. Availability (packed tokens): A short 600, A long 400; B short 1000, B long 0.
struct Fixture {
  std::vector<std::string> domains = {"A", "B"};
  CellTable<uint64_t> available{2, 0};
  std::vector<long double> weight = {1, 1};  // equal target shares
  Fixture() {
    available[Cell::short_of(0)] = 600;
    available[Cell::long_of(0)] = 400;
    available[Cell::short_of(1)] = 1000;
  }
  TargetInputs in(uint64_t total) const { return {domains, available, weight, total}; }
};

std::vector<uint64_t> targets(const MixStrategy& s, const Fixture& f, uint64_t total) {
  auto t = s.targets(f.in(total));
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return t.is_ok() ? t->target.values() : std::vector<uint64_t>{};
}

TEST(Strategy, TargetsByHand) {
  Fixture f;
  // Cells in order: A short, A long, B short, B long. Total 1000, shares 1:1 -> 500 per domain.
  EXPECT_EQ(targets(*original_strategy(), f, 1000), (std::vector<uint64_t>{500, 0, 500, 0}));
  EXPECT_EQ(targets(*cut_strategy(), f, 1000), (std::vector<uint64_t>{500, 0, 500, 0}));
  EXPECT_EQ(targets(*natural_strategy(), f, 1000), (std::vector<uint64_t>{500, 0, 500, 0}));
  EXPECT_EQ(targets(*paper_script_strategy(), f, 1000), (std::vector<uint64_t>{500, 0, 500, 0}));
  // per-source-upsample 0.7: A long = round(500 x max(0.7, 400/1000)) = 350; B has no long
  // documents and stays all short.
  auto ps = per_source_upsample_strategy({.long_share = 0.7})->targets(f.in(1000));
  ASSERT_TRUE(ps.is_ok());
  EXPECT_EQ(ps->target.values(), (std::vector<uint64_t>{150, 350, 500, 0}));
  EXPECT_EQ(ps->long_share_target, (std::vector<double>{0.7, 0.0}));
  // Below A's own share (0.4) the domain keeps its own: round(500 x 0.4) = 200.
  EXPECT_EQ(targets(*per_source_upsample_strategy({.long_share = 0.1}), f, 1000), (std::vector<uint64_t>{300, 200, 500, 0}));
  // global-upsample 0.5: weights 600 x 0.5 = 300, 400, 1000 x 0.5 = 500, 0 (sum 1200); total 1200
  // gives them exactly.
  EXPECT_EQ(targets(*global_upsample_strategy({.keep_short = 0.5}), f, 1200), (std::vector<uint64_t>{300, 400, 500, 0}));
  // upsample-domains B at 0.8 of 1000.
  EXPECT_EQ(targets(*upsample_domains_strategy({.domains = {"B"}, .weight = 0.8}), f, 1000), (std::vector<uint64_t>{200, 0, 800, 0}));
  auto unknown = upsample_domains_strategy({.domains = {"C"}})->targets(f.in(1000));
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_NE(unknown.status().message().find("'C'"), std::string::npos);
}

TEST(Strategy, LargestRemainderSplitsExactly) {
  // 10 by 1:1:1 -> 3.33 each: the first gets the one left over (ties to the lower index).
  EXPECT_EQ(split_largest_remainder(10, {1, 1, 1}), (std::vector<uint64_t>{4, 3, 3}));
  EXPECT_EQ(split_largest_remainder(7, {0.5, 0.25, 0.25}), (std::vector<uint64_t>{3, 2, 2}));  // 3.5, 1.75, 1.75: the .75s first
  EXPECT_EQ(split_largest_remainder(5, {0, 0}), (std::vector<uint64_t>{0, 0}));
}

TEST(Strategy, RegistryRoundTripsOptions) {
  const std::vector<StrategyPtr> all = {original_strategy(),
                                        cut_strategy({.at = 1234}),
                                        natural_strategy({.max_doc = 5678}),
                                        per_source_upsample_strategy({.long_share = 0.25}),
                                        global_upsample_strategy({.keep_short = 0.125}),
                                        upsample_domains_strategy({.domains = {"X", "Y"}, .weight = 0.375}),
                                        paper_script_strategy({.keep_short = 0.5, .chars_per_token = 4})};
  ASSERT_EQ(all.size(), mix_strategies().size()) << "a strategy without a case here";
  // Every file's registration: its --strategy name builds, with default options, that strategy.
  for (const StrategyInfo& info : mix_strategies()) {
    auto s = make_strategy(info.name);
    ASSERT_TRUE(s.is_ok()) << info.name << ": " << s.status().message();
    EXPECT_EQ((*s)->name(), info.name);
  }
  for (const auto& s : all) {
    auto back = make_strategy(s->name(), s->options_json());
    ASSERT_TRUE(back.is_ok()) << s->name() << ": " << back.status().message();
    EXPECT_EQ((*back)->name(), s->name());
    EXPECT_EQ((*back)->options_json(), s->options_json()) << s->name();
  }
  EXPECT_EQ(cut_strategy({.at = 1234})->options_json(), (nlohmann::json{{"cut_at", 1234}}));
  auto bad = make_strategy("zigzag");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("expected original, cut, natural, per-source-upsample, global-upsample, upsample-domains or paper-script"),
            std::string::npos)
      << bad.status().message();
  auto wrong_type = make_strategy("cut", {{"cut_at", "many"}});
  ASSERT_FALSE(wrong_type.is_ok());
  EXPECT_NE(wrong_type.status().message().find("cut_at"), std::string::npos);
}

TEST(Strategy, OptionsAreRangeChecked) {
  const double nan = std::nan(""), inf = INFINITY;
  for (double v : {-0.1, 1.5, nan, inf}) {
    EXPECT_FALSE(per_source_upsample_strategy({.long_share = v})->validate().is_ok()) << v;
    EXPECT_FALSE(global_upsample_strategy({.keep_short = v})->validate().is_ok()) << v;
    EXPECT_FALSE(upsample_domains_strategy({.weight = v})->validate().is_ok()) << v;
    EXPECT_FALSE(paper_script_strategy({.keep_short = v})->validate().is_ok()) << v;
  }
  for (double v : {0.0, 0.5, 1.0}) EXPECT_TRUE(per_source_upsample_strategy({.long_share = v})->validate().is_ok()) << v;
  EXPECT_FALSE(paper_script_strategy({.chars_per_token = -1})->validate().is_ok());
  EXPECT_FALSE(paper_script_strategy({.chars_per_token = nan})->validate().is_ok());
  EXPECT_TRUE(paper_script_strategy({.chars_per_token = 0})->validate().is_ok());
  EXPECT_FALSE(cut_strategy({.at = 0})->validate().is_ok());
  EXPECT_FALSE(natural_strategy({.max_doc = 1ull << 32})->validate().is_ok());
  EXPECT_FALSE(upsample_domains_strategy({.domains = {}})->validate().is_ok());
}

TEST(Strategy, MixConfigJsonKeepsTheManifestKeys) {
  // The keys a finished mixture's manifest records (docs/mixing.md), with each strategy's options.
  MixConfig c;
  c.strategy = paper_script_strategy({.keep_short = 0.25, .chars_per_token = 3.5});
  c.total_tokens = 1000;
  c.seq_len = 100;
  nlohmann::json j = mix_config_json(c);
  EXPECT_EQ(j, (nlohmann::json{{"strategy", "paper-script"}, {"tokens", 1000}, {"seq_len", 100}, {"seed", 1}, {"keep_short", 0.25},
                               {"chars_per_token", 3.5}, {"long_threshold", 4096}, {"no_repeat", false}, {"bos", 1},
                               {"eos", nullptr}, {"pad_id", 0}, {"split", true}, {"last", "drop"}}));
}

}  // namespace
}  // namespace longctx
