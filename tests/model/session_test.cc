// The sessions over the one forward path: ScoreSession's per-position losses against the training
// loss and against losses worked out here from reference-attention logits; logits under a document
// mask against each document run alone; bound checks before allocating; the activation table
// linear in sequence length.
#include <climits>
#include <cmath>

#include <gtest/gtest.h>

#include "core/hash.h"
#include "kernels/cpu/attention.h"
#include "model/forward.h"
#include "model/generate.h"
#include "model/memory.h"
#include "model/model.h"

using namespace longctx::model;

namespace {
LlamaConfig small_config() {
  LlamaConfig c;
  c.vocab_size = 37, c.hidden_size = 32, c.intermediate_size = 40, c.num_hidden_layers = 2;
  c.num_attention_heads = 4, c.num_key_value_heads = 2, c.max_position_embeddings = 256;
  return c;
}

LlamaModel make_model(const LlamaConfig& c, uint64_t seed) {
  auto m = LlamaModel::create(c);
  EXPECT_TRUE(m.is_ok());
  init_params(c, seed, 0.3f, m->params());
  return std::move(m).value();
}

struct Seqs {
  int B, T;
  std::vector<int32_t> in, tgt, doc;
  Batch batch(bool mask) const {
    Batch b;
    b.inputs = in.data(), b.targets = tgt.data(), b.doc_start = mask ? doc.data() : nullptr;
    b.B = B, b.T = T;
    return b;
  }
};

// Documents of lengths {5, 60, rest} in sequence 0 and {1, 90, rest} in sequence 1.
Seqs make_seqs(int B, int T, int V, uint64_t seed) {
  Seqs s{B, T, {}, {}, {}};
  longctx::Rng rng(seed);
  for (int i = 0; i < B * T; i++) s.in.push_back((int32_t)rng.below(V));
  for (int i = 0; i < B * T; i++) s.tgt.push_back((int32_t)rng.below(V));
  s.tgt[7] = -1;
  s.tgt[B * T - 2] = -1;
  for (int b = 0; b < B; b++) {
    const int a = b == 0 ? 5 : 1, m = b == 0 ? 60 : 90;
    auto ds = longctx::cpu::doc_starts_from_lengths({a, m, T - a - m});
    s.doc.insert(s.doc.end(), ds.begin(), ds.end());
  }
  return s;
}

// -log softmax(row)[t] in double.
double xent(const float* row, int V, int t) {
  double mx = row[0], z = 0;
  for (int v = 0; v < V; v++) mx = std::max<double>(mx, row[v]);
  for (int v = 0; v < V; v++) z += std::exp(row[v] - mx);
  return mx + std::log(z) - row[t];
}
}  // namespace

class ScoreTest : public ::testing::TestWithParam<bool> {};

TEST_P(ScoreTest, PerPositionLossesMatchTrainingLossAndReferenceLogits) {
  const bool mask = GetParam();
  const LlamaConfig c = small_config();
  LlamaModel m = make_model(c, 31);
  const Seqs s = make_seqs(2, 150, c.vocab_size, 32);  // > two attention tiles
  const Batch batch = s.batch(mask);
  auto score = ScoreSession::create(m);
  auto train = TrainSession::create(m);
  ASSERT_TRUE(score.is_ok() && train.is_ok());
  std::vector<float> losses(s.in.size(), -1.0f);
  ForwardOptions fo;
  fo.ce_chunk_rows = 64;  // several classifier chunks
  auto sum = score->score(batch, losses.data(), fo);
  ASSERT_TRUE(sum.is_ok()) << sum.status().message();
  EXPECT_EQ(sum->count, (int64_t)s.in.size() - 2);

  // 1. the mean equals the training step's loss
  auto loss = train->forward_backward(batch, StepOptions{});
  ASSERT_TRUE(loss.is_ok());
  EXPECT_NEAR(sum->mean(), *loss, 1e-6);

  // 2. every position equals -log softmax of logits computed with the reference attention
  std::vector<float> logits(s.in.size() * c.vocab_size);
  ForwardOptions ref;
  ref.naive_attention = true;
  ASSERT_TRUE(score->logits(batch, logits.data(), ref).is_ok());
  double worst = 0, total = 0;
  for (size_t i = 0; i < s.in.size(); i++) {
    const double want = s.tgt[i] < 0 ? 0.0 : xent(logits.data() + i * c.vocab_size, c.vocab_size, s.tgt[i]);
    total += want;
    worst = std::max(worst, std::fabs(losses[i] - want));
    // float32 logits of up to ~10 in magnitude: a few ulps of the log-sum-exp
    ASSERT_NEAR(losses[i], want, 5e-5) << "position " << i;
  }
  EXPECT_NEAR(sum->sum, total, 1e-3);
  std::printf("  per-position loss vs reference logits (mask %d): largest difference %.3g\n", mask, worst);
}

