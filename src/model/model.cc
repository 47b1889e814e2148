#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/hash.h"
#include "model/forward.h"
#include "model/memory.h"

namespace longctx::model {

// ------------------------------------------------------------------------------------------------
// parameters

ParamLayout param_layout(const LlamaConfig& c) {
  ParamLayout p;
  const int64_t C = c.hidden_size, V = c.vocab_size, I = c.intermediate_size;
  const int64_t Q = c.q_dim(), KV = c.kv_dim();
  auto add = [&](std::string name, std::vector<int64_t> shape) {
    ParamTensor t{std::move(name), std::move(shape), p.total};
    p.total += t.numel();
    p.tensors.push_back(std::move(t));
    return p.tensors.back().offset;
  };
  p.wte = add("model.embed_tokens.weight", {V, C});
  for (int l = 0; l < c.num_hidden_layers; l++) {
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    LayerOffsets o;
    o.ln1 = add(pre + "input_layernorm.weight", {C});
    o.wqkv = add(pre + "self_attn.q_proj.weight", {Q, C});
    add(pre + "self_attn.k_proj.weight", {KV, C});
    add(pre + "self_attn.v_proj.weight", {KV, C});
    o.wo = add(pre + "self_attn.o_proj.weight", {C, Q});
    o.ln2 = add(pre + "post_attention_layernorm.weight", {C});
    o.wgu = add(pre + "mlp.gate_proj.weight", {I, C});
    add(pre + "mlp.up_proj.weight", {I, C});
    o.wdown = add(pre + "mlp.down_proj.weight", {C, I});
    p.layers.push_back(o);
  }
  p.lnf = add("model.norm.weight", {C});
  p.lm_head = c.tie_word_embeddings ? p.wte : add("lm_head.weight", {V, C});
  return p;
}

void init_params(const LlamaConfig& c, uint64_t seed, float std, float* params) {
  const ParamLayout p = param_layout(c);
  for (size_t i = 0; i < p.tensors.size(); i++) {
    const ParamTensor& t = p.tensors[i];
    float* w = params + t.offset;
    if (t.shape.size() == 1) {
      std::fill(w, w + t.numel(), 1.0f);
      continue;
    }
    Rng rng(mix64(seed ^ mix64(i + 1)));  // per tensor stream: independent of the others' sizes
    for (int64_t k = 0; k < t.numel(); k++) w[k] = (float)(rng.normal() * std);
  }
}

namespace {

// Floats of the parameters computed with saturating arithmetic (a hostile config.json cannot
// overflow param_layout's int64 sums unnoticed).
int64_t param_floats_checked(const LlamaConfig& c) {
  const int64_t C = c.hidden_size, V = c.vocab_size, I = c.intermediate_size;
  const int64_t Q = c.q_dim(), KV = c.kv_dim();
  int64_t layer = sat_add(sat_mul(C, sat_add(Q, 2 * KV)), sat_mul(C, Q));
  layer = sat_add(sat_add(layer, sat_mul(3 * I, C)), 2 * C);
  int64_t total = sat_add(sat_mul(V, C), sat_mul(c.num_hidden_layers, layer));
  return sat_add(total, c.tie_word_embeddings ? C : sat_add(C, sat_mul(V, C)));
}

}  // namespace

Result<LlamaModel> LlamaModel::create(const LlamaConfig& c) {
  LONGCTX_RETURN_IF_ERROR(validate_config(c));
  LONGCTX_RETURN_IF_ERROR(check_allocation(sat_mul(param_floats_checked(c), (int64_t)sizeof(float)),
                                           "model parameters"));
  LlamaModel m;
  m.cfg_ = c;
  m.layout_ = param_layout(c);
  m.params_.assign(m.layout_.total, 0.0f);
  return m;
}

// ------------------------------------------------------------------------------------------------
// training

using detail::Activations;
using detail::Dims;
using detail::LayerCtx;
using detail::PassPlan;

TrainSession::TrainSession(const LlamaModel& m, const kernels::Backend& be)
    : m_(&m), be_(&be), grads_(&be), arena_(&be) {}

Result<TrainSession> TrainSession::create(const LlamaModel& m, const kernels::Backend& be) {
  TrainSession s(m, be);
  LONGCTX_RETURN_IF_ERROR(s.grads_.reserve(m.num_params(), "parameter gradients"));
  return s;
}

void TrainSession::zero_grads() { be_->zero(grads_.data(), m_->num_params()); }

Result<double> TrainSession::forward_backward(const Batch& batch, const StepOptions& opt,
                                              float* losses) {
  const LlamaConfig& cfg = m_->config();
  LONGCTX_RETURN_IF_ERROR(detail::check_batch(cfg, batch, true));
  LONGCTX_RETURN_IF_ERROR(detail::require_ops(*be_, detail::PassKind::kTrain, opt.naive_attention));
  const Dims d = detail::dims_of(cfg, batch.B, batch.T);
  // Every layer's input x_0..x_L is kept; layer activations for every layer, or for one layer
  // that is recomputed in backward when checkpointing.
  PassPlan plan;
  plan.residuals = d.L + 1;
  plan.layer_sets = opt.checkpoint_layers ? 1 : d.L;
  plan.ref_keys = opt.naive_attention ? d.T : 0;
  plan.backward = true;
  plan.classifier_rows = std::min(std::max(opt.ce_chunk_rows, 1), d.N);
  Activations a;
  LONGCTX_RETURN_IF_ERROR(
      detail::carve_activations(d, plan, &arena_, "training activations", &a, &act_bytes_));
  std::vector<float> cos, sin;
  detail::rope_tables_for(cfg, d.T, 0, d.T, &cos, &sin);
  const ParamLayout& lay = m_->layout();
  const float* P = m_->params();
  float* G = grads_.data();
  const LayerCtx cx{be_, &cfg, &lay, P, G, d, cos.data(), sin.data(), batch.doc_start,
                    opt.naive_attention};
  // forward
  const float* xL = detail::forward_layers(cx, batch.inputs, a);
  be_->rmsnorm_forward(a.lnf, a.rstdf, xL, P + lay.lnf, d.N, d.C, (float)cfg.rms_norm_eps);
  int64_t ntargets = 0;
  for (int64_t i = 0; i < (int64_t)d.N; i++) ntargets += batch.targets[i] >= 0;
  const float scale = ntargets > 0 ? 1.0f / (float)ntargets : 0.0f;
  be_->zero(a.dlnf, (int64_t)d.N * d.C);
  const double loss_sum = be_->classifier(losses ? losses : a.losses, a.dlnf, G + lay.lm_head, a.lnf, P + lay.lm_head,
                                          batch.targets, d.N, d.C, d.V, scale,
                                          plan.classifier_rows, a.logits);
  // backward
  be_->zero(a.dx, (int64_t)d.N * d.C);
  be_->rmsnorm_backward(a.dx, G + lay.lnf, a.dlnf, xL, P + lay.lnf, a.rstdf, d.N, d.C);
  for (int l = d.L - 1; l >= 0; l--) {
    const detail::LayerActs& la = a.layers[l % a.layers.size()];
    // the last layer's activations are still in the buffer after the forward pass
    if (opt.checkpoint_layers && l != d.L - 1) detail::layer_forward(cx, l, a.x[l], la, a.x[l + 1]);
    detail::layer_backward(cx, l, a.x[l], la, a.dx, a.s1, a.s2);
  }
  be_->embedding_backward(G + lay.wte, a.dx, batch.inputs, d.N, d.C);
  return ntargets > 0 ? loss_sum / (double)ntargets : 0.0;
}

// ------------------------------------------------------------------------------------------------
// scoring

ScoreSession::ScoreSession(const LlamaModel& m, const kernels::Backend& be)
    : m_(&m), be_(&be), arena_(&be) {}

Result<ScoreSession> ScoreSession::create(const LlamaModel& m, const kernels::Backend& be) {
  return ScoreSession(m, be);
}

// Runs embedding + layers + final norm over one layer's activations; on success *a points into
// the arena and a->lnf holds the normed output (N,C).
Status ScoreSession::forward(const Batch& batch, const ForwardOptions& opt, int classifier_rows,
                             detail::Activations* a) {
  const LlamaConfig& cfg = m_->config();
  LONGCTX_RETURN_IF_ERROR(detail::require_ops(*be_, detail::PassKind::kScore, opt.naive_attention));
  const Dims d = detail::dims_of(cfg, batch.B, batch.T);
  PassPlan plan;  // two residual buffers, one layer set
  plan.ref_keys = opt.naive_attention ? d.T : 0;
  plan.classifier_rows = classifier_rows;
  LONGCTX_RETURN_IF_ERROR(
      detail::carve_activations(d, plan, &arena_, "scoring activations", a, &act_bytes_));
  std::vector<float> cos, sin;
  detail::rope_tables_for(cfg, d.T, 0, d.T, &cos, &sin);
  const ParamLayout& lay = m_->layout();
  const LayerCtx cx{be_, &cfg, &lay, m_->params(), nullptr, d, cos.data(), sin.data(),
                    batch.doc_start, opt.naive_attention};
  const float* xL = detail::forward_layers(cx, batch.inputs, *a);
  be_->rmsnorm_forward(a->lnf, a->rstdf, xL, m_->params() + lay.lnf, d.N, d.C,
                       (float)cfg.rms_norm_eps);
  return Status::ok();
}

Result<LossSum> ScoreSession::score(const Batch& batch, float* losses, const ForwardOptions& opt) {
  const LlamaConfig& cfg = m_->config();
  LONGCTX_RETURN_IF_ERROR(detail::check_batch(cfg, batch, true));
  const int N = batch.B * batch.T;
  const int rows = std::min(std::max(opt.ce_chunk_rows, 1), N);
  Activations a;
  LONGCTX_RETURN_IF_ERROR(forward(batch, opt, rows, &a));
  const ParamLayout& lay = m_->layout();
  LossSum r;
  r.sum = be_->classifier(losses ? losses : a.losses, nullptr, nullptr, a.lnf,
                          m_->params() + lay.lm_head, batch.targets, N, cfg.hidden_size,
                          cfg.vocab_size, 0.0f, rows, a.logits);
  for (int64_t i = 0; i < N; i++) r.count += batch.targets[i] >= 0;
  return r;
}

Status ScoreSession::logits(const Batch& batch, float* logits, const ForwardOptions& opt) {
  const LlamaConfig& cfg = m_->config();
  LONGCTX_RETURN_IF_ERROR(detail::check_batch(cfg, batch, false));
  if (!logits) return make_error(ErrorCode::kInvalidArgument, "logits: no output buffer");
  Activations a;
  LONGCTX_RETURN_IF_ERROR(forward(batch, opt, 0, &a));
  be_->linear_forward(logits, a.lnf, m_->params() + m_->layout().lm_head, batch.B * batch.T,
                      cfg.hidden_size, cfg.vocab_size);
  return Status::ok();
}

}  // namespace longctx::model
