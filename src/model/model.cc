#include "model/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/hash.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/rmsnorm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"
#include "model/rope.h"

namespace longctx::model {

using namespace longctx::cpu;

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

Result<LlamaModel> LlamaModel::create(const LlamaConfig& c) {
  LONGCTX_RETURN_IF_ERROR(validate_config(c));
  LlamaModel m;
  m.cfg_ = c;
  m.layout_ = param_layout(c);
  m.params_.assign(m.layout_.total, 0.0f);
  return m;
}

void LlamaModel::zero_grads() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

// ------------------------------------------------------------------------------------------------
// activations

namespace {

struct Dims {
  int B, T, N, C, I, V, L, Hq, Hkv, hd, Q, KV, QKV;
};

Dims dims_of(const LlamaConfig& c, int B, int T) {
  Dims d;
  d.B = B, d.T = T, d.N = B * T, d.C = c.hidden_size, d.I = c.intermediate_size;
  d.V = c.vocab_size, d.L = c.num_hidden_layers, d.Hq = c.num_attention_heads;
  d.Hkv = c.num_key_value_heads, d.hd = c.head_dim_or_default();
  d.Q = c.q_dim(), d.KV = c.kv_dim(), d.QKV = d.Q + 2 * d.KV;
  return d;
}

// One layer's saved activations (pointers into an arena).
struct LayerActs {
  float* ln1;    // (N,C)
  float* rstd1;  // (N)
  float* qkv;    // (N,QKV), q and k after RoPE
  float* atty;   // (N,Q) attention output before o_proj
  float* lse;    // (B,Hq,T)
  float* att;    // (B,Hq,T,T) only for naive attention
  float* xmid;   // (N,C) residual after attention
  float* ln2;    // (N,C)
  float* rstd2;  // (N)
  float* gu;     // (N,2I) gate and up projections
  float* act;    // (N,I) swiglu output
};

int64_t layer_act_floats(const Dims& d, bool naive) {
  const int64_t N = d.N;
  return N * d.C * 4 + N * 2 + N * d.QKV + N * d.Q + (int64_t)d.B * d.Hq * d.T +
         (naive ? (int64_t)d.B * d.Hq * d.T * d.T : 0) + N * 2 * d.I + N * d.I;
}

LayerActs carve_layer(float*& p, const Dims& d, bool naive) {
  const int64_t N = d.N;
  LayerActs a;
  auto take = [&](int64_t n) {
    float* r = p;
    p += n;
    return r;
  };
  a.ln1 = take(N * d.C);
  a.rstd1 = take(N);
  a.qkv = take(N * d.QKV);
  a.atty = take(N * d.Q);
  a.lse = take((int64_t)d.B * d.Hq * d.T);
  a.att = naive ? take((int64_t)d.B * d.Hq * d.T * d.T) : nullptr;
  a.xmid = take(N * d.C);
  a.ln2 = take(N * d.C);
  a.rstd2 = take(N);
  a.gu = take(N * 2 * d.I);
  a.act = take(N * d.I);
  return a;
}

AttnShape attn_shape(const Dims& d) {
  AttnShape s;
  s.B = d.B, s.Tq = d.T, s.Tk = d.T, s.Hq = d.Hq, s.Hkv = d.Hkv, s.hd = d.hd;
  s.q_stride = d.QKV, s.kv_stride = d.QKV, s.o_stride = d.Q;
  return s;
}

struct Ctx {
  const LlamaConfig* cfg;
  const ParamLayout* lay;
  const float* params;
  float* grads;
  Dims d;
  const float* cos;
  const float* sin;
  const int32_t* doc_start;
  bool naive;
};

// x_out (N,C) = layer l applied to x_in (N,C); fills a.
void layer_forward(const Ctx& cx, int l, const float* x_in, LayerActs& a, float* x_out) {
  const Dims& d = cx.d;
  const LayerOffsets& o = cx.lay->layers[l];
  const float* P = cx.params;
  const float eps = (float)cx.cfg->rms_norm_eps;
  rmsnorm_forward(a.ln1, a.rstd1, x_in, P + o.ln1, d.N, d.C, eps);
  linear_forward(a.qkv, a.ln1, P + o.wqkv, d.N, d.C, d.QKV);
  rope_forward(a.qkv, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hq, d.hd);
  rope_forward(a.qkv + d.Q, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hkv, d.hd);
  const AttnShape s = attn_shape(d);
  const float *q = a.qkv, *k = a.qkv + d.Q, *v = a.qkv + d.Q + d.KV;
  if (cx.naive) attention_forward_naive(a.atty, a.att, q, k, v, cx.doc_start, s);
  else attention_forward_flash(a.atty, a.lse, q, k, v, cx.doc_start, s);
  linear_forward(a.xmid, a.atty, P + o.wo, d.N, d.Q, d.C);
  const int64_t NC = (int64_t)d.N * d.C;
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < NC; i++) a.xmid[i] += x_in[i];
  rmsnorm_forward(a.ln2, a.rstd2, a.xmid, P + o.ln2, d.N, d.C, eps);
  linear_forward(a.gu, a.ln2, P + o.wgu, d.N, d.C, 2 * d.I);
  swiglu_forward(a.act, a.gu, d.N, d.I);
  linear_forward(x_out, a.act, P + o.wdown, d.N, d.I, d.C);
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < NC; i++) x_out[i] += a.xmid[i];
}

