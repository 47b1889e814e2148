// The training library against values worked out by hand (schedule, AdamW, data layout), against
// separate-sequence computations (document mask), and the loop's own guarantees (overfitting one
// batch, micro-batch accumulation, NaN stops, in-process stop and resume bit for bit).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/file_io.h"
#include "kernels/cpu/threads.h"
#include "model/checkpoint.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/optimizer.h"
#include "train/trainer.h"
#include "train_fixture.h"

namespace longctx::train {
namespace {

// One thread: the tests' models are tiny, and on a loaded machine every OpenMP barrier can cost a
// time slice (the results do not depend on the thread count).
struct OneThread : ::testing::Environment {
  void SetUp() override { cpu::set_num_threads(1); }
};
const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new OneThread);

using testing::read_all;
using testing::scratch_dir;
using testing::write_mixture;
using testing::write_tiny_config;

// ---- schedule and AdamW -------------------------------------------------------------------------

TEST(Schedule, ValuesByHand) {
  // cosine, peak 0.1, floor 0.01, 1 warmup step of 3: 0.1, (0.1 + 0.01) / 2, 0.01
  ScheduleParams p{Schedule::kCosine, 0.1, 0.01, 1, 3};
  EXPECT_NEAR(learning_rate(p, 1), 0.1, 1e-15);
  EXPECT_NEAR(learning_rate(p, 2), 0.055, 1e-15);
  EXPECT_NEAR(learning_rate(p, 3), 0.01, 1e-15);
  // warmup 4 then linear decay to 0 over steps 5..8: 0.25, 0.5, 0.75, 1, then 0.75, 0.5, 0.25, 0
  ScheduleParams l{Schedule::kLinear, 1.0, 0.0, 4, 8};
  const double want[] = {0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.25, 0.0};
  for (int s = 1; s <= 8; s++) EXPECT_NEAR(learning_rate(l, s), want[s - 1], 1e-15) << "step " << s;
  ScheduleParams c{Schedule::kConstant, 2e-5, 0, 0, 10};
  EXPECT_EQ(learning_rate(c, 1), 2e-5);
  EXPECT_EQ(learning_rate(c, 10), 2e-5);
}

TEST(AdamW, ThreeStepsWithTheScheduleByHand) {
  // Three parameters: [0] decays, g = 0.5 every step; [1] does not decay, g = -2 every step;
  // [2] does not decay, g = 1, -1, 0. Learning rates 0.1, 0.055, 0.01 (the cosine above), wd 0.1.
  // With a constant g, bias correction makes m^ = g and v^ = g^2, so each step moves by
  // lr * g / (|g| + eps) after shrinking by (1 - lr * wd):
  //   [0]: 1 * 0.99 - 0.1 = 0.89; 0.89 * 0.9945 - 0.055 = 0.830105; 0.830105 * 0.999 - 0.01 = 0.819274895
  //   [1]: 1 + 0.1 + 0.055 + 0.01 = 1.165
  // [2] with lr 0.1 throughout (a second optimizer, constant schedule), b1 0.9, b2 0.999:
  //   t1: m = 0.1, v = 0.001, m^ = 1, v^ = 1: p = -0.1
  //   t2: m = 0.09 - 0.1 = -0.01, v = 0.000999 + 0.001 = 0.001999; m^ = -0.01 / 0.19 = -1/19,
  //       v^ = 0.001999 / (1 - 0.999^2) = 1: p = -0.1 + 0.1 / 19 = -0.0947368421
  //   t3: m = -0.009, v = 0.001997001; m^ = -0.009 / 0.271 = -0.0332103321,
  //       v^ = 0.001997001 / 0.002997001 = 0.6663331110: p += 0.1 * 0.0332103321 / 0.8162923925
  //       = 0.0040684054: p = -0.0906684367 + ... = -0.0906684049
  ScheduleParams sched{Schedule::kCosine, 0.1, 0.01, 1, 3};
  AdamW opt(2, {0.9, 0.999, 1e-8, 0.1}, {1, 0});
  float p[2] = {1.0f, 1.0f};
  const float g[2] = {0.5f, -2.0f};
  for (int t = 1; t <= 3; t++) opt.update(p, g, learning_rate(sched, t));
  EXPECT_NEAR(p[0], 0.819274895, 2e-7);
  EXPECT_NEAR(p[1], 1.165, 2e-7);
  EXPECT_EQ(opt.step(), 3);

  AdamW opt2(1, {0.9, 0.999, 1e-8, 0.0}, {0});
  float q = 0;
  const float gs[3] = {1.0f, -1.0f, 0.0f};
  const double want[3] = {-0.1, -0.0947368421, -0.0906684049};
  for (int t = 0; t < 3; t++) {
    opt2.update(&q, &gs[t], 0.1);
    EXPECT_NEAR(q, want[t], 2e-7) << "step " << t + 1;
  }
}

TEST(AdamW, DecayGroupsFollowTheHuggingFaceTrainer) {
  EXPECT_TRUE(decays("model.embed_tokens.weight"));
  EXPECT_TRUE(decays("lm_head.weight"));
  EXPECT_TRUE(decays("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_TRUE(decays("model.layers.1.mlp.down_proj.weight"));
  EXPECT_FALSE(decays("model.layers.0.input_layernorm.weight"));
  EXPECT_FALSE(decays("model.layers.0.post_attention_layernorm.weight"));
  EXPECT_FALSE(decays("model.norm.weight"));
  EXPECT_FALSE(decays("model.layers.0.self_attn.q_proj.bias"));
  const model::ParamLayout lay = model::param_layout(testing::tiny_config());
  const std::vector<uint8_t> mask = decay_mask(lay);
  int64_t off = 0;
  for (const auto& t : lay.tensors) {
    EXPECT_EQ(mask[(size_t)t.offset], t.name.find("norm") == std::string::npos ? 1 : 0) << t.name;
    off += t.numel();
  }
  EXPECT_EQ(off, lay.total);
}

TEST(Clip, GlobalNormAndClipAsTorch) {
  std::vector<float> g = {3, 4};  // norm 5
  EXPECT_DOUBLE_EQ(global_norm(g.data(), 2), 5.0);
  clip_gradient(g.data(), 2, 5.0, 1.0);  // scale 1 / (5 + 1e-6)
  EXPECT_NEAR(g[0], 0.6, 1e-6);
  EXPECT_NEAR(g[1], 0.8, 1e-6);
  std::vector<float> h = {0.3f, 0.4f};
  clip_gradient(h.data(), 2, 0.5, 1.0);  // below the threshold: unchanged
  EXPECT_EQ(h[0], 0.3f);
}

// ---- data ---------------------------------------------------------------------------------------

TEST(Data, SplitAndOrderArePureFunctions) {
  std::vector<uint64_t> tr, va;
  split_units(100, 0.1, &tr, &va);
  EXPECT_EQ(va.size(), 10u);
  EXPECT_EQ(tr.size(), 90u);
  for (uint64_t u : va) EXPECT_EQ(std::count(tr.begin(), tr.end(), u), 0);
  split_units(3, 0.01, &tr, &va);  // at least one held out, at least one kept
  EXPECT_EQ(va.size(), 1u);
  split_units(1, 0.5, &tr, &va);
  EXPECT_EQ(tr.size(), 1u);
  EXPECT_EQ(va.size(), 0u);
  // Each epoch visits every unit once; a fresh object gives the same sequence at any entry point.
  DataOrder a({10, 11, 12, 13, 14}, 7), b({10, 11, 12, 13, 14}, 7);
  std::vector<uint64_t> first;
  for (uint64_t s = 0; s < 5; s++) first.push_back(a.unit(s));
  std::vector<uint64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<uint64_t>{10, 11, 12, 13, 14}));
  EXPECT_EQ(b.unit(7), a.unit(7));
  EXPECT_EQ(b.unit(2), first[2]);
  std::vector<uint64_t> second;
  for (uint64_t s = 5; s < 10; s++) second.push_back(a.unit(s));
  EXPECT_NE(second, first);  // reshuffled each epoch
}

TEST(Data, MicroBatchTargetsAndDocumentMaskByHand) {
  // Chunk of 8 with hand-made spans through the packed writer: A [0,3), B [3,6), padding [6,8).
  const std::string dir = scratch_dir("mb");
  auto w = PackedShardWriter::create(dir + "/" + packed_shard_name(0), 2, 8, 0);
  ASSERT_TRUE(w.is_ok());
  const std::vector<uint32_t> t = {5, 6, 7, 9, 10, 11, 0, 0};
  const std::vector<PackedSpan> sp = {{1, 0, 3, 0, 0, kSpanStart | kSpanEnd}, {2, 3, 6, 0, 1, kSpanStart | kSpanEnd},
                                      {0, 6, 8, 0, kPadDomain, 0}};
  ASSERT_TRUE(w->add_chunk(t, sp).is_ok());
  auto sum = w->finish();
  ASSERT_TRUE(sum.is_ok());
  nlohmann::json m = {{"format", {{"name", "longctx-packed"}, {"version", 1}, {"seq_len", 8}, {"token_bytes", 2}}},
                      {"domains", {"A", "B"}}, {"vocab_size", 64},
                      {"shards", {{{"file", packed_shard_name(0)}, {"first_chunk", 0}, {"chunks", 1}, {"xxh64", hex64(*sum)}}}}};
  ASSERT_TRUE(write_json_atomic(dir + "/manifest.json", m).is_ok());
  auto src = open_token_source(dir, 0, 64);
  ASSERT_TRUE(src.is_ok()) << src.status().message();
  MicroBatch full, masked;
  ASSERT_TRUE(build_micro_batch(**src, {0}, false, &full).is_ok());
  ASSERT_TRUE(build_micro_batch(**src, {0}, true, &masked).is_ok());
  EXPECT_EQ(full.inputs, (std::vector<int32_t>{5, 6, 7, 9, 10, 11, 0, 0}));
  // full attention: 7 -> 9 across the documents is predicted; nothing into or from padding
  EXPECT_EQ(full.targets, (std::vector<int32_t>{6, 7, 9, 10, 11, -1, -1, -1}));
  EXPECT_EQ(full.domain, (std::vector<int32_t>{0, 0, 0, 1, 1, -1, -1, -1}));
  EXPECT_TRUE(full.doc_start.empty());
  EXPECT_EQ(masked.targets, (std::vector<int32_t>{6, 7, -1, 10, 11, -1, -1, -1}));
  EXPECT_EQ(masked.doc_start, (std::vector<int32_t>{0, 0, 0, 3, 3, 3, 0, 0}));
  // --seq-len 4 cuts the chunk in two units; the spans are clipped
  auto half = open_token_source(dir, 4, 64);
  ASSERT_TRUE(half.is_ok());
  EXPECT_EQ((*half)->num_units(), 2u);
  MicroBatch h;
  ASSERT_TRUE(build_micro_batch(**half, {1}, true, &h).is_ok());
  EXPECT_EQ(h.inputs, (std::vector<int32_t>{10, 11, 0, 0}));
  EXPECT_EQ(h.targets, (std::vector<int32_t>{11, -1, -1, -1}));
  EXPECT_EQ(h.doc_start, (std::vector<int32_t>{0, 0, 0, 0}));
}

// --doc-mask: a chunk of two documents scores (and trains) exactly as the two run separately.
TEST(DocMask, TwoDocumentChunkEqualsSeparateSequences) {
  const model::LlamaConfig cfg = testing::tiny_config();
  auto m = model::LlamaModel::create(cfg);
  ASSERT_TRUE(m.is_ok());
  model::init_params(cfg, 3, 0.2f, m->params());
  const std::vector<int32_t> a = {3, 8, 1, 40, 22, 9, 17}, b = {5, 5, 60, 2, 31};
  std::vector<int32_t> chunk = a;
  chunk.insert(chunk.end(), b.begin(), b.end());
  // the loop's micro-batch for this chunk, built as the trainer builds it
  const std::string dir = scratch_dir("docmask");
  auto w = PackedShardWriter::create(dir + "/" + packed_shard_name(0), 2, chunk.size(), 0);
  ASSERT_TRUE(w.is_ok());
  std::vector<uint32_t> ut(chunk.begin(), chunk.end());
  const std::vector<PackedSpan> sp = {{1, 0, 7, 0, 0, 3}, {2, 7, 12, 0, 1, 3}};
  ASSERT_TRUE(w->add_chunk(ut, sp).is_ok());
  auto sum = w->finish();
  ASSERT_TRUE(sum.is_ok());
  nlohmann::json mf = {{"format", {{"name", "longctx-packed"}, {"version", 1}, {"seq_len", 12}, {"token_bytes", 2}}},
                       {"domains", {"A", "B"}}, {"vocab_size", 64},
                       {"shards", {{{"file", packed_shard_name(0)}, {"first_chunk", 0}, {"chunks", 1}, {"xxh64", hex64(*sum)}}}}};
  ASSERT_TRUE(write_json_atomic(dir + "/manifest.json", mf).is_ok());
  auto src = open_token_source(dir, 0, 64);
  ASSERT_TRUE(src.is_ok());
  MicroBatch mb, full;
  ASSERT_TRUE(build_micro_batch(**src, {0}, true, &mb).is_ok());
  ASSERT_TRUE(build_micro_batch(**src, {0}, false, &full).is_ok());
  auto train = model::TrainSession::create(*m);
  ASSERT_TRUE(train.is_ok());
  train->zero_grads();
  model::Batch packed{mb.inputs.data(), mb.targets.data(), mb.doc_start.data(), 1, 12};
  auto l_packed = train->forward_backward(packed);
  ASSERT_TRUE(l_packed.is_ok());
  train->zero_grads();
  model::Batch unmasked{full.inputs.data(), full.targets.data(), nullptr, 1, 12};
  auto l_full = train->forward_backward(unmasked);
  ASSERT_TRUE(l_full.is_ok());
  // separately: each document alone, next-token targets inside it
  auto score = model::ScoreSession::create(*m);
  ASSERT_TRUE(score.is_ok());
  double total = 0;
  int64_t count = 0;
  for (const auto& d : {a, b}) {
    std::vector<int32_t> tg(d.begin() + 1, d.end());
    tg.push_back(-1);
    model::Batch one{d.data(), tg.data(), nullptr, 1, (int)d.size()};
    auto s = score->score(one, nullptr);
    ASSERT_TRUE(s.is_ok());
    total += s->sum, count += s->count;
  }
  EXPECT_EQ(count, 10);  // 6 + 4 predictions
  EXPECT_NEAR(*l_packed, total / (double)count, 2e-6);
  EXPECT_GT(std::fabs(*l_full - *l_packed), 1e-3);  // full attention sees the other document
}

// ---- the loop -----------------------------------------------------------------------------------

TrainConfig tiny_run(const std::string& root, const std::string& data, const std::string& out) {
  TrainConfig c;
  c.data = data;
  c.init = write_tiny_config(root);
  c.out = out;
  c.measure_ceiling = false;
  c.keep_last = 0;
  return c;
}

std::vector<double> step_losses(const std::string& run) {
  std::vector<double> out;
  std::istringstream in(read_all(run + "/metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("loss")) out.push_back(j["loss"].get<double>());
  }
  return out;
}

std::vector<float> weights_of(const std::string& dir) {
  auto m = model::load_checkpoint(dir);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  if (!m.is_ok()) return {};
  return std::vector<float>(m->params(), m->params() + m->num_params());
}

TEST(Loop, OverfitsOneBatch) {
  // One chunk of 32 random-looking tokens, seen 80 times: the loss falls below 0.05 nats
  // (from ln 64 = 4.16).
  const std::string root = scratch_dir("overfit");
  TrainConfig c = tiny_run(root, write_mixture(root + "/mix", 1, 32), root + "/run");
  c.lr = 1e-2, c.schedule = "constant", c.warmup = 0, c.steps = 80, c.batch_tokens = 32;
  SingleProcess comm;
  auto r = run_training(c, nullptr, comm);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const std::vector<double> l = step_losses(c.out);
  ASSERT_EQ(l.size(), 80u);
  EXPECT_GT(l.front(), 3.5);
  EXPECT_LT(l.back(), 0.05);
  EXPECT_LT(r->val_loss, 0);  // no validation data: none run
  EXPECT_TRUE(file_exists(c.out + "/step-000080/model.safetensors"));
  EXPECT_TRUE(file_exists(c.out + "/loss.png"));
}

TEST(Loop, FourMicroBatchesEqualOneBatchFourTimesTheSize) {
  // The same 4 sequences per step either as one (4,T) pass or four (1,T) passes summed and
  // divided by 4: two steps of AdamW later the weights agree to 1e-5 (float sums in another order;
  // the largest difference seen is printed).
  const std::string root = scratch_dir("accum");
  const std::string data = write_mixture(root + "/mix", 16, 32);
  TrainConfig one = tiny_run(root, data, root + "/one");
  one.micro_batch = 4, one.batch_tokens = 4 * 32, one.steps = 2, one.lr = 1e-3;
  TrainConfig four = one;
  four.out = root + "/four", four.micro_batch = 1;
  SingleProcess comm;
  ASSERT_TRUE(run_training(one, nullptr, comm).is_ok());
  ASSERT_TRUE(run_training(four, nullptr, comm).is_ok());
  const auto a = weights_of(one.out + "/step-000002"), b = weights_of(four.out + "/step-000002");
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); i++) worst = std::max(worst, (double)std::fabs(a[i] - b[i]));
  std::printf("largest weight difference: %.3g\n", worst);
  EXPECT_LT(worst, 1e-5);
  const auto la = step_losses(one.out), lb = step_losses(four.out);
  EXPECT_NEAR(la[0], lb[0], 1e-6);
}

