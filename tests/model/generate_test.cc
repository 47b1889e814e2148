// KV-cache inference equals recomputation from scratch; sampling follows its definition.
#include <cmath>

#include <gtest/gtest.h>

#include "core/hash.h"
#include "model/generate.h"

using namespace longctx::model;

namespace {
LlamaConfig gen_config(RopeType rope) {
  LlamaConfig c;
  c.vocab_size = 40, c.hidden_size = 32, c.intermediate_size = 40, c.num_hidden_layers = 2;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.max_position_embeddings = 128;
  c.rope_scaling.type = rope;
  c.rope_scaling.factor = 4;
  c.rope_scaling.original_max_position_embeddings = 32;
  return c;
}
// One sequence, no targets: the batch of a logits call.
Batch whole(const std::vector<int32_t>& seq) {
  Batch b;
  b.inputs = seq.data(), b.B = 1, b.T = (int)seq.size();
  return b;
}
}  // namespace

class KvCacheTest : public ::testing::TestWithParam<RopeType> {};

TEST_P(KvCacheTest, StepLogitsEqualFullRecomputation) {
  LlamaConfig c = gen_config(GetParam());
  auto m = LlamaModel::create(c);
  init_params(c, 21, 0.3f, m->params());
  std::vector<int32_t> seq;
  longctx::Rng rng(3);
  for (int i = 0; i < 70; i++) seq.push_back((int32_t)rng.below(c.vocab_size));  // > one tile
  auto made = InferenceSession::create(*m, 100);
  ASSERT_TRUE(made.is_ok()) << made.status().message();
  InferenceSession& sess = *made;
  auto score = ScoreSession::create(*m);
  ASSERT_TRUE(score.is_ok());
  std::vector<float> step_logits(c.vocab_size);
  ASSERT_TRUE(sess.feed(seq.data(), (int)seq.size(), step_logits.data(), /*prefill_chunk=*/17).is_ok());
  double worst = 0;
  for (int step = 0; step < 12; step++) {
    const int T = (int)seq.size();
    std::vector<float> full((size_t)T * c.vocab_size);
    ASSERT_TRUE(score->logits(whole(seq), full.data()).is_ok());
    for (int v = 0; v < c.vocab_size; v++) {
      const double d = std::fabs(step_logits[v] - full[(size_t)(T - 1) * c.vocab_size + v]);
      worst = std::max(worst, d);
      ASSERT_LT(d, 2e-5) << "step " << step << " token " << v;
    }
    const int32_t next = sample_token(step_logits.data(), c.vocab_size, 0.0f, 1.0f, 0.0);
    seq.push_back(next);
    ASSERT_TRUE(sess.feed(&next, 1, step_logits.data()).is_ok());
  }
  std::printf("  KV cache vs recomputation: largest logit difference %.3g\n", worst);
}

INSTANTIATE_TEST_SUITE_P(Rope, KvCacheTest, ::testing::Values(RopeType::kDefault, RopeType::kYarn));

TEST(Generate, GreedyEqualsArgmaxOfRecomputationAndStops) {
  LlamaConfig c = gen_config(RopeType::kDefault);
  auto m = LlamaModel::create(c);
  init_params(c, 22, 0.3f, m->params());
  std::vector<int32_t> prompt = {1, 5, 7, 9, 11};
  SamplingOptions opt;
  opt.max_new_tokens = 8;
  auto r = generate(*m, prompt, opt);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->tokens.size(), 8u);
  std::vector<int32_t> seq = prompt;
  auto score = ScoreSession::create(*m);
  ASSERT_TRUE(score.is_ok());
  for (int32_t tok : r->tokens) {
    std::vector<float> full(seq.size() * c.vocab_size);
    ASSERT_TRUE(score->logits(whole(seq), full.data()).is_ok());
    const float* last = full.data() + (seq.size() - 1) * c.vocab_size;
    EXPECT_EQ(tok, std::max_element(last, last + c.vocab_size) - last);
    seq.push_back(tok);
  }
  // stop id: generation ends before emitting it
  opt.stop_ids = {r->tokens[3]};
  auto r2 = generate(*m, prompt, opt);
  ASSERT_TRUE(r2.is_ok());
  EXPECT_TRUE(r2->stopped);
  const size_t first = std::find(r->tokens.begin(), r->tokens.end(), r->tokens[3]) - r->tokens.begin();
  EXPECT_EQ(r2->tokens, std::vector<int32_t>(r->tokens.begin(), r->tokens.begin() + first));
  // callback stop
  int calls = 0;
  auto r3 = generate(*m, prompt, SamplingOptions{}, [&](int32_t) { return ++calls < 2; });
  EXPECT_EQ(r3->tokens.size(), 2u);
}

