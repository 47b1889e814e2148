#include "model/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/hash.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/linear.h"
#include "kernels/cpu/rmsnorm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"
#include "model/rope.h"

namespace longctx::model {

using namespace longctx::cpu;

InferenceSession::InferenceSession(const LlamaModel& m, int max_tokens)
    : m_(&m), max_tokens_(max_tokens) {
  const LlamaConfig& c = m.config();
  const size_t n = (size_t)c.num_hidden_layers * max_tokens * c.kv_dim();
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

Status InferenceSession::feed(const int32_t* ids, int n, float* logits, int prefill_chunk) {
  if (pos_ + n > max_tokens_)
    return make_error(ErrorCode::kInvalidArgument, "KV cache holds {} tokens; {} + {} do not fit",
                      max_tokens_, pos_, n);
  const int V = m_->config().vocab_size;
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= V)
      return make_error(ErrorCode::kInvalidArgument, "token id {} out of range [0, {})", ids[i], V);
  if (prefill_chunk <= 0) prefill_chunk = n;
  for (int i = 0; i < n; i += prefill_chunk) {
    const int len = std::min(prefill_chunk, n - i);
    forward_chunk(ids + i, len, i + len == n ? logits : nullptr);
  }
  return Status::ok();
}

void InferenceSession::forward_chunk(const int32_t* ids, int n, float* logits) {
  const LlamaConfig& c = m_->config();
  const ParamLayout& lay = m_->layout();
  const float* P = m_->params();
  const int C = c.hidden_size, I = c.intermediate_size, Q = c.q_dim(), KV = c.kv_dim();
  const int QKV = Q + 2 * KV, hd = c.head_dim_or_default();
  const int Hq = c.num_attention_heads, Hkv = c.num_key_value_heads;
  const float eps = (float)c.rms_norm_eps;
  const int64_t pos0 = pos_, T = pos_ + n;
  std::vector<float> cos, sin;
  // dynamic NTK: frequencies for the current length, as HF recomputes them per forward
  rope_tables(rope_frequencies(c, T), pos0, n, &cos, &sin);
  const size_t need = (size_t)n * (3 * C + 1 + QKV + Q + 3 * I) + n * (size_t)Hq;
  if (work_.size() < need) work_.resize(need);
  float* p = work_.data();
  float* x = p; p += (size_t)n * C;
  float* h = p; p += (size_t)n * C;
  float* tmp = p; p += (size_t)n * C;
  float* rstd = p; p += n;
  float* qkv = p; p += (size_t)n * QKV;
  float* atty = p; p += (size_t)n * Q;
  float* gu = p; p += (size_t)n * 2 * I;
  float* act = p; p += (size_t)n * I;
  embedding_forward(x, ids, P + lay.wte, n, C);
  for (int l = 0; l < c.num_hidden_layers; l++) {
    const LayerOffsets& o = lay.layers[l];
    rmsnorm_forward(h, rstd, x, P + o.ln1, n, C, eps);
    linear_forward(qkv, h, P + o.wqkv, n, C, QKV);
    rope_forward(qkv, QKV, cos.data(), sin.data(), 1, n, Hq, hd);
    rope_forward(qkv + Q, QKV, cos.data(), sin.data(), 1, n, Hkv, hd);
    float* kc = k_.data() + (size_t)l * max_tokens_ * KV;
    float* vc = v_.data() + (size_t)l * max_tokens_ * KV;
    for (int t = 0; t < n; t++) {
      std::memcpy(kc + (pos0 + t) * KV, qkv + (size_t)t * QKV + Q, sizeof(float) * KV);
      std::memcpy(vc + (pos0 + t) * KV, qkv + (size_t)t * QKV + Q + KV, sizeof(float) * KV);
    }
    AttnShape s;
    s.B = 1, s.Tq = n, s.Tk = (int)T, s.Hq = Hq, s.Hkv = Hkv, s.hd = hd;
    s.q_stride = QKV, s.kv_stride = KV, s.o_stride = Q;
    attention_forward_flash(atty, nullptr, qkv, kc, vc, nullptr, s);
    linear_forward(tmp, atty, P + o.wo, n, Q, C);
    for (size_t i = 0; i < (size_t)n * C; i++) x[i] += tmp[i];
    rmsnorm_forward(h, rstd, x, P + o.ln2, n, C, eps);
    linear_forward(gu, h, P + o.wgu, n, C, 2 * I);
    swiglu_forward(act, gu, n, I);
    linear_forward(tmp, act, P + o.wdown, n, I, C);
    for (size_t i = 0; i < (size_t)n * C; i++) x[i] += tmp[i];
  }
  pos_ += n;
  if (!logits) return;
  const float* last = x + (size_t)(n - 1) * C;
  rmsnorm_forward(h, rstd, last, P + lay.lnf, 1, C, eps);
  linear_forward(logits, h, P + lay.lm_head, 1, C, c.vocab_size);
}

int32_t sample_token(const float* logits, int V, float temperature, float top_p, double u) {
  if (temperature <= 0.0f) return (int32_t)(std::max_element(logits, logits + V) - logits);
  const float mx = *std::max_element(logits, logits + V);
  std::vector<double> prob(V);
  double z = 0;
  for (int i = 0; i < V; i++) z += prob[i] = std::exp((double)(logits[i] - mx) / temperature);
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  // descending probability; ties by id so the choice is deterministic
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return prob[a] > prob[b]; });
  int keep = V;
  if (top_p < 1.0f) {
    double cum = 0;
    for (int i = 0; i < V; i++) {
      cum += prob[order[i]] / z;
      if (cum >= top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (int i = 0; i < keep; i++) kept += prob[order[i]];
  double target = u * kept, acc = 0;
  for (int i = 0; i < keep; i++) {
    acc += prob[order[i]];
    if (target < acc) return order[i];
  }
  return order[keep - 1];
}

Result<GenerateResult> generate(const LlamaModel& m, const std::vector<int32_t>& prompt,
                                const SamplingOptions& opt,
                                const std::function<bool(int32_t)>& on_token) {
  if (prompt.empty()) return make_error(ErrorCode::kInvalidArgument, "generate: empty prompt");
  LONGCTX_RETURN_IF_ERROR(opt.validate(m.config(), prompt.size()));
  const int V = m.config().vocab_size;
  InferenceSession sess(m, (int)prompt.size() + std::max(opt.max_new_tokens, 0));
  std::vector<float> logits(V);
  GenerateResult r;
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  LONGCTX_RETURN_IF_ERROR(sess.feed(prompt.data(), (int)prompt.size(), logits.data(), opt.prefill_chunk));
  auto t1 = clock::now();
  r.prefill_seconds = std::chrono::duration<double>(t1 - t0).count();
  Rng rng(opt.seed);
  for (int step = 0; step < opt.max_new_tokens; step++) {
    const int32_t tok = sample_token(logits.data(), V, opt.temperature, opt.top_p, rng.uniform());
    if (std::find(opt.stop_ids.begin(), opt.stop_ids.end(), tok) != opt.stop_ids.end()) {
      r.stopped = true;
      break;
    }
    r.tokens.push_back(tok);
    if (on_token && !on_token(tok)) {
      r.stopped = true;
      break;
    }
    if (step + 1 == opt.max_new_tokens) break;
    LONGCTX_RETURN_IF_ERROR(sess.feed(&tok, 1, logits.data()));
  }
  r.decode_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return r;
}

std::string StopStringFilter::update(const std::string& full, bool* stop) {
  *stop = false;
  // Decoding can change earlier text (e.g. a partial UTF-8 sequence completed): only append
  // while the shown text is still a prefix.
  if (full.compare(0, shown_.size(), shown_) != 0) return "";
  size_t end = full.size();
  for (const std::string& st : stops_) {
    if (st.empty()) continue;
    const size_t at = full.find(st, shown_.size() >= st.size() ? shown_.size() - st.size() + 1 : 0);
    if (at != std::string::npos && at < end) {
      end = at;
      *stop = true;
    }
  }
  if (!*stop) {
    for (const std::string& st : stops_)
      for (size_t k = std::min(st.size() - 1, full.size()); k > 0; k--)
        if (full.compare(full.size() - k, k, st, 0, k) == 0) {
          end = std::min(end, full.size() - k);
          break;
        }
  }
  if (end <= shown_.size()) return "";
  std::string out = full.substr(shown_.size(), end - shown_.size());
  shown_ = full.substr(0, end);
  return out;
}

std::string StopStringFilter::flush(const std::string& full) {
  if (full.compare(0, shown_.size(), shown_) != 0 || full.size() <= shown_.size()) return "";
  std::string out = full.substr(shown_.size());
  shown_ = full;
  return out;
}

}  // namespace longctx::model
