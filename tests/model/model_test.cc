// Whole-model checks: parameter layout, gradients of a tiny model against finite differences,
// checkpointing and the tiled attention changing nothing, determinism across thread counts.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "grad_check.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/threads.h"
#include "model/model.h"

using namespace longctx::model;
using longctx::testing::expect_close;

namespace {
LlamaConfig tiny_config(bool tied) {
  LlamaConfig c;
  c.vocab_size = 11;
  c.hidden_size = 8;
  c.intermediate_size = 12;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.max_position_embeddings = 32;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = tied;
  return c;
}

struct Data {
  std::vector<int32_t> in, tgt, ds;
  longctx::model::Batch batch(int B, int T, bool mask) {
    Batch b;
    b.inputs = in.data(), b.targets = tgt.data(), b.B = B, b.T = T;
    b.doc_start = mask ? ds.data() : nullptr;
    return b;
  }
};

Data make_data(int B, int T, int V, uint64_t seed) {
  longctx::Rng rng(seed);
  Data d;
  for (int i = 0; i < B * T; i++) d.in.push_back((int32_t)rng.below(V));
  for (int i = 0; i < B * T; i++) d.tgt.push_back((int32_t)rng.below(V));
  d.tgt[3] = -1;
  for (int b = 0; b < B; b++) {
    auto s = longctx::cpu::doc_starts_from_lengths({3, T - 3});
    d.ds.insert(d.ds.end(), s.begin(), s.end());
  }
  return d;
}
}  // namespace

TEST(ParamLayout, HfTensorsAreContiguousAndCoverTheBuffer) {
  for (bool tied : {false, true}) {
    LlamaConfig c = tiny_config(tied);
    ParamLayout p = param_layout(c);
    int64_t next = 0;
    for (const auto& t : p.tensors) {
      EXPECT_EQ(t.offset, next) << t.name;
      next += t.numel();
    }
    EXPECT_EQ(next, p.total);
    // V*C + L*(C + (Q+2KV)*C + C*Q + C + 3*I*C) + C (+ V*C untied); Q = 8, KV = 4
    const int64_t expect = 11 * 8 + 2 * (8 + 16 * 8 + 8 * 8 + 8 + 3 * 12 * 8) + 8 + (tied ? 0 : 88);
    EXPECT_EQ(p.total, expect);
    EXPECT_EQ(p.tensors.size(), tied ? 20u : 21u);
    EXPECT_EQ(p.tensors[2].name, "model.layers.0.self_attn.q_proj.weight");
    EXPECT_EQ(p.tensors[3].offset, p.layers[0].wqkv + 8 * 8);  // k_proj follows q_proj rows
  }
}

class TinyModelGrad : public ::testing::TestWithParam<std::tuple<bool, bool, bool>> {};

TEST_P(TinyModelGrad, MatchesFiniteDifferences) {
  const auto [tied, checkpoint, mask] = GetParam();
  LlamaConfig c = tiny_config(tied);
  auto m = LlamaModel::create(c);
  ASSERT_TRUE(m.is_ok());
  init_params(c, 7, 0.3f, m->params());
  const int B = 2, T = 7;
  Data d = make_data(B, T, c.vocab_size, 3);
  Batch batch = d.batch(B, T, mask);
  StepOptions opt;
  opt.checkpoint_layers = checkpoint;
  opt.ce_chunk_rows = 5;  // several chunks
  auto train = TrainSession::create(*m);
  auto score = ScoreSession::create(*m);
  ASSERT_TRUE(train.is_ok() && score.is_ok());
  ASSERT_TRUE(train->forward_backward(batch, opt).is_ok());
  std::vector<float> grads(train->grads(), train->grads() + m->num_params());
  std::vector<float> params(m->params(), m->params() + m->num_params());
  auto loss = [&] {
    std::memcpy(m->params(), params.data(), params.size() * sizeof(float));
    return score->score(batch, nullptr, opt)->mean();
  };
  longctx::testing::expect_grad_close("tiny model d loss / d params", params, grads, loss, 2e-3f,
                                      5e-4, 3e-2, 400);
}

