#include "stats/stats.h"
#include "stats/stats_figure.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace longctx {
namespace {

// A store whose lengths were chosen by hand; the expected values below were worked out on paper.
//   A: 100, 5000, 200000            B: 10, 1024, 2047, 4096, 4097
std::string hand_store() {
  std::string dir = testing::scratch_dir("stats-hand");
  auto w = StoreWriter::create(dir, 2);
  EXPECT_TRUE(w.is_ok());
  auto add = [&](const char* dom, uint32_t n) {
    std::vector<uint32_t> t(n, 7);
    EXPECT_TRUE(w->add(t, n, 1, 0, w->domain_id(dom), n).is_ok());
  };
  add("B", 4097);
  add("A", 100);
  add("B", 10);
  add("A", 200000);
  add("B", 1024);
  add("A", 5000);
  add("B", 2047);
  add("B", 4096);
  nlohmann::json m;
  m["files"] = {{{"path", "f"}}};
  EXPECT_TRUE(w->finish(m).is_ok());
  return dir;
}

TEST(Stats, HandMadeStore) {
  auto s = DocumentStore::open(hand_store());
  ASSERT_TRUE(s.is_ok());
  StatsConfig cfg;
  cfg.long_thresholds = {4096, 2000};
  CorpusStats st = compute_stats(*s, cfg);
  ASSERT_EQ(st.domains.size(), 2u);
  const DomainStats& a = st.domains[0];  // more tokens first
  const DomainStats& b = st.domains[1];
  EXPECT_EQ(a.name, "A");
  EXPECT_EQ(a.documents, 3u);
  EXPECT_EQ(a.tokens, 205100u);
  EXPECT_EQ(a.median, 5000u);
  EXPECT_EQ(a.p90, 200000u);  // nearest rank ceil(0.9*3) = 3rd
  EXPECT_EQ(a.max, 200000u);
  EXPECT_DOUBLE_EQ(a.token_share, 205100.0 / 216374.0);
  EXPECT_DOUBLE_EQ(a.long_token_share[0], 205000.0 / 205100.0);
  EXPECT_DOUBLE_EQ(a.long_token_share[1], 205000.0 / 205100.0);
  // buckets: <1K, 1-2K, 2-4K, 4-8K, 8-16K, 16-32K, 32-64K, 64-128K, >128K
  EXPECT_EQ(a.bucket_documents, (std::vector<uint64_t>{1, 0, 0, 1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(a.bucket_tokens, (std::vector<uint64_t>{100, 0, 0, 5000, 0, 0, 0, 0, 200000}));

  EXPECT_EQ(b.name, "B");
  EXPECT_EQ(b.documents, 5u);
  EXPECT_EQ(b.tokens, 11274u);
  EXPECT_EQ(b.median, 2047u);  // sorted 10 1024 2047 4096 4097 -> 3rd
  EXPECT_EQ(b.p90, 4097u);     // ceil(4.5) = 5th
  EXPECT_EQ(b.max, 4097u);
  EXPECT_DOUBLE_EQ(b.long_token_share[0], 4097.0 / 11274.0);  // strictly longer than 4096
  EXPECT_DOUBLE_EQ(b.long_token_share[1], (2047.0 + 4096 + 4097) / 11274.0);
  EXPECT_EQ(b.bucket_documents, (std::vector<uint64_t>{1, 2, 0, 2, 0, 0, 0, 0, 0}));

  EXPECT_EQ(st.total.documents, 8u);
  EXPECT_EQ(st.total.tokens, 216374u);
  EXPECT_EQ(st.total.median, 2047u);  // sorted: 10 100 1024 2047 4096 4097 5000 200000 -> 4th
  EXPECT_EQ(st.total.p90, 200000u);   // ceil(7.2) = 8th

  auto j = stats_json(st);
  EXPECT_EQ(j["domains"][1]["buckets"][1]["documents"], 2);
  std::string md = stats_markdown(st);
  EXPECT_NE(md.find("| A | 3 | 205100 | 94.79% | 5000 | 200000 | 200000 |"), std::string::npos) << md;
}

// Thresholds that are not a whole number of K: the tables and the figure's panel titles write the
// length itself (a 256-token threshold once read ">0K").
TEST(Stats, ThresholdLabelsBelowAndBetweenK) {
  auto s = DocumentStore::open(hand_store());
  ASSERT_TRUE(s.is_ok());
  StatsConfig cfg;
  cfg.long_thresholds = {1536, 256};
  CorpusStats st = compute_stats(*s, cfg);
  ASSERT_EQ(st.domains.size(), 2u);
  const std::string table = stats_table(st);
  EXPECT_NE(table.find(">1.5K tok"), std::string::npos) << table;
  EXPECT_NE(table.find(">256 tok"), std::string::npos) << table;
  const std::string md = stats_markdown(st);
  EXPECT_NE(md.find("| tokens in docs >1.5K | tokens in docs >256 |"), std::string::npos) << md;
  // B: 11274 of 216374 tokens (5.2%); longer than 1536: 2047 + 4096 + 4097 = 10240 (90.8%).
  EXPECT_EQ(stats_panel_title(st, st.domains[1]), "B (5.2% of tokens, 91% in >1.5K)");
  cfg.long_thresholds = {256};
  st = compute_stats(*s, cfg);
  // Longer than 256: 1024 + 2047 + 4096 + 4097 = 11264 of 11274 (99.9%).
  EXPECT_EQ(stats_panel_title(st, st.domains[1]), "B (5.2% of tokens, 100% in >256)");
}

TEST(Stats, BucketEdges) {
  EXPECT_EQ(length_bucket_of(0), 0u);
  EXPECT_EQ(length_bucket_of(1023), 0u);
  EXPECT_EQ(length_bucket_of(1024), 1u);
  EXPECT_EQ(length_bucket_of(131071), 7u);
  EXPECT_EQ(length_bucket_of(131072), 8u);
}

TEST(Stats, LargeLengthsUseTheSparsePathExactly) {
  LengthAccumulator acc;
  for (uint64_t v : {70000u, 65535u, 65536u, 3u, 900000u}) acc.add(v);
  DomainStats d = acc.finish("x", {65535}, acc.tokens());
  EXPECT_EQ(d.median, 65536u);  // 3 65535 65536 70000 900000
  EXPECT_EQ(d.max, 900000u);
  EXPECT_DOUBLE_EQ(d.long_token_share[0], (65536.0 + 70000 + 900000) / (70000.0 + 65535 + 65536 + 3 + 900000));
}

TEST(Stats, DensePathAgreesWithSortingPast4096Documents) {
  // More than 4,096 documents switch to the dense table; a naive sort is the reference.
  LengthAccumulator acc, merged_a, merged_b;
  std::vector<uint64_t> all;
  Rng rng(5);
  for (int i = 0; i < 9000; ++i) {
    uint64_t len = rng.below(5) == 0 ? 65536 + rng.below(300000) : rng.below(9000);
    all.push_back(len);
    acc.add(len);
    (i % 3 ? merged_a : merged_b).add(len);
  }
  merged_a.merge(merged_b);
  std::sort(all.begin(), all.end());
  uint64_t total = 0, longer = 0;
  for (uint64_t v : all) total += v, longer += v > 4096 ? v : 0;
  for (const LengthAccumulator* a : {&acc, &merged_a}) {
    DomainStats d = a->finish("x", {4096}, total);
    EXPECT_EQ(d.documents, all.size());
    EXPECT_EQ(d.tokens, total);
    EXPECT_EQ(d.median, all[(all.size() - 1) / 2]);
    EXPECT_EQ(d.p90, all[(all.size() * 9 + 9) / 10 - 1]);
    EXPECT_EQ(d.max, all.back());
    EXPECT_DOUBLE_EQ(d.long_token_share[0], static_cast<double>(longer) / static_cast<double>(total));
  }
}

TEST(Stats, FigureIsWrittenAsPngAndSvg) {
  auto s = DocumentStore::open(hand_store());
  ASSERT_TRUE(s.is_ok());
  CorpusStats st = compute_stats(*s, {});
  std::string dir = testing::scratch_dir("stats-fig");
  auto r = testing::run_longctx("stats " + s->dir() + " --figure " + dir + "/f.png --figure " + dir + "/f.svg --json " + dir + "/s.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string png = testing::read_all(dir + "/f.png");
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_NE(testing::read_all(dir + "/f.svg").find("<svg"), std::string::npos);
  auto j = nlohmann::json::parse(testing::read_all(dir + "/s.json"));
  EXPECT_EQ(j["total"]["tokens"], 216374);
}

}  // namespace
}  // namespace longctx
