#include "model/forward.h"

#include <algorithm>
#include <climits>

#include "model/memory.h"
#include "model/rope.h"

namespace longctx::model::detail {

using kernels::AttnShape;
using kernels::Backend;
using kernels::Op;

Dims dims_of(const LlamaConfig& c, int B, int T) {
  Dims d;
  d.B = B, d.T = T, d.N = B * T, d.C = c.hidden_size, d.I = c.intermediate_size;
  d.V = c.vocab_size, d.L = c.num_hidden_layers, d.Hq = c.num_attention_heads;
  d.Hkv = c.num_key_value_heads, d.hd = c.head_dim_or_default();
  d.Q = c.q_dim(), d.KV = c.kv_dim(), d.QKV = d.Q + 2 * d.KV;
  return d;
}

// ------------------------------------------------------------------------------------------------
// the activation table

std::vector<ActEntry> activation_table(const Dims& d, const PassPlan& plan, Activations* a) {
  const int64_t N = d.N, C = d.C;
  auto mul = [](std::initializer_list<int64_t> v) {
    int64_t r = 1;
    for (int64_t x : v) r = sat_mul(r, x);
    return r;
  };
  std::vector<ActEntry> t;
  a->x.assign(plan.residuals, nullptr);
  for (float*& x : a->x) t.push_back({"x (residual stream)", N * C, &x});
  a->layers.assign(plan.layer_sets, LayerActs{});
  for (LayerActs& l : a->layers) {
    l.att = nullptr;
    t.push_back({"ln1", N * C, &l.ln1});
    t.push_back({"rstd1", N, &l.rstd1});
    t.push_back({"qkv", mul({N, d.QKV}), &l.qkv});
    t.push_back({"atty", mul({N, d.Q}), &l.atty});
    t.push_back({"lse", mul({d.B, d.Hq, d.T}), &l.lse});
    if (plan.ref_keys > 0) t.push_back({"att (reference)", mul({d.B, d.Hq, d.T, plan.ref_keys}), &l.att});
    t.push_back({"xmid", N * C, &l.xmid});
    t.push_back({"ln2", N * C, &l.ln2});
    t.push_back({"rstd2", N, &l.rstd2});
    t.push_back({"gu", mul({N, 2, d.I}), &l.gu});
    t.push_back({"act", mul({N, d.I}), &l.act});
  }
  t.push_back({"lnf", N * C, &a->lnf});
  t.push_back({"rstdf", N, &a->rstdf});
  t.push_back({"losses", N, &a->losses});
  if (plan.classifier_rows > 0)
    t.push_back({"classifier logits", mul({plan.classifier_rows, d.V}), &a->logits});
  if (plan.backward) {
    t.push_back({"dlnf", N * C, &a->dlnf});
    t.push_back({"dx", N * C, &a->dx});
    t.push_back({"s1 (backward scratch)", mul({N, std::max(2 * (int64_t)d.I, (int64_t)d.QKV)}), &a->s1});
    t.push_back({"s2 (backward scratch)", mul({N, std::max<int64_t>({d.I, d.Q, d.C})}), &a->s2});
  }
  return t;
}

namespace {
constexpr int64_t kAlignFloats = 16;  // 64 bytes
int64_t aligned(int64_t n) { return sat_mul((sat_add(n, kAlignFloats - 1)) / kAlignFloats, kAlignFloats); }
}  // namespace

int64_t table_floats(const std::vector<ActEntry>& t) {
  int64_t total = 0;
  for (const ActEntry& e : t) total = sat_add(total, aligned(e.floats));
  return total;
}

void carve(const std::vector<ActEntry>& t, float* base) {
  float* p = base;
  for (const ActEntry& e : t) {
    *e.slot = p;
    p += aligned(e.floats);
  }
}

Status carve_activations(const Dims& d, const PassPlan& plan, Arena* arena, const char* what,
                         Activations* a, int64_t* bytes) {
  const std::vector<ActEntry> table = activation_table(d, plan, a);
  const int64_t floats = table_floats(table);
  LONGCTX_RETURN_IF_ERROR(arena->reserve(floats, what));
  carve(table, arena->data());
  if (bytes) *bytes = sat_mul(floats, (int64_t)sizeof(float));
  return Status::ok();
}

// ------------------------------------------------------------------------------------------------
// the layer

void layer_forward(const LayerCtx& cx, int l, const float* x_in, const LayerActs& a, float* x_out,
                   const KvView* kv) {
  const Backend& be = *cx.be;
  const Dims& d = cx.d;
  const LayerOffsets& o = cx.lay->layers[l];
  const float* P = cx.params;
  const float eps = (float)cx.cfg->rms_norm_eps;
  const int64_t NC = (int64_t)d.N * d.C;
  // attention: xmid = x_in + o_proj(attn(rope(qkv(rmsnorm(x_in)))))
  be.rmsnorm_forward(a.ln1, a.rstd1, x_in, P + o.ln1, d.N, d.C, eps);
  be.linear_forward(a.qkv, a.ln1, P + o.wqkv, d.N, d.C, d.QKV);
  be.rope_forward(a.qkv, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hq, d.hd);
  be.rope_forward(a.qkv + d.Q, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hkv, d.hd);
  AttnShape s;
  s.B = d.B, s.Tq = d.T, s.Tk = d.T, s.Hq = d.Hq, s.Hkv = d.Hkv, s.hd = d.hd;
  s.q_stride = d.QKV, s.kv_stride = d.QKV, s.o_stride = d.Q;
  const float *k = a.qkv + d.Q, *v = a.qkv + d.Q + d.KV;
  if (kv) {  // append this pass's keys/values to the cache, attend over all of it
    be.copy_rows(kv->k + kv->pos0 * d.KV, d.KV, a.qkv + d.Q, d.QKV, d.T, d.KV);
    be.copy_rows(kv->v + kv->pos0 * d.KV, d.KV, a.qkv + d.Q + d.KV, d.QKV, d.T, d.KV);
    s.Tk = (int)(kv->pos0 + d.T), s.kv_stride = d.KV;
    k = kv->k, v = kv->v;
  }
  if (cx.reference_attention) be.attention_reference_forward(a.atty, a.att, a.qkv, k, v, cx.doc_start, s);
  else be.attention_forward(a.atty, a.lse, a.qkv, k, v, cx.doc_start, s);
  be.linear_forward(a.xmid, a.atty, P + o.wo, d.N, d.Q, d.C);
  be.add(a.xmid, x_in, NC);
  // MLP: x_out = xmid + down(swiglu(gate_up(rmsnorm(xmid))))
  be.rmsnorm_forward(a.ln2, a.rstd2, a.xmid, P + o.ln2, d.N, d.C, eps);
  be.linear_forward(a.gu, a.ln2, P + o.wgu, d.N, d.C, 2 * d.I);
  be.swiglu_forward(a.act, a.gu, d.N, d.I);
  be.linear_forward(x_out, a.act, P + o.wdown, d.N, d.I, d.C);
  be.add(x_out, a.xmid, NC);
}

void layer_backward(const LayerCtx& cx, int l, const float* x_in, const LayerActs& a, float* dx,
                    float* s1, float* s2) {
  const Backend& be = *cx.be;
  const Dims& d = cx.d;
  const LayerOffsets& o = cx.lay->layers[l];
  const float* P = cx.params;
  float* G = cx.grads;
  const int64_t N = d.N;
  // Every backward adds into its gradient output (kernels/backend.h): each scratch gradient is
  // zeroed right before the op that starts it. dx accumulates d/d xmid, then d/d x_in, through
  // the residual connections.
  float* dact = s2;
  be.zero(dact, N * d.I);
  be.linear_backward(dact, G + o.wdown, dx, a.act, P + o.wdown, d.N, d.I, d.C);
  float* dgu = s1;
  be.zero(dgu, N * 2 * d.I);
  be.swiglu_backward(dgu, dact, a.gu, d.N, d.I);
  float* dln2 = s2;
  be.zero(dln2, N * d.C);
  be.linear_backward(dln2, G + o.wgu, dgu, a.ln2, P + o.wgu, d.N, d.C, 2 * d.I);
  be.rmsnorm_backward(dx, G + o.ln2, dln2, a.xmid, P + o.ln2, a.rstd2, d.N, d.C);
  float* datty = s2;
  be.zero(datty, N * d.Q);
  be.linear_backward(datty, G + o.wo, dx, a.atty, P + o.wo, d.N, d.Q, d.C);
  float* dqkv = s1;
  be.zero(dqkv, N * d.QKV);
  AttnShape s;
  s.B = d.B, s.Tq = d.T, s.Tk = d.T, s.Hq = d.Hq, s.Hkv = d.Hkv, s.hd = d.hd;
  s.q_stride = d.QKV, s.kv_stride = d.QKV, s.o_stride = d.Q;
  const float *q = a.qkv, *k = a.qkv + d.Q, *v = a.qkv + d.Q + d.KV;
  float *dq = dqkv, *dk = dqkv + d.Q, *dv = dqkv + d.Q + d.KV;
  if (cx.reference_attention) be.attention_reference_backward(dq, dk, dv, datty, a.att, q, k, v, s);
  else be.attention_backward(dq, dk, dv, datty, a.atty, a.lse, q, k, v, cx.doc_start, s);
  be.rope_backward(dqkv, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hq, d.hd);  // in place (rope.h)
  be.rope_backward(dqkv + d.Q, d.QKV, cx.cos, cx.sin, d.B, d.T, d.Hkv, d.hd);
  float* dln1 = s2;
  be.zero(dln1, N * d.C);
  be.linear_backward(dln1, G + o.wqkv, dqkv, a.ln1, P + o.wqkv, d.N, d.C, d.QKV);
  be.rmsnorm_backward(dx, G + o.ln1, dln1, x_in, P + o.ln1, a.rstd1, d.N, d.C);
}

float* forward_layers(const LayerCtx& cx, const int32_t* inputs, Activations& a, const KvView* kv) {
  const Dims& d = cx.d;
  const bool keep_all = (int)a.x.size() == d.L + 1;
  cx.be->embedding_forward(a.x[0], inputs, cx.params + cx.lay->wte, d.N, d.C);
  float* cur = a.x[0];
  for (int l = 0; l < d.L; l++) {
    float* out = keep_all ? a.x[l + 1] : a.x[(l + 1) % 2];
    layer_forward(cx, l, cur, a.layers[l % a.layers.size()], out, kv ? &kv[l] : nullptr);
    cur = out;
  }
  return cur;
}

// ------------------------------------------------------------------------------------------------
// checks

Status require_ops(const Backend& be, PassKind kind, bool reference_attention) {
  std::vector<Op> ops = {Op::kEmbedding, Op::kRmsNorm, Op::kLinear, Op::kRope,
                         reference_attention ? Op::kAttentionReference : Op::kAttention,
                         Op::kSwiglu, Op::kAdd};
  if (kind == PassKind::kTrain) ops.push_back(Op::kZero);
  if (kind != PassKind::kGenerate) ops.push_back(Op::kClassifier);
  if (kind == PassKind::kGenerate) ops.push_back(Op::kCopyRows);
  for (Op op : ops)
    if (!be.supports(op))
      return make_error(ErrorCode::kUnsupported, "backend '{}' does not implement op '{}'",
                        be.name(), kernels::op_name(op));
  return Status::ok();
}

Status check_batch(const LlamaConfig& c, const Batch& b, bool need_targets) {
  if (b.B < 1 || b.T < 1)
    return make_error(ErrorCode::kInvalidArgument, "batch: B ({}) and T ({}) must be at least 1", b.B, b.T);
  if ((int64_t)b.B * b.T > INT_MAX)
    return make_error(ErrorCode::kInvalidArgument, "batch: B*T = {} tokens exceeds {}", (int64_t)b.B * b.T, INT_MAX);
  if (!b.inputs) return make_error(ErrorCode::kInvalidArgument, "batch: no inputs");
  if (need_targets && !b.targets) return make_error(ErrorCode::kInvalidArgument, "batch: no targets");
  const int V = c.vocab_size;
  for (int s = 0; s < b.B; s++)
    for (int t = 0; t < b.T; t++) {
      const int64_t i = (int64_t)s * b.T + t;
      if (b.inputs[i] < 0 || b.inputs[i] >= V)
        return make_error(ErrorCode::kInvalidArgument, "batch: sequence {} position {}: input id {} is outside [0, {})", s, t, b.inputs[i], V);
      if (b.targets && (b.targets[i] < -1 || b.targets[i] >= V))
        return make_error(ErrorCode::kInvalidArgument, "batch: sequence {} position {}: target {} is outside [-1, {})", s, t, b.targets[i], V);
      if (b.doc_start && (b.doc_start[i] < 0 || b.doc_start[i] > t))
        return make_error(ErrorCode::kInvalidArgument, "batch: sequence {} position {}: document start {} is outside [0, {}]", s, t, b.doc_start[i], t);
    }
  return Status::ok();
}

void rope_tables_for(const LlamaConfig& c, int64_t seq_len, int64_t pos0, int64_t n_pos,
                     std::vector<float>* cos, std::vector<float>* sin) {
  rope_tables(rope_frequencies(c, seq_len), pos0, n_pos, cos, sin);
}

}  // namespace longctx::model::detail
