// Per-position and per-domain loss against a direct forward pass; the 0.01 rule on hand-made
// numbers (paper.md "Other evaluations", Table 5).
#include <gtest/gtest.h>

#include <cmath>

#include "eval/loss_eval.h"
#include "model/model.h"
#include "core/json_util.h"
#include "store/document_store.h"
#include "store/packed_manifest.h"
#include "store/packed_shards.h"
#include "test_util.h"

using namespace longctx;
using namespace longctx::eval;
using namespace longctx::model;

namespace {

LlamaConfig tiny_config() {
  LlamaConfig c;
  c.vocab_size = 40, c.hidden_size = 16, c.intermediate_size = 24, c.num_hidden_layers = 2;
  c.num_attention_heads = 2, c.num_key_value_heads = 1, c.max_position_embeddings = 64;
  c.bos_token_id = 1, c.eos_token_id = 2;
  return c;
}

// -log softmax(logits)[target] in double.
double nll(const float* logits, int V, int target) {
  double mx = logits[0];
  for (int v = 1; v < V; ++v) mx = std::max<double>(mx, logits[v]);
  double z = 0;
  for (int v = 0; v < V; ++v) z += std::exp(logits[v] - mx);
  return -(logits[target] - mx - std::log(z));
}

}  // namespace

TEST(LossEval, PerPositionEqualsADirectForwardPass) {
  const std::string dir = longctx::testing::scratch_dir("loss-store");
  // Two domains; documents of 5..20 tokens in [3, 40).
  std::vector<std::vector<uint32_t>> docs;
  std::vector<int> dom;
  {
    auto w = StoreWriter::create(dir, 2);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    uint16_t a = w->domain_id("A"), b = w->domain_id("B");
    for (int d = 0; d < 6; ++d) {
      std::vector<uint32_t> t;
      for (int i = 0; i < 5 + 3 * d; ++i) t.push_back(3 + static_cast<uint32_t>((d * 7 + i * 5) % 37));
      docs.push_back(t);
      dom.push_back(d % 2);
      ASSERT_TRUE(w->add(t, 1000 + d, 1, 0, d % 2 ? b : a, t.size()).is_ok());
    }
    ASSERT_TRUE(w->finish({{"files", nlohmann::json::array({{{"path", "x.jsonl"}}})}}).is_ok());
  }
  auto m = LlamaModel::create(tiny_config());
  ASSERT_TRUE(m.is_ok());
  init_params(m->config(), 3, 0.3f, m->params());

  LossEvalConfig cfg;
  cfg.data = dir;
  cfg.split = 6;
  cfg.seq_len = 16;  // documents longer than 15 tokens are cut (BOS + 15)
  for (int64_t e = 1; e < 16; ++e) cfg.bucket_edges.push_back(e);  // one bucket per position
  auto r = evaluate_loss(*m, cfg, nullptr);
  ASSERT_TRUE(r.is_ok()) << r.status().message();

  // Expected: each document alone, BOS first, cut to 16 tokens; logits from ScoreSession.
  auto sess = ScoreSession::create(*m);
  ASSERT_TRUE(sess.is_ok());
  std::vector<double> pos_sum(16, 0), dom_before(2, 0), dom_after(2, 0);
  std::vector<int64_t> pos_n(16, 0), n_before(2, 0), n_after(2, 0);
  for (size_t d = 0; d < docs.size(); ++d) {
    std::vector<int32_t> ids = {1};
    for (uint32_t t : docs[d])
      if (ids.size() < 16) ids.push_back(static_cast<int32_t>(t));
    const int T = static_cast<int>(ids.size());
    std::vector<float> logits(static_cast<size_t>(T) * 40);
    Batch b;
    b.inputs = ids.data();
    b.B = 1;
    b.T = T;
    ASSERT_TRUE(sess->logits(b, logits.data()).is_ok());
    for (int t = 0; t + 1 < T; ++t) {
      double l = nll(&logits[static_cast<size_t>(t) * 40], 40, ids[static_cast<size_t>(t) + 1]);
      pos_sum[static_cast<size_t>(t)] += l;
      ++pos_n[static_cast<size_t>(t)];
      if (t < 6) dom_before[static_cast<size_t>(dom[d])] += l, ++n_before[static_cast<size_t>(dom[d])];
      else dom_after[static_cast<size_t>(dom[d])] += l, ++n_after[static_cast<size_t>(dom[d])];
    }
  }
  ASSERT_EQ(r->buckets.size(), 16u);
  for (size_t t = 0; t < 16; ++t) {
    EXPECT_EQ(r->buckets[t].lo, static_cast<int64_t>(t));
    EXPECT_EQ(r->buckets[t].count, pos_n[t]) << t;
    if (pos_n[t]) {
      EXPECT_NEAR(r->buckets[t].mean(), pos_sum[t] / pos_n[t], 2e-5) << "position " << t;
    }
  }
  ASSERT_EQ(r->domains.size(), 2u);
  for (int d = 0; d < 2; ++d) {
    EXPECT_EQ(r->domains[d].domain, d == 0 ? "A" : "B");
    EXPECT_EQ(r->domains[d].count_before, n_before[d]);
    EXPECT_EQ(r->domains[d].count_after, n_after[d]);
    EXPECT_NEAR(r->domains[d].mean_before(), dom_before[d] / n_before[d], 2e-5);
    EXPECT_NEAR(r->domains[d].mean_after(), dom_after[d] / n_after[d], 2e-5);
  }
  // JSON round trip
  auto back = loss_result_from_json(loss_result_json(*r));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->domains[1].count_after, r->domains[1].count_after);

  // --max-tokens bounds the work: 8 positions per domain stop sampling after two documents at most
  cfg.max_tokens = 8;
  auto small = evaluate_loss(*m, cfg, nullptr);
  ASSERT_TRUE(small.is_ok());
  EXPECT_LT(small->sequences, 6u);
}

