// Logits, loss and every parameter gradient of tiny models against the independent PyTorch
// implementation in tests/model/make_reference.py (float64), whose dumps are committed under
// tests/data/model/ (so the suite needs no torch). Also checks our loader against the script's
// own safetensors writer.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "model/checkpoint.h"
#include "model/safetensors.h"

using namespace longctx::model;

namespace {
struct MaxDiff {
  double abs = 0, rel = 0;
  void add(double a, double b) {
    const double d = std::fabs(a - b);
    abs = std::max(abs, d);
    rel = std::max(rel, d / (std::fabs(b) + 1e-6));
  }
};
std::vector<float> f32(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo* t = f.find(name);
  EXPECT_NE(t, nullptr) << name;
  if (!t) return {};
  std::vector<float> v(t->numel());
  EXPECT_TRUE(f.read_f32(*t, v.data()).is_ok());
  return v;
}
std::vector<int32_t> i32(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo* t = f.find(name);
  if (!t) return {};
  std::vector<int32_t> v(t->numel());
  std::memcpy(v.data(), f.data(*t), v.size() * 4);
  return v;
}
}  // namespace

class ReferenceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ReferenceTest, LogitsLossAndGradientsMatchPyTorch) {
  const std::string dir = std::string(LONGCTX_TEST_DATA) + "/model/" + GetParam();
  auto m = load_checkpoint(dir);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  auto ref = SafetensorsFile::open(dir + "/ref.safetensors");
  ASSERT_TRUE(ref.is_ok()) << ref.status().message();
  const TensorInfo* in = ref->find("inputs");
  ASSERT_NE(in, nullptr);
  const int B = (int)in->shape[0], T = (int)in->shape[1], V = m->config().vocab_size;
  auto inputs = i32(*ref, "inputs"), targets = i32(*ref, "targets"), doc = i32(*ref, "doc_start");
  const bool masked = !doc.empty();

  // logits: forward_logits has no document mask, so compare it only for unmasked cases
  if (!masked) {
    std::vector<float> logits((size_t)B * T * V);
    auto score = ScoreSession::create(*m);
    ASSERT_TRUE(score.is_ok());
    Batch whole;
    whole.inputs = inputs.data(), whole.B = B, whole.T = T;
    ASSERT_TRUE(score->logits(whole, logits.data()).is_ok());
    auto want = f32(*ref, "logits");
    MaxDiff d;
    for (size_t i = 0; i < want.size(); i++) d.add(logits[i], want[i]);
    std::printf("  %s logits: largest abs diff %.3g (tolerance 1e-4)\n", GetParam().c_str(), d.abs);
    EXPECT_LT(d.abs, 1e-4);
  }
  Batch batch;
  batch.inputs = inputs.data(), batch.targets = targets.data(), batch.B = B, batch.T = T;
  batch.doc_start = masked ? doc.data() : nullptr;
  StepOptions opt;
  opt.checkpoint_layers = true;
  auto train = TrainSession::create(*m);
  ASSERT_TRUE(train.is_ok());
  train->zero_grads();
  auto step = train->forward_backward(batch, opt);
  ASSERT_TRUE(step.is_ok()) << step.status().message();
  const double loss = *step;
  const float want_loss = f32(*ref, "loss")[0];
  std::printf("  %s loss: ours %.7f, PyTorch %.7f\n", GetParam().c_str(), loss, want_loss);
  EXPECT_NEAR(loss, want_loss, 2e-5);
  MaxDiff all;
  for (const ParamTensor& p : m->layout().tensors) {
    auto want = f32(*ref, "grad." + p.name);
    ASSERT_EQ((int64_t)want.size(), p.numel()) << p.name;
    double scale = 0;
    for (float w : want) scale = std::max(scale, (double)std::fabs(w));
    MaxDiff d;
    for (int64_t i = 0; i < p.numel(); i++) d.add(train->grads()[p.offset + i], want[i]);
    all.abs = std::max(all.abs, d.abs / scale);
    // relative to the tensor's largest gradient: float32 vs float64 rounding
    EXPECT_LT(d.abs, 1e-4 * scale + 1e-7) << p.name << ": largest diff " << d.abs << " vs scale " << scale;
  }
  std::printf("  %s gradients: largest diff / tensor max |grad| = %.3g (tolerance 1e-4)\n",
              GetParam().c_str(), all.abs);
}

INSTANTIATE_TEST_SUITE_P(Models, ReferenceTest,
                         ::testing::Values("ref_gqa_untied", "ref_yarn_tied_docmask", "ref_mqa_linear"));