INSTANTIATE_TEST_SUITE_P(Variants, TinyModelGrad,
                         ::testing::Values(std::make_tuple(false, false, false),
                                           std::make_tuple(true, true, false),
                                           std::make_tuple(false, true, true)));

TEST(Model, CheckpointingAndFlashAttentionChangeNothing) {
  LlamaConfig c = tiny_config(false);
  c.hidden_size = 32, c.num_attention_heads = 4, c.num_key_value_heads = 2, c.num_hidden_layers = 3;
  c.max_position_embeddings = 256;
  auto m = LlamaModel::create(c);
  init_params(c, 11, 0.1f, m->params());
  const int B = 2, T = 150;  // not a multiple of the attention tile
  Data d = make_data(B, T, c.vocab_size, 4);
  Batch batch = d.batch(B, T, true);
  std::vector<float> g[3];
  double loss[3];
  auto train = TrainSession::create(*m);
  auto score = ScoreSession::create(*m);
  ASSERT_TRUE(train.is_ok() && score.is_ok());
  for (int v = 0; v < 3; v++) {
    StepOptions opt;
    opt.checkpoint_layers = v == 1;
    opt.naive_attention = v == 2;
    train->zero_grads();
    loss[v] = *train->forward_backward(batch, opt);
    g[v].assign(train->grads(), train->grads() + m->num_params());
  }
  EXPECT_EQ(loss[0], loss[1]);
  EXPECT_EQ(std::memcmp(g[0].data(), g[1].data(), g[0].size() * sizeof(float)), 0)
      << "checkpointed gradients differ";
  EXPECT_NEAR(loss[0], loss[2], 1e-5);
  expect_close("grads flash vs naive attention", g[0].data(), g[2].data(), g[0].size(), 1e-5, 1e-3);
  StepOptions o;
  EXPECT_NEAR(score->score(batch, nullptr, o)->mean(), loss[0], 1e-6);
}

TEST(Model, GradientsAreIdenticalForAnyThreadCount) {
  LlamaConfig c = tiny_config(false);
  c.hidden_size = 64, c.num_attention_heads = 4, c.num_key_value_heads = 2, c.intermediate_size = 96;
  c.vocab_size = 50;
  c.max_position_embeddings = 512;
  auto m = LlamaModel::create(c);
  init_params(c, 12, 0.05f, m->params());
  const int B = 2, T = 300;
  Data d = make_data(B, T, c.vocab_size, 5);
  Batch batch = d.batch(B, T, false);
  std::vector<float> g[2];
  auto train = TrainSession::create(*m);
  ASSERT_TRUE(train.is_ok());
  for (int threads : {1, 2}) {
    longctx::cpu::set_num_threads(threads);
    train->zero_grads();
    ASSERT_TRUE(train->forward_backward(batch, StepOptions{}).is_ok());
    g[threads - 1].assign(train->grads(), train->grads() + m->num_params());
  }
  longctx::cpu::set_num_threads(0);
  EXPECT_EQ(std::memcmp(g[0].data(), g[1].data(), g[0].size() * sizeof(float)), 0);
}

TEST(Model, LogitsAgreeWithTheLoss) {
  LlamaConfig c = tiny_config(true);
  auto m = LlamaModel::create(c);
  init_params(c, 13, 0.3f, m->params());
  const int T = 6;
  Data d = make_data(1, T, c.vocab_size, 6);
  d.tgt[3] = 2;
  std::vector<float> logits(T * c.vocab_size);
  auto score = ScoreSession::create(*m);
  ASSERT_TRUE(score.is_ok());
  ASSERT_TRUE(score->logits(d.batch(1, T, false), logits.data()).is_ok());
  double sum = 0;
  for (int t = 0; t < T; t++) {
    const float* row = logits.data() + t * c.vocab_size;
    double z = 0, mx = row[0];
    for (int v = 0; v < c.vocab_size; v++) mx = std::max<double>(mx, row[v]);
    for (int v = 0; v < c.vocab_size; v++) z += std::exp(row[v] - mx);
    sum += mx + std::log(z) - row[d.tgt[t]];
  }
  EXPECT_NEAR(score->score(d.batch(1, T, false), nullptr)->mean(), sum / T, 1e-5);
}
