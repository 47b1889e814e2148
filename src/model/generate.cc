#include "model/generate.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/hash.h"
#include "model/forward.h"
#include "model/memory.h"

namespace longctx::model {

int64_t context_length(const LlamaConfig& c) {
  const RopeType t = c.rope_scaling.type;
  if (t == RopeType::kLinear || t == RopeType::kDynamic)
    return (int64_t)((double)c.max_position_embeddings * std::max(c.rope_scaling.factor, 1.0));
  return c.max_position_embeddings;
}

InferenceSession::InferenceSession(const LlamaModel& m, int max_tokens, const kernels::Backend& be)
    : m_(&m), be_(&be), max_tokens_(max_tokens), kv_(&be), work_(&be) {}

Result<InferenceSession> InferenceSession::create(const LlamaModel& m, int max_tokens, bool allow_beyond_context,
                                                  const kernels::Backend& be) {
  const LlamaConfig& c = m.config();
  const int64_t ctx = context_length(c);
  if (max_tokens < 1 || (max_tokens > ctx && !allow_beyond_context))
    return make_error(ErrorCode::kInvalidArgument,
                      "KV cache of {} tokens: the model's context is {} tokens "
                      "(max_position_embeddings {}, rope scaling {})",
                      max_tokens, ctx, c.max_position_embeddings, rope_type_name(c.rope_scaling.type));
  LONGCTX_RETURN_IF_ERROR(detail::require_ops(be, detail::PassKind::kGenerate, false));
  auto bytes = checked_bytes({c.num_hidden_layers, 2, max_tokens, c.kv_dim()}, sizeof(float), "KV cache");
  if (!bytes.is_ok()) return bytes.status();
  InferenceSession s(m, max_tokens, be);
  LONGCTX_RETURN_IF_ERROR(s.kv_.reserve(*bytes / (int64_t)sizeof(float),
                                        fmt::format("KV cache of {} tokens", max_tokens).c_str()));
  return s;
}

Status InferenceSession::feed(const int32_t* ids, int n, float* logits, int prefill_chunk) {
  if (n < 0 || pos_ + (int64_t)n > max_tokens_)
    return make_error(ErrorCode::kInvalidArgument, "KV cache holds {} tokens; {} + {} do not fit",
                      max_tokens_, pos_, n);
  const int V = m_->config().vocab_size;
  for (int i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= V)
      return make_error(ErrorCode::kInvalidArgument, "token id {} out of range [0, {})", ids[i], V);
  if (prefill_chunk <= 0) prefill_chunk = n;
  for (int i = 0; i < n; i += prefill_chunk) {
    const int len = std::min(prefill_chunk, n - i);
    LONGCTX_RETURN_IF_ERROR(forward_chunk(ids + i, len, i + len == n ? logits : nullptr));
  }
  return Status::ok();
}

Status InferenceSession::forward_chunk(const int32_t* ids, int n, float* logits) {
  const LlamaConfig& c = m_->config();
  const ParamLayout& lay = m_->layout();
  const float* P = m_->params();
  const detail::Dims d = detail::dims_of(c, 1, n);
  detail::PassPlan plan;  // two residual buffers, one layer set, no classifier
  detail::Activations a;
  LONGCTX_RETURN_IF_ERROR(
      detail::carve_activations(d, plan, &work_, "generation activations", &a, nullptr));
  std::vector<float> cos, sin;
  // dynamic NTK: frequencies for the current length, as HF recomputes them per forward
  detail::rope_tables_for(c, pos_ + n, pos_, n, &cos, &sin);
  const int64_t layer_floats = 2 * (int64_t)max_tokens_ * d.KV;
  std::vector<detail::KvView> kv(d.L);
  for (int l = 0; l < d.L; l++) {
    float* base = kv_.data() + l * layer_floats;
    kv[l] = {base, base + layer_floats / 2, pos_};
  }
  const detail::LayerCtx cx{be_, &c, &lay, P, nullptr, d, cos.data(), sin.data(), nullptr, false};
  const float* x = detail::forward_layers(cx, ids, a, kv.data());
  pos_ += n;
  if (!logits) return Status::ok();
  const float* last = x + (int64_t)(n - 1) * d.C;
  be_->rmsnorm_forward(a.lnf, a.rstdf, last, P + lay.lnf, 1, d.C, (float)c.rms_norm_eps);
  be_->linear_forward(logits, a.lnf, P + lay.lm_head, 1, d.C, d.V);
  return Status::ok();
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
  const int64_t need = (int64_t)prompt.size() + std::max(opt.max_new_tokens, 0);
  if (need > INT_MAX)
    return make_error(ErrorCode::kInvalidArgument, "generate: {} prompt + {} new tokens is too many",
                      prompt.size(), opt.max_new_tokens);
  auto made = InferenceSession::create(m, (int)need, opt.allow_beyond_context);
  if (!made.is_ok())
    return made.status().with_context(fmt::format("generate: {} prompt + {} new tokens", prompt.size(),
                                                  std::max(opt.max_new_tokens, 0)));
  InferenceSession& sess = *made;
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
