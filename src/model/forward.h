// The model engine's one forward path (internal to src/model; the public API is model/model.h and
// model/generate.h). Training, scoring and generation all run the same pieces:
//   activation_table  one table that both sizes and carves every activation buffer of a pass
//   layer_forward     one transformer layer; keys/values from the pass itself or a KV cache
//   layer_backward    its gradient (training)
//   forward_layers    embedding + every layer, keeping each layer input or ping-ponging two
// Every numeric op goes through a kernels::Backend (kernels/backend.h), never a backend directly.
// docs/architecture.md "Model engine" draws the picture.
#pragma once
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "kernels/backend.h"
#include "model/model.h"

namespace longctx::model::detail {

// Sizes of one pass: B sequences of T rows (queries), N = B*T.
struct Dims {
  int B, T, N, C, I, V, L, Hq, Hkv, hd, Q, KV, QKV;
};
Dims dims_of(const LlamaConfig& c, int B, int T);

// What a pass keeps; decides the activation table.
struct PassPlan {
  int residuals = 2;    // residual-stream buffers x (N,C): L+1 keeps every layer input, 2 ping-pong
  int layer_sets = 1;   // LayerActs sets: L (training without checkpointing) or 1
  int64_t ref_keys = 0; // > 0: keys per query of the reference attention's probabilities
  bool backward = false;     // gradient buffers dlnf, dx and two scratch areas
  int classifier_rows = 0;   // rows of the classifier's (rows, V) logits scratch
};

// One layer's saved activations (pointers into the arena).
struct LayerActs {
  float* ln1;    // (N,C)
  float* rstd1;  // (N)
  float* qkv;    // (N,QKV), q and k after RoPE
  float* atty;   // (N,Q) attention output before o_proj
  float* lse;    // (B,Hq,T) attention log-sum-exp
  float* att;    // (B,Hq,T,ref_keys) reference attention only, else null
  float* xmid;   // (N,C) residual after attention
  float* ln2;    // (N,C)
  float* rstd2;  // (N)
  float* gu;     // (N,2I) gate and up projections
  float* act;    // (N,I) swiglu output
};

struct Activations {
  std::vector<float*> x;          // residual stream (N,C) each
  std::vector<LayerActs> layers;  // plan.layer_sets
  float* lnf = nullptr;           // (N,C) final norm output
  float* rstdf = nullptr;         // (N)
  float* losses = nullptr;        // (N) per-position losses
  float* logits = nullptr;        // (classifier_rows, V) classifier scratch, null without
  float* dlnf = nullptr;          // (N,C) backward only
  float* dx = nullptr;            // (N,C) running d loss / d residual stream
  float* s1 = nullptr;            // (N, max(2I, QKV)) backward scratch
  float* s2 = nullptr;            // (N, max(I, Q, C)) backward scratch
};

// The activation table: one row per buffer, in carving order. floats saturates at INT64_MAX when
// a size overflows (memory.h), which the allocation check then refuses.
struct ActEntry {
  const char* name;
  int64_t floats;
  float** slot;  // where carve() stores the buffer's address
};
std::vector<ActEntry> activation_table(const Dims& d, const PassPlan& plan, Activations* a);
// Floats of the whole table, every buffer rounded up to 16 floats (64-byte alignment).
int64_t table_floats(const std::vector<ActEntry>& t);
// Points every slot into base (table_floats(t) floats, 64-byte aligned), in table order.
void carve(const std::vector<ActEntry>& t, float* base);

// Sizes the pass's table, grows `arena` if needed (bound-checked; `what` names the pass in
// errors) and carves it into *a. *bytes (may be null) receives the table's size.
Status carve_activations(const Dims& d, const PassPlan& plan, Arena* arena, const char* what,
                         Activations* a, int64_t* bytes);

// Keys and values of one layer in a KV cache: (capacity, KV) rows each, positions [0, pos0)
// filled; layer_forward appends the pass's T rows at pos0 and attends over [0, pos0 + T).
struct KvView {
  float* k;
  float* v;
  int64_t pos0;
};

// Everything a layer needs besides its activations.
struct LayerCtx {
  const kernels::Backend* be;
  const LlamaConfig* cfg;
  const ParamLayout* lay;
  const float* params;
  float* grads;          // training only
  Dims d;                // rows of this pass
  const float* cos;      // (T, hd/2) RoPE tables for the pass's positions
  const float* sin;
  const int32_t* doc_start;  // (B,T) document mask or null
  bool reference_attention;  // the materialised-probability attention (tests)
};

// x_out (N,C) = layer l applied to x_in (N,C); fills a. With kv (B == 1), keys and values are
// appended to the cache and attention reads the whole cache.
void layer_forward(const LayerCtx& cx, int l, const float* x_in, const LayerActs& a, float* x_out,
                   const KvView* kv = nullptr);

// dx (N,C): on entry d loss / d x_out, on exit d loss / d x_in; parameter gradients are added to
// cx.grads. s1, s2: the Activations scratch areas.
void layer_backward(const LayerCtx& cx, int l, const float* x_in, const LayerActs& a, float* dx,
                    float* s1, float* s2);

// Embeds inputs (N ids) and runs every layer. With a.x.size() == L+1 every layer input is kept
// (a.x[l] is layer l's input, a.x[L] the output); with 2 buffers they alternate. Layer l uses
// a.layers[l % a.layers.size()]. kv: one view per layer (generation) or null. Returns the output
// of the last layer.
float* forward_layers(const LayerCtx& cx, const int32_t* inputs, Activations& a,
                      const KvView* kv = nullptr);

// The ops a pass uses, checked against the backend before the first call.
enum class PassKind { kTrain, kScore, kGenerate };
Status require_ops(const kernels::Backend& be, PassKind kind, bool reference_attention);

// Checks a batch against the model: B, T >= 1; inputs in [0, V); targets in [-1, V) (when given);
// 0 <= doc_start[b,t] <= t (when given). Errors name the sequence and position.
Status check_batch(const LlamaConfig& c, const Batch& b, bool need_targets);

// RoPE cos/sin tables (n_pos, hd/2) for positions pos0.. of a pass whose longest sequence is
// seq_len (dynamic NTK recomputes frequencies per length, as Hugging Face does).
void rope_tables_for(const LlamaConfig& c, int64_t seq_len, int64_t pos0, int64_t n_pos,
                     std::vector<float>* cos, std::vector<float>* sin);

}  // namespace longctx::model::detail