// dx (N,C): on entry d loss / d x_out, on exit d loss / d x_in. s1 holds N*max(2I,QKV) floats,
// s2 N*max(I,Q,C).
void layer_backward(const Ctx& cx, int l, const float* x_in, const LayerActs& a, float* dx,
                    float* s1, float* s2) {
  const Dims& d = cx.d;
  const LayerOffsets& o = cx.lay->layers[l];
  const float* P = cx.params;
  float* G = cx.grads;
  const int64_t N = d.N;
  // MLP: x_out = xmid + down(swiglu(gate_up(rmsnorm(xmid))))
  float* dact = s2;
  std::fill(dact, dact + N * d.I, 0.0f);
  linear_backward(dact, G + o.wdown, dx, a.act, P + o.wdown, d.N, d.I, d.C);
  float* dgu = s1;
  swiglu_backward(dgu, dact, a.gu, d.N, d.I);
  float* dln2 = s2;
  std::fill(dln2, dln2 + N * d.C, 0.0f);
  linear_backward(dln2, G + o.wgu, dgu, a.ln2, P + o.wgu, d.N, d.C, 2 * d.I);
  rmsnorm_backward(dx, G + o.ln2, dln2, a.xmid, P + o.ln2, a.rstd2, d.N, d.C);  // dx: d/d xmid
  // attention: xmid = x_in + o_proj(attn(rope(qkv(rmsnorm(x_in)))))
  float* datty = s2;
  std::fill(datty, datty + N * d.Q, 0.0f);
  linear_backward(datty, G + o.wo, dx, a.atty, P + o.wo, d.N, d.Q, d.C);
  float* dqkv = s1;
  std::fill(dqkv, dqkv + N * d.QKV, 0.0f);
  const AttnShape s = attn_shape(d);
  const float *q = a.qkv, *k = a.qkv + d.Q, *v = a.qkv + d.Q + d.KV;
  float *dq = dqkv, *dk = dqkv + d.Q, *dv = dqkv + d.Q + d.KV;
  if (cx.naive) attention_backward_naive(dq, dk, dv, datty, a.att, q, k, v, s);
  else attention_backward_flash(dq, dk, dv, datty, a.atty, a.lse, q, k, v, cx.doc_start, s);
  rope_backward(dqkv, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hq, d.hd);
  rope_backward(dqkv + d.Q, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hkv, d.hd);
  float* dln1 = s2;
  std::fill(dln1, dln1 + N * d.C, 0.0f);
  linear_backward(dln1, G + o.wqkv, dqkv, a.ln1, P + o.wqkv, d.N, d.C, d.QKV);
  rmsnorm_backward(dx, G + o.ln1, dln1, x_in, P + o.ln1, a.rstd1, d.N, d.C);
}

int64_t count_targets(const Batch& b) {
  int64_t n = 0;
  for (int64_t i = 0; i < (int64_t)b.B * b.T; i++) n += b.targets[i] >= 0;
  return n;
}

}  // namespace