INSTANTIATE_TEST_SUITE_P(DocumentMask, ScoreTest, ::testing::Values(false, true));

TEST(Logits, DocumentMaskEqualsEachDocumentAlone) {
  const LlamaConfig c = small_config();  // default RoPE: scores depend on relative position only
  LlamaModel m = make_model(c, 33);
  const Seqs s = make_seqs(2, 150, c.vocab_size, 34);
  auto score = ScoreSession::create(m);
  ASSERT_TRUE(score.is_ok());
  const int V = c.vocab_size;
  std::vector<float> packed(s.in.size() * V);
  ASSERT_TRUE(score->logits(s.batch(true), packed.data()).is_ok());
  double worst = 0;
  for (int b = 0; b < s.B; b++) {
    const int32_t* ds = s.doc.data() + (size_t)b * s.T;
    for (int start = 0; start < s.T;) {
      int end = start;
      while (end < s.T && ds[end] == start) end++;
      Batch alone;
      alone.inputs = s.in.data() + (size_t)b * s.T + start, alone.B = 1, alone.T = end - start;
      std::vector<float> want((size_t)alone.T * V);
      ASSERT_TRUE(score->logits(alone, want.data()).is_ok());
      const float* got = packed.data() + ((size_t)b * s.T + start) * V;
      for (size_t i = 0; i < want.size(); i++) {
        worst = std::max(worst, (double)std::fabs(got[i] - want[i]));
        // RoPE angles differ (absolute positions), so float rounding differs by a few ulps
        ASSERT_NEAR(got[i], want[i], 5e-5) << "sequence " << b << " document at " << start;
      }
      start = end;
    }
  }
  std::printf("  packed with document mask vs each document alone: largest logit difference %.3g\n", worst);
  // without the mask the later documents see the earlier ones: logits differ by far more
  std::vector<float> unmasked(packed.size());
  ASSERT_TRUE(score->logits(s.batch(false), unmasked.data()).is_ok());
  double apart = 0;
  for (size_t i = (size_t)70 * V; i < (size_t)150 * V; i++)
    apart = std::max(apart, (double)std::fabs(unmasked[i] - packed[i]));
  EXPECT_GT(apart, 1e-2);
}

TEST(Sessions, ShareOneReadOnlyModel) {
  const LlamaConfig c = small_config();
  const LlamaModel m = make_model(c, 35);
  const Seqs s = make_seqs(1, 100, c.vocab_size, 36);
  auto a = ScoreSession::create(m), b = ScoreSession::create(m);
  auto t = TrainSession::create(m);
  ASSERT_TRUE(a.is_ok() && b.is_ok() && t.is_ok());
  const double la = a->score(s.batch(true), nullptr)->mean();
  ASSERT_TRUE(t->forward_backward(s.batch(true)).is_ok());
  EXPECT_EQ(b->score(s.batch(true), nullptr)->mean(), la);
}

TEST(Sessions, RejectBadBatches) {
  const LlamaConfig c = small_config();
  LlamaModel m = make_model(c, 37);
  auto t = TrainSession::create(m);
  auto sc = ScoreSession::create(m);
  ASSERT_TRUE(t.is_ok() && sc.is_ok());
  Seqs s = make_seqs(1, 100, c.vocab_size, 38);
  s.in[40] = c.vocab_size;
  auto r = t->forward_backward(s.batch(false));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("position 40: input id 37"), std::string::npos) << r.status().message();
  s.in[40] = 0;
  s.tgt[41] = -2;
  EXPECT_FALSE(sc->score(s.batch(false), nullptr).is_ok());
  s.tgt[41] = 0;
  s.doc[42] = 43;  // a document cannot start after the position
  auto d = sc->score(s.batch(true), nullptr);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("position 42: document start 43"), std::string::npos) << d.status().message();
  Batch empty;
  EXPECT_FALSE(sc->logits(empty, nullptr).is_ok());
}