TEST(Sampling, TopPAndTemperatureByHand) {
  // probabilities 0.5, 0.3, 0.2 at temperature 1
  const float lg[3] = {std::log(0.3f), std::log(0.5f), std::log(0.2f)};
  EXPECT_EQ(sample_token(lg, 3, 0.0f, 1.0f, 0.99), 1);  // greedy
  // full distribution, sorted 1 (0.5), 0 (0.3), 2 (0.2): u < .5 -> 1, < .8 -> 0, else 2
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 1.0f, 0.49), 1);
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 1.0f, 0.51), 0);
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 1.0f, 0.81), 2);
  // top_p 0.6 keeps {1, 0}, renormalised 0.625 / 0.375
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 0.6f, 0.62), 1);
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 0.6f, 0.63), 0);
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 0.6f, 0.999), 0);
  // top_p 0.5 keeps only the most likely token
  EXPECT_EQ(sample_token(lg, 3, 1.0f, 0.5f, 0.999), 1);
  // temperature 0.5 squares the odds: 0.25, 0.09, 0.04 -> 1 has 0.25/0.38
  EXPECT_EQ(sample_token(lg, 3, 0.5f, 1.0f, 0.25 / 0.38 - 0.01), 1);
  EXPECT_EQ(sample_token(lg, 3, 0.5f, 1.0f, 0.25 / 0.38 + 0.01), 0);
}

TEST(Sampling, SeededGenerationIsReproducible) {
  LlamaConfig c = gen_config(RopeType::kDefault);
  auto m = LlamaModel::create(c);
  init_params(c, 23, 0.5f, m->params());
  SamplingOptions opt;
  opt.temperature = 1.0f, opt.top_p = 0.9f, opt.seed = 42, opt.max_new_tokens = 20;
  auto a = generate(*m, {1, 2, 3}, opt), b = generate(*m, {1, 2, 3}, opt);
  EXPECT_EQ(a->tokens, b->tokens);
  opt.seed = 43;
  auto d = generate(*m, {1, 2, 3}, opt);
  EXPECT_NE(a->tokens, d->tokens);
}

TEST(StopStrings, HoldBackPossibleStartsAndStopBeforeTheString) {
  StopStringFilter f({"END", "\n\n"});
  bool stop = false;
  EXPECT_EQ(f.update("Hello", &stop), "Hello");
  EXPECT_FALSE(stop);
  EXPECT_EQ(f.update("Hello E", &stop), " ");  // "E" may start "END"
  EXPECT_EQ(f.update("Hello EN", &stop), "");
  EXPECT_EQ(f.update("Hello ENX", &stop), "ENX");
  EXPECT_EQ(f.update("Hello ENX\n", &stop), "");  // may start "\n\n"
  EXPECT_FALSE(stop);
  EXPECT_EQ(f.update("Hello ENX\n\nmore", &stop), "");
  EXPECT_TRUE(stop);
  StopStringFilter g({"END"});
  EXPECT_EQ(g.update("abEN", &stop), "ab");
  EXPECT_EQ(g.update("abENDzz", &stop), "");
  EXPECT_TRUE(stop);
  StopStringFilter h({"END"});
  EXPECT_EQ(h.update("xyzE", &stop), "xyz");
  EXPECT_EQ(h.flush("xyzE"), "E");  // generation ended: show the held-back tail
}