double LlamaModel::forward_backward(const Batch& batch, const StepOptions& opt) {
  if (grads_.size() != params_.size()) grads_.assign(params_.size(), 0.0f);
  const Dims d = dims_of(cfg_, batch.B, batch.T);
  const int64_t N = d.N, NC = N * d.C;
  std::vector<float> cos, sin;
  rope_tables(rope_frequencies(cfg_, d.T), 0, d.T, &cos, &sin);
  Ctx cx{&cfg_, &layout_, params_.data(), grads_.data(), d, cos.data(), sin.data(),
         batch.doc_start, opt.naive_attention};

  // One arena: layer inputs x_0..x_L, layer activations (1 set when checkpointing, else L),
  // final norm, backward scratch, classifier chunk.
  const int64_t per_layer = layer_act_floats(d, opt.naive_attention);
  const int n_act_sets = opt.checkpoint_layers ? 1 : d.L;
  const int chunk = std::min<int>(opt.ce_chunk_rows, d.N);
  const int64_t s1n = N * std::max(2 * d.I, d.QKV), s2n = N * std::max({d.I, d.Q, d.C});
  const int64_t total = (int64_t)(d.L + 1) * NC + n_act_sets * per_layer + NC + N + NC + NC +
                        s1n + s2n + (int64_t)chunk * d.V + N;
  if ((int64_t)arena_.size() < total) {
    arena_.clear();
    arena_.shrink_to_fit();
    arena_.resize(total);
  }
  last_act_bytes_ = total * (int64_t)sizeof(float);
  float* p = arena_.data();
  std::vector<float*> x(d.L + 1);
  for (int l = 0; l <= d.L; l++) x[l] = p, p += NC;
  std::vector<LayerActs> acts;
  for (int i = 0; i < n_act_sets; i++) acts.push_back(carve_layer(p, d, opt.naive_attention));
  float* lnf = p; p += NC;
  float* rstdf = p; p += N;
  float* dlnf = p; p += NC;
  float* dx = p; p += NC;
  float* s1 = p; p += s1n;
  float* s2 = p; p += s2n;
  float* logits = p; p += (int64_t)chunk * d.V;
  float* losses = p; p += N;

  // forward
  embedding_forward(x[0], batch.inputs, params_.data() + layout_.wte, d.N, d.C);
  for (int l = 0; l < d.L; l++) layer_forward(cx, l, x[l], acts[opt.checkpoint_layers ? 0 : l], x[l + 1]);
  rmsnorm_forward(lnf, rstdf, x[d.L], params_.data() + layout_.lnf, d.N, d.C, (float)cfg_.rms_norm_eps);
  const int64_t ntargets = count_targets(batch);
  const float scale = ntargets > 0 ? 1.0f / (float)ntargets : 0.0f;
  const double loss_sum = fused_classifier(losses, dlnf, grads_.data() + layout_.lm_head, lnf,
                                           params_.data() + layout_.lm_head, batch.targets, d.N,
                                           d.C, d.V, scale, chunk, logits);
  // backward
  std::fill(dx, dx + NC, 0.0f);
  rmsnorm_backward(dx, grads_.data() + layout_.lnf, dlnf, x[d.L], params_.data() + layout_.lnf,
                   rstdf, d.N, d.C);
  for (int l = d.L - 1; l >= 0; l--) {
    LayerActs& a = acts[opt.checkpoint_layers ? 0 : l];
    // the last layer's activations are still in the buffer after the forward pass
    if (opt.checkpoint_layers && l != d.L - 1) layer_forward(cx, l, x[l], a, x[l + 1]);
    layer_backward(cx, l, x[l], a, dx, s1, s2);
  }
  embedding_backward(grads_.data() + layout_.wte, dx, batch.inputs, d.N, d.C);
  return ntargets > 0 ? loss_sum / (double)ntargets : 0.0;
}

double LlamaModel::forward_loss(const Batch& batch, const StepOptions& opt) {
  const Dims d = dims_of(cfg_, batch.B, batch.T);
  const int64_t N = d.N, NC = N * d.C;
  std::vector<float> cos, sin;
  rope_tables(rope_frequencies(cfg_, d.T), 0, d.T, &cos, &sin);
  Ctx cx{&cfg_, &layout_, params_.data(), nullptr, d, cos.data(), sin.data(), batch.doc_start,
         opt.naive_attention};
  const int chunk = std::min<int>(opt.ce_chunk_rows, d.N);
  const int64_t total = 2 * NC + layer_act_floats(d, opt.naive_attention) + NC + N +
                        (int64_t)chunk * d.V + N;
  std::vector<float> arena(total);
  last_act_bytes_ = total * (int64_t)sizeof(float);
  float* p = arena.data();
  float* xa = p; p += NC;
  float* xb = p; p += NC;
  LayerActs a = carve_layer(p, d, opt.naive_attention);
  float* lnf = p; p += NC;
  float* rstdf = p; p += N;
  float* logits = p; p += (int64_t)chunk * d.V;
  float* losses = p; p += N;
  embedding_forward(xa, batch.inputs, params_.data() + layout_.wte, d.N, d.C);
  for (int l = 0; l < d.L; l++) {
    layer_forward(cx, l, xa, a, xb);
    std::swap(xa, xb);
  }
  rmsnorm_forward(lnf, rstdf, xa, params_.data() + layout_.lnf, d.N, d.C, (float)cfg_.rms_norm_eps);
  const int64_t ntargets = count_targets(batch);
  const double s = fused_classifier(losses, nullptr, nullptr, lnf, params_.data() + layout_.lm_head,
                                    batch.targets, d.N, d.C, d.V, 0.0f, chunk, logits);
  return ntargets > 0 ? s / (double)ntargets : 0.0;
}

void LlamaModel::forward_logits(const int32_t* inputs, int B, int T, float* logits) {
  const Dims d = dims_of(cfg_, B, T);
  const int64_t N = d.N, NC = N * d.C;
  std::vector<float> cos, sin;
  rope_tables(rope_frequencies(cfg_, d.T), 0, d.T, &cos, &sin);
  Ctx cx{&cfg_, &layout_, params_.data(), nullptr, d, cos.data(), sin.data(), nullptr, false};
  std::vector<float> arena(3 * NC + layer_act_floats(d, false));
  float* p = arena.data();
  float* xa = p; p += NC;
  float* xb = p; p += NC;
  float* lnf = p; p += NC;
  LayerActs a = carve_layer(p, d, false);
  embedding_forward(xa, inputs, params_.data() + layout_.wte, d.N, d.C);
  for (int l = 0; l < d.L; l++) {
    layer_forward(cx, l, xa, a, xb);
    std::swap(xa, xb);
  }
  rmsnorm_forward(lnf, a.rstd1, xa, params_.data() + layout_.lnf, d.N, d.C, (float)cfg_.rms_norm_eps);
  linear_forward(logits, lnf, params_.data() + layout_.lm_head, d.N, d.C, d.V);
}

}  // namespace longctx::model
