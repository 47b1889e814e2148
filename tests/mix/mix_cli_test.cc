// The `longctx mix` family through the CLI: plan-only JSON with hand-worked targets, --no-repeat
// exit status and message, --task split + `mix merge` equal to one run, exports that `verify`
// accepts, `inspect` showing spans, `mix compare` figures.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/json_util.h"
#include "store/document_store.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::run_longctx;
using testing::scratch_dir;

// Domains A (2 x 500 tokens, 1 x 5000) and B (4 x 1500 tokens): 6000 tokens each.
std::string cli_store() {
  std::string dir = scratch_dir("cli-store");
  auto w = StoreWriter::create(dir, 2);
  EXPECT_TRUE(w.is_ok());
  uint16_t a = w->domain_id("A"), b = w->domain_id("B");
  std::vector<std::pair<uint16_t, uint32_t>> docs = {{a, 500}, {b, 1500}, {a, 500}, {b, 1500}, {a, 5000}, {b, 1500}, {b, 1500}};
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<uint32_t> t(docs[i].second, static_cast<uint32_t>(10 + i));
    EXPECT_TRUE(w->add(t, 500 + i, i + 1, 0, docs[i].first, 4 * t.size()).is_ok());
  }
  nlohmann::json m;
  m["files"] = {{{"path", "cli"}}};
  m["tokenizer"] = {{"vocab_size", 32000}, {"bos_id", 1}, {"eos_id", 2}};
  EXPECT_TRUE(w->finish(m).is_ok());
  return dir;
}

TEST(MixCli, PlanOnlyNoRepeatTasksExportsInspect) {
  std::string store = cli_store(), root = scratch_dir("cli-mix");
  // Unknown domain in --domain-shares: the error names it.
  auto r = run_longctx("mix " + store + " --strategy original --tokens 4096 --seq-len 1K --domain-shares C=1 --plan-only");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("'C'"), std::string::npos) << r.output;
  // Only A, --long-share 0.9 (above A's own 5001 / 6003), 6144 tokens (budget K = 1,000 so
  // 6144 is given in full): long llround(6144 x 0.9) = 5530 > 5001 available (cost 5000 + BOS):
  // one epoch and 529 more (repeat 1); short 614 of 1002. --no-repeat names the shortfall 529.
  std::string ps = "mix " + store + " --strategy per-source-upsample --tokens 6144 --seq-len 1K --long-share 0.9 --domain-shares A=1,B=0";
  r = run_longctx(ps + " --no-repeat --plan-only");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("shortfall 529"), std::string::npos) << r.output;
  r = run_longctx(ps + " --plan-only --out " + root + "/plan");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto plan = read_json_file(root + "/plan/plan.json");
  ASSERT_TRUE(plan.is_ok());
  EXPECT_EQ((*plan)["domains"][0]["target_long"], 5530);
  EXPECT_EQ((*plan)["domains"][0]["target_short"], 614);
  EXPECT_EQ((*plan)["domains"][0]["buckets"][0]["available"], 1002);
  EXPECT_EQ((*plan)["domains"][0]["buckets"][0]["target"], 614);
  EXPECT_EQ((*plan)["domains"][0]["buckets"][3]["available"], 5001);
  EXPECT_EQ((*plan)["domains"][0]["buckets"][3]["target"], 5530);
  EXPECT_EQ((*plan)["domains"][0]["max_repeat"], 1);
  EXPECT_EQ((*plan)["domains"][1]["target"], 0);

  // original strategy at 8K tokens: one run vs two tasks + merge, then exports.
  std::string args = "mix " + store + " --strategy original --tokens 8K --seq-len 1K --shard-tokens 2K --seed 3";
  ASSERT_EQ(run_longctx(args + " --out " + root + "/one").exit_code, 0);
  ASSERT_EQ(run_longctx(args + " --task 0/2 --out " + root + "/t0").exit_code, 0);
  ASSERT_EQ(run_longctx(args + " --task 1/2 --out " + root + "/t1").exit_code, 0);
  r = run_longctx("mix merge " + root + "/t0 " + root + "/t1 --out " + root + "/merged");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& e : std::filesystem::directory_iterator(root + "/one")) {
    std::string name = e.path().filename().string();
    EXPECT_EQ(read_all(e.path().string()), read_all(root + "/merged/" + name)) << name;
  }
  r = run_longctx("verify " + root + "/merged");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_longctx("export " + root + "/one --format megatron --out " + root + "/mega");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(run_longctx("verify " + root + "/mega.idx").exit_code, 0);
  // 8K = 8,000 tokens -> 7 chunks x 1024 = 7168 tokens (.bin, uint16), padding-free.
  EXPECT_EQ(std::filesystem::file_size(root + "/mega.bin"), 2u * 7168);
  r = run_longctx("inspect " + root + "/one --chunk 0");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("[      0,"), std::string::npos) << r.output;
  std::string bad = read_all(root + "/one/shard-00000.lcpk");
  bad[100] ^= 0x40;
  ASSERT_TRUE(write_file_atomic(root + "/one/shard-00000.lcpk", bad).is_ok());
  r = run_longctx("verify " + root + "/one");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("checksum"), std::string::npos) << r.output;
  r = run_longctx("mix compare " + root + "/merged " + root + "/t0 --figure " + root + "/cmp.svg");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(root + "/cmp.svg"));
  EXPECT_TRUE(std::filesystem::exists(root + "/cmp-domains.svg"));
}

}  // namespace
}  // namespace longctx
