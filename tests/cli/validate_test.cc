// core/validate.h and the configuration structs' validate() (MixConfig, SamplingOptions), called
// directly as a library user would. Expected messages are written out by hand from the format
// "NAME: expected ... in [LO, HI], got VALUE".
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "cli/app.h"
#include "core/validate.h"
#include "mix/mixture.h"
#include "model/generate.h"

using namespace longctx;

namespace {

std::string message(const Status& st) { return st.is_ok() ? "ok" : st.message(); }

TEST(CheckRange, IntegersInsideAndOutside) {
  EXPECT_TRUE(check_range("--threads", 0, 0, 1024).is_ok());
  EXPECT_TRUE(check_range("--threads", 1024, 0, 1024).is_ok());
  EXPECT_EQ(message(check_range("--threads", -3, 0, 1024)), "--threads: expected an integer in [0, 1024], got -3");
  EXPECT_EQ(message(check_range("--threads", 1025, 0, 1024)), "--threads: expected an integer in [0, 1024], got 1025");
  // 64-bit values in full, not through a double (2^64 - 1 and 2^53 + 1 are not doubles).
  EXPECT_EQ(message(check_range("--tokens", UINT64_MAX, uint64_t{1}, uint64_t{1} << 53)),
            "--tokens: expected an integer in [1, 9007199254740992], got 18446744073709551615");
  EXPECT_EQ(message(check_range("--x", (int64_t{1} << 53) + 1, int64_t{0}, int64_t{1} << 53)),
            "--x: expected an integer in [0, 9007199254740992], got 9007199254740993");
  EXPECT_EQ(message(check_range("--x", INT64_MIN, int64_t{0}, int64_t{5})),
            "--x: expected an integer in [0, 5], got -9223372036854775808");
}

TEST(CheckRange, RealsRejectNanAndInfinities) {
  EXPECT_TRUE(check_range("--long-share", 0.0, 0.0, 1.0).is_ok());
  EXPECT_TRUE(check_range("--long-share", 1.0, 0.0, 1.0).is_ok());
  EXPECT_EQ(message(check_range("--long-share", std::nan(""), 0.0, 1.0)), "--long-share: expected a number in [0, 1], got nan");
  EXPECT_EQ(message(check_range("--long-share", HUGE_VAL, 0.0, 1.0)), "--long-share: expected a number in [0, 1], got inf");
  EXPECT_EQ(message(check_range("--long-share", -HUGE_VAL, 0.0, 1.0)), "--long-share: expected a number in [0, 1], got -inf");
  EXPECT_EQ(message(check_range("--long-share", -0.25, 0.0, 1.0)), "--long-share: expected a number in [0, 1], got -0.25");
  EXPECT_EQ(message(check_range("--top-p", 1.5f, 0.0f, 1.0f)), "--top-p: expected a number in [0, 1], got 1.5");
  // An empty name leaves the prefix to the caller (CLI11 adds the flag itself).
  EXPECT_EQ(message(check_range("", 2.0, 0.0, 1.0)), "expected a number in [0, 1], got 2");
}

TEST(CheckShares, EachInUnitIntervalSummingToOne) {
  EXPECT_TRUE(check_shares("--domain-shares", {{"A", 0.25}, {"B", 0.75}}).is_ok());
  EXPECT_TRUE(check_shares("--domain-shares", {{"A", 1.0}, {"B", 0.0}}).is_ok());
  EXPECT_TRUE(check_shares("--domain-shares", {{"A", 0.1}, {"B", 0.2}, {"C", 0.7 + 5e-7}}).is_ok());  // within 1e-6
  EXPECT_EQ(message(check_shares("--domain-shares", {{"A", 0.5}, {"B", 0.4}})),
            "--domain-shares: the shares sum to 0.9, expected 1 (within 1e-06)");
  EXPECT_EQ(message(check_shares("--domain-shares", {{"A", 1.5}, {"B", -0.5}})),
            "--domain-shares (A): expected a number in [0, 1], got 1.5");
  EXPECT_EQ(message(check_shares("--domain-shares", {{"A", std::nan("")}})), "--domain-shares (A): expected a number in [0, 1], got nan");
  EXPECT_FALSE(check_shares("--domain-shares", {{"A", 0.5}, {"B", 0.5 + 2e-6}}).is_ok());
}

TEST(ParseNumber, StrictSyntax) {
  EXPECT_EQ(*parse_number<uint64_t>("--seed", "18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(*parse_number<int>("--threads", "-3"), -3);
  EXPECT_EQ(*parse_number<uint32_t>("--n", "010"), 10u);  // decimal, never octal
  EXPECT_EQ(message(parse_number<uint64_t>("--seed", "-1").status()), "--seed: expected an integer in [0, 18446744073709551615], got '-1'");
  EXPECT_EQ(message(parse_number<uint64_t>("--seed", "18446744073709551616").status()),
            "--seed: expected an integer in [0, 18446744073709551615], got '18446744073709551616'");
  EXPECT_EQ(message(parse_number<int>("--threads", "2147483648").status()),
            "--threads: expected an integer in [-2147483648, 2147483647], got '2147483648'");
  for (const char* bad : {"", "0x10", "+5", " 5", "5 ", "1e3", "3.0", "five"})
    EXPECT_FALSE(parse_number<int>("--n", bad).is_ok()) << "'" << bad << "'";
  EXPECT_EQ(*parse_number<double>("--w", "0.25"), 0.25);
  EXPECT_EQ(*parse_number<double>("--w", "1e-3"), 1e-3);
  EXPECT_TRUE(std::isnan(*parse_number<double>("--w", "nan")));     // syntax only: the range check rejects it
  EXPECT_EQ(*parse_number<double>("--w", "1e999"), HUGE_VAL);       // beyond double: an infinity
  EXPECT_EQ(*parse_number<double>("--w", "-1e999"), -HUGE_VAL);
  EXPECT_EQ(message(parse_number<double>("--w", "0.5x").status()), "--w: expected a number, got '0.5x'");
}

TEST(MixConfigValidate, EveryFieldChecked) {
  auto bad = [](MixConfig c) { return message(c.validate()); };
  MixConfig c;
  c.total_tokens = 1000;
  EXPECT_TRUE(c.validate().is_ok());
  auto with = [&](auto f) {
    MixConfig x = c;
    f(x);
    return bad(x);
  };
  EXPECT_EQ(with([](MixConfig& x) { x.strategy = per_source_upsample_strategy({.long_share = std::nan("")}); }),
            "--long-share: expected a number in [0, 1], got nan");
  EXPECT_EQ(with([](MixConfig& x) { x.strategy = upsample_domains_strategy({.weight = 2}); }), "--weight: expected a number in [0, 1], got 2");
  EXPECT_EQ(with([](MixConfig& x) { x.strategy = global_upsample_strategy({.keep_short = -HUGE_VAL}); }),
            "--keep-short: expected a number in [0, 1], got -inf");
  EXPECT_EQ(with([](MixConfig& x) { x.strategy = paper_script_strategy({.chars_per_token = HUGE_VAL}); }),
            "--chars-per-token: expected a number in [0, 1024], got inf");
  EXPECT_EQ(with([](MixConfig& x) { x.seq_len = 0; }), "--seq-len: expected an integer in [1, 16777216], got 0");
  EXPECT_EQ(with([](MixConfig& x) { x.total_tokens = 0; }), "--tokens: expected an integer in [1, 1000000000000000], got 0");
  EXPECT_EQ(with([](MixConfig& x) { x.strategy = cut_strategy({.at = 0}); }), "--at: expected an integer in [1, 4294967295], got 0");
  EXPECT_EQ(with([](MixConfig& x) { x.strategy = natural_strategy({.max_doc = uint64_t{1} << 32}); }),
            "--max-doc: expected an integer in [1, 4294967295], got 4294967296");
  EXPECT_EQ(with([](MixConfig& x) { x.domain_shares = {{"A", 0.5}}; }), "--domain-shares: the shares sum to 0.5, expected 1 (within 1e-06)");
  EXPECT_EQ(with([](MixConfig& x) { x.max_epochs = 0; }), "--max-epochs: expected an integer in [1, 1000000], got 0");
}

TEST(SamplingOptionsValidate, RangesAndTheModelsContext) {
  model::LlamaConfig c;
  c.vocab_size = 30, c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 2;
  c.num_attention_heads = 2, c.num_key_value_heads = 1, c.max_position_embeddings = 64;
  model::SamplingOptions so;
  so.max_new_tokens = 60;
  EXPECT_TRUE(so.validate(c, 4).is_ok());  // 4 + 60 = 64 positions: exactly the context
  so.max_new_tokens = 61;
  EXPECT_EQ(message(so.validate(c, 4)),
            "--max-new-tokens: the prompt's 4 tokens + 61 new tokens = 65 exceed the model's context of 64 "
            "(max_position_embeddings); generate at most 60 tokens or pass --allow-beyond-context");
  so.allow_beyond_context = true;
  EXPECT_TRUE(so.validate(c, 4).is_ok());
  // Beyond the context the KV cache must still fit: 2 x 4 bytes x 2 layers x 8 (kv_dim) per position.
  so.max_new_tokens = INT32_MAX - 4;
  const uint64_t positions = INT32_MAX, bytes = 2 * 4 * 2 * 8 * positions;
  if (bytes > physical_memory_bytes()) {
    EXPECT_NE(message(so.validate(c, 4)).find(fmt::format("a KV cache of {} positions needs {} bytes", positions, bytes)), std::string::npos)
        << message(so.validate(c, 4));
  }
  so.max_new_tokens = INT32_MAX;
  EXPECT_EQ(message(so.validate(c, 4)), "--max-new-tokens: the prompt's 4 tokens + 2147483647 new tokens = 2147483651 exceed 2147483647 positions");
  so = {};
  so.temperature = std::nanf("");
  EXPECT_EQ(message(so.validate(c, 4)), "--temperature: expected a number in [0, 100], got nan");
  so = {};
  so.top_p = 1.5f;
  EXPECT_EQ(message(so.validate(c, 4)), "--top-p: expected a number in [0, 1], got 1.5");
  so = {};
  so.max_new_tokens = -1;
  EXPECT_EQ(message(so.validate(c, 4)), "--max-new-tokens: expected an integer in [0, 2147483647], got -1");
  so = {};
  so.stop_ids = {30};
  EXPECT_EQ(message(so.validate(c, 4)), "stop token id: expected an integer in [0, 29], got 30");
}

TEST(ClosestMatch, TyposWithinAThirdOfTheWord) {
  const std::vector<std::string> subs = {"corpus", "tokenizer", "tokenize", "store", "stats", "mix", "model", "generate"};
  EXPECT_EQ(cli::closest_match("mdel", subs), "model");
  EXPECT_EQ(cli::closest_match("tokeniez", subs), "tokenize");  // a swap of neighbours is one edit
  EXPECT_EQ(cli::closest_match("stor", subs), "store");
  EXPECT_EQ(cli::closest_match("frobnicate", subs), "");
  EXPECT_EQ(cli::closest_match("--long-shar", {"--long-share", "--long-threshold"}), "--long-share");
}

}  // namespace
