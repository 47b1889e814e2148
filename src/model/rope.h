// RoPE frequencies for every scaling variant Hugging Face defines (paper.md: the released
// checkpoints use dynamic NTK, the paper raises rope_theta; formats.md "HF config.json").
// Formulas follow transformers' modeling_rope_utils:
//   default  inv_freq_i = theta^(-2i/d)
//   linear   inv_freq_i / factor                     (Chen et al. 2023, position interpolation)
//   dynamic  theta' = theta * (factor*L/L0 - (factor-1))^(d/(d-2)) when L > L0 (NTK-aware)
//   yarn     ramp between interpolated and extrapolated frequencies by wavelength, plus the
//            attention factor 0.1 ln(factor) + 1 applied to cos and sin (Peng et al. 2023)
//   llama3   low frequencies / factor, high kept, smooth blend in between (Llama 3.1)
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"

namespace longctx::model {

struct RopeFreqs {
  std::vector<double> inv_freq;  // (head_dim/2)
  double attention_scaling = 1.0;
};

// seq_len matters only for dynamic NTK (the longest sequence the tables serve).
RopeFreqs rope_frequencies(const LlamaConfig& c, int64_t seq_len);

// cos/sin tables (n_pos, head_dim/2) for positions pos0 .. pos0+n_pos-1, each multiplied by the
// attention scaling (the layout the kernels/cpu/rope.h kernel takes).
void rope_tables(const RopeFreqs& f, int64_t pos0, int64_t n_pos, std::vector<float>* cos,
                 std::vector<float>* sin);

}  // namespace longctx::model