TEST(Bounds, KvCacheRefusesBeyondContextAndHugeAllocations) {
  LlamaConfig c = small_config();
  LlamaModel m = make_model(c, 39);
  auto over = InferenceSession::create(m, 257);
  ASSERT_FALSE(over.is_ok());
  EXPECT_NE(over.status().message().find("context is 256 tokens"), std::string::npos) << over.status().message();
  EXPECT_FALSE(InferenceSession::create(m, 0).is_ok());
  EXPECT_TRUE(InferenceSession::create(m, 256).is_ok());
  EXPECT_TRUE(InferenceSession::create(m, 257, /*allow_beyond_context=*/true).is_ok());
  EXPECT_FALSE(InferenceSession::create(m, 0, true).is_ok());
  // dynamic NTK extends the context by its factor
  c.rope_scaling.type = RopeType::kDynamic, c.rope_scaling.factor = 2;
  LlamaModel dyn = make_model(c, 40);
  EXPECT_TRUE(InferenceSession::create(dyn, 512).is_ok());
  EXPECT_FALSE(InferenceSession::create(dyn, 513).is_ok());
  // a context of 2^31 positions: 64 layers x 2 x 2^31 x 16 floats = 16 TiB of cache
  c.rope_scaling.type = RopeType::kDefault;
  c.num_hidden_layers = 64, c.max_position_embeddings = INT_MAX;
  LlamaModel big = make_model(c, 41);
  auto huge = InferenceSession::create(big, INT_MAX);
  ASSERT_FALSE(huge.is_ok());
  EXPECT_NE(huge.status().message().find("memory"), std::string::npos) << huge.status().message();
  SamplingOptions so;
  so.max_new_tokens = INT_MAX;
  EXPECT_FALSE(generate(big, {1, 2}, so).is_ok());
}

TEST(Bounds, ModelAndActivationsRefuseHugeSizes) {
  LlamaConfig c = small_config();
  c.vocab_size = INT_MAX, c.hidden_size = 1 << 20, c.num_attention_heads = 1 << 10;
  c.num_key_value_heads = 1 << 10;
  auto m = LlamaModel::create(c);  // 2^31 x 2^20 floats: 8 PiB of embeddings
  ASSERT_FALSE(m.is_ok());
  EXPECT_NE(m.status().message().find("model parameters"), std::string::npos) << m.status().message();
  // activations far beyond memory are refused before allocating: the reference attention's
  // probabilities for 2^20 positions are 4 heads x 2^40 floats = 16 TiB
  LlamaModel small = make_model(small_config(), 42);
  auto sc = ScoreSession::create(small);
  ASSERT_TRUE(sc.is_ok());
  std::vector<int32_t> ids(1 << 20, 1);
  Batch b;
  b.inputs = ids.data(), b.targets = ids.data(), b.B = 1, b.T = (int)ids.size();
  ForwardOptions ref;
  ref.naive_attention = true;
  auto r = sc->score(b, nullptr, ref);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("scoring activations would need"), std::string::npos) << r.status().message();
  EXPECT_FALSE(checked_bytes({INT64_MAX / 2, 3}, 4, "x").is_ok());
  EXPECT_EQ(*checked_bytes({1000, 3}, 4, "x"), 12000);
  EXPECT_EQ(sat_mul(INT64_MAX / 2, 3), INT64_MAX);
  EXPECT_FALSE(check_allocation(INT64_MAX, "x").is_ok());
  EXPECT_TRUE(check_allocation(1 << 20, "x").is_ok());
}

TEST(ActivationTable, LinearInSequenceLengthAndCarvesWhatItSizes) {
  const LlamaConfig c = small_config();
  for (int kind = 0; kind < 3; kind++) {  // training, training with checkpointing, scoring
    auto floats = [&](int T) {
      detail::PassPlan plan;
      if (kind < 2) {
        plan.residuals = c.num_hidden_layers + 1, plan.backward = true;
        plan.layer_sets = kind == 0 ? c.num_hidden_layers : 1;
      }
      plan.classifier_rows = 256;  // fixed, as in the sessions once T >= 256
      detail::Activations a;
      const auto t = detail::activation_table(detail::dims_of(c, 1, T), plan, &a);
      // carving: every slot set, in order, inside the sized area, 64-byte aligned
      std::vector<float> base(detail::table_floats(t) + 16);
      float* aligned = base.data() + (16 - ((uintptr_t)base.data() / 4) % 16) % 16;
      detail::carve(t, aligned);
      const float* prev = aligned - 1;
      for (const auto& e : t) {
        EXPECT_GT(*e.slot, prev) << e.name;
        EXPECT_EQ(((uintptr_t)*e.slot) % 64, 0u) << e.name;
        EXPECT_LE(*e.slot + e.floats, aligned + detail::table_floats(t)) << e.name;
        prev = *e.slot;
      }
      return detail::table_floats(t);
    };
    const int64_t f1 = floats(1024), f2 = floats(2048), f4 = floats(4096), f8 = floats(8192);
    EXPECT_EQ(f4 - f2, 2 * (f2 - f1)) << "kind " << kind;
    EXPECT_EQ(f8 - f4, 2 * (f4 - f2)) << "kind " << kind;
  }
}