TEST(LossEval, MixtureSpansScoredAsIfAlone) {
  // One shard, two 12-token chunks: [doc A: 5 tokens, domain 0][doc B: 7, domain 1] and
  // [doc C: 8, domain 0][padding: 4]. Each span's positions count from its own start, see only
  // its own tokens (document mask) and predict nothing across documents.
  const std::string dir = longctx::testing::scratch_dir("loss-mix");
  std::vector<std::vector<uint32_t>> chunks = {{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                                               {20, 21, 22, 23, 24, 25, 26, 27, 0, 0, 0, 0}};
  std::vector<std::vector<PackedSpan>> spans = {{{1, 0, 5, 0, 0, 0}, {2, 5, 12, 0, 1, 0}},
                                                {{3, 0, 8, 0, 0, 0}, {0, 8, 12, 0, kPadDomain, 0}}};
  {
    auto w = PackedShardWriter::create(dir + "/" + packed_shard_name(0), 2, 12, 0);
    ASSERT_TRUE(w.is_ok()) << w.status().message();
    for (size_t c = 0; c < 2; ++c) ASSERT_TRUE(w->add_chunk(chunks[c], spans[c]).is_ok());
    auto sum = w->finish();
    ASSERT_TRUE(sum.is_ok());
    PackedManifest pm;
    pm.seq_len = 12;
    pm.token_bytes = 2;
    pm.domains = {"A", "B"};
    pm.vocab_size = 40;
    pm.shards.push_back({packed_shard_name(0), 0, 2, 4, hex64(*sum)});
    ASSERT_TRUE(write_packed_manifest(dir, pm).is_ok());
  }
  auto m = LlamaModel::create(tiny_config());
  ASSERT_TRUE(m.is_ok());
  init_params(m->config(), 4, 0.3f, m->params());
  LossEvalConfig cfg;
  cfg.data = dir;
  cfg.split = 3;
  for (int64_t e = 1; e < 12; ++e) cfg.bucket_edges.push_back(e);
  auto r = evaluate_loss(*m, cfg, nullptr);
  ASSERT_TRUE(r.is_ok()) << r.status().message();

  auto sess = ScoreSession::create(*m);
  ASSERT_TRUE(sess.is_ok());
  std::vector<double> pos_sum(12, 0), before(2, 0), after(2, 0);
  std::vector<int64_t> pos_n(12, 0), nb(2, 0), na(2, 0);
  auto alone = [&](std::vector<int32_t> ids, int domain) {
    const int T = static_cast<int>(ids.size());
    std::vector<float> logits(static_cast<size_t>(T) * 40);
    Batch b;
    b.inputs = ids.data();
    b.T = T;
    ASSERT_TRUE(sess->logits(b, logits.data()).is_ok());
    for (int t = 0; t + 1 < T; ++t) {
      double l = nll(&logits[static_cast<size_t>(t) * 40], 40, ids[static_cast<size_t>(t) + 1]);
      pos_sum[static_cast<size_t>(t)] += l;
      ++pos_n[static_cast<size_t>(t)];
      if (t < 3) before[static_cast<size_t>(domain)] += l, ++nb[static_cast<size_t>(domain)];
      else after[static_cast<size_t>(domain)] += l, ++na[static_cast<size_t>(domain)];
    }
  };
  alone({5, 6, 7, 8, 9}, 0);
  alone({10, 11, 12, 13, 14, 15, 16}, 1);
  alone({20, 21, 22, 23, 24, 25, 26, 27}, 0);
  EXPECT_EQ(r->sequences, 2u);
  EXPECT_EQ(r->positions, 4u + 6u + 7u);
  for (size_t t = 0; t < 12; ++t) {
    EXPECT_EQ(r->buckets[t].count, pos_n[t]) << t;
    if (pos_n[t]) {
      EXPECT_NEAR(r->buckets[t].mean(), pos_sum[t] / pos_n[t], 2e-5) << "position " << t;
    }
  }
  for (int d = 0; d < 2; ++d) {
    EXPECT_EQ(r->domains[d].count_before, nb[d]);
    EXPECT_EQ(r->domains[d].count_after, na[d]);
    EXPECT_NEAR(r->domains[d].mean_before(), before[d] / nb[d], 2e-5);
    EXPECT_NEAR(r->domains[d].mean_after(), after[d] / na[d], 2e-5);
  }
}

TEST(LossDifference, TheHundredthRule) {
  EXPECT_EQ(loss_mark(0.0100001), LossMark::kWorse);
  EXPECT_EQ(loss_mark(0.01), LossMark::kNone);  // |d| > 0.01 is needed
  EXPECT_EQ(loss_mark(-0.01), LossMark::kNone);
  EXPECT_EQ(loss_mark(-0.0100001), LossMark::kBetter);
  EXPECT_EQ(loss_mark(0.0), LossMark::kNone);
  EXPECT_EQ(loss_mark(std::nan("")), LossMark::kMissing);

  // Hand-made results: model - baseline per domain and column.
  LossEvalResult model, base;
  model.model = "long";
  base.model = "base";
  model.split = base.split = 4096;
  //               domain  sum_before sum_after count_before count_after
  model.domains = {{"Book", 20.2, 15.0, 10, 10},   // 2.020 vs 2.000: +0.020 worse; 1.500 vs 1.505: -0.005 none
                   {"C4", 29.5, 30.0, 10, 10}};    // 2.950 vs 3.000: -0.050 better; 3.000 vs 2.995: +0.005 none
  base.domains = {{"Book", 20.0, 15.05, 10, 10}, {"C4", 30.0, 29.95, 10, 10}, {"Wiki", 10, 0, 5, 0}};
  LossDiffTable t = loss_difference(model, base);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_NEAR(t.rows[0].diff_before, 0.02, 1e-12);
  EXPECT_EQ(t.rows[0].mark_before, LossMark::kWorse);
  EXPECT_EQ(t.rows[0].mark_after, LossMark::kNone);
  EXPECT_EQ(t.rows[1].mark_before, LossMark::kBetter);
  EXPECT_EQ(t.rows[1].mark_after, LossMark::kNone);
  EXPECT_EQ(t.rows[2].domain, "Wiki");  // only in the baseline
  EXPECT_EQ(t.rows[2].mark_before, LossMark::kMissing);
  std::string md = diff_table_markdown(t);
  EXPECT_NE(md.find("| Book | 2.020 | +0.020 (worse) | 1.500 | -0.005 (no difference) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| C4 | 2.950 | -0.050 (better) |"), std::string::npos) << md;
  auto j = diff_table_json(t);
  EXPECT_EQ(j["rows"][1]["mark_before"], "better");
}