TEST(Loop, NanStopsNamingTheStepAndKeepsTheLastGoodCheckpoint) {
  const std::string root = scratch_dir("nan");
  TrainConfig c = tiny_run(root, write_mixture(root + "/mix", 8, 32), root + "/run");
  c.steps = 6, c.save_every = 2, c.batch_tokens = 32, c.test_nan_at_step = 5;
  SingleProcess comm;
  auto r = run_training(c, nullptr, comm);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(),
            "step 5: the gradient norm is nan; stopped without updating the weights. The last good checkpoint is " +
                c.out + "/step-000004");
  EXPECT_EQ(list_checkpoints(c.out), (std::vector<int64_t>{2, 4}));
  EXPECT_FALSE(file_exists(c.out + "/summary.json"));
  EXPECT_EQ(weights_of(c.out + "/step-000004").size(), (size_t)model::param_layout(testing::tiny_config()).total);
}

TEST(Loop, StopRequestSavesAndTheRerunEndsBitForBit) {
  const std::string root = scratch_dir("stop");
  const std::string data = write_mixture(root + "/mix", 8, 32);
  TrainConfig c = tiny_run(root, data, root + "/a");
  c.steps = 6, c.batch_tokens = 64, c.val_share = 0.2, c.eval_every = 2;
  SingleProcess comm;
  ASSERT_TRUE(run_training(c, nullptr, comm).is_ok());
  TrainConfig d = c;
  d.out = root + "/b";
  // a stop request during step 3 (as SIGINT would make): saved at step 3, not finished
  auto stop_at_3 = [](const TrainProgress& p) {
    if (p.kind == TrainProgress::Kind::kStep && p.step == 3) request_stop();
  };
  auto r = run_training(d, stop_at_3, comm);
  clear_stop_request();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->interrupted);
  EXPECT_EQ(list_checkpoints(d.out), (std::vector<int64_t>{3}));
  auto r2 = run_training(d, nullptr, comm);
  ASSERT_TRUE(r2.is_ok()) << r2.status().message();
  EXPECT_EQ(r2->step, 6);
  EXPECT_EQ(read_all(c.out + "/step-000006/model.safetensors"), read_all(d.out + "/step-000006/model.safetensors"));
  EXPECT_EQ(read_all(c.out + "/step-000006/optimizer.bin"), read_all(d.out + "/step-000006/optimizer.bin"));
  EXPECT_EQ(step_losses(c.out), step_losses(d.out));  // metrics.jsonl holds each step once
  auto again = run_training(d, nullptr, comm);  // finished: nothing to do
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again->already_done);
}

}  // namespace
}  // namespace longctx::train
