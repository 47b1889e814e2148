// The configuration of a mixture (docs/mixing.md): one struct shared by the CLI, the manifest and
// the tests. What every strategy shares lives here; a strategy's own options
// live in its MixStrategy object (mix/strategy.h; the typed options are in mix/strategies.h).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace longctx {

class MixStrategy;
using StrategyPtr = std::shared_ptr<const MixStrategy>;
// per-source-upsample with its default options: the paper's recipe (paper.md section 3).
StrategyPtr default_mix_strategy();

enum class LastChunk { kDrop, kPad };

struct MixConfig {
  StrategyPtr strategy = default_mix_strategy();
  uint64_t total_tokens = 0;  // budget in packed tokens (rounded down to whole chunks)
  uint64_t seq_len = 81920;   // paper: 80K for 7B
  uint64_t seed = 1;
  uint64_t long_threshold = 4096;               // "long" = strictly more tokens than this
  std::map<std::string, double> domain_shares;  // empty: the store's own shares
  bool no_repeat = false;                       // fail instead of repeating documents
  // packing
  bool bos = true, eos = false;
  uint32_t bos_id = 1, eos_id = 2, pad_id = 0;
  bool split = true;  // spill a document into the next chunk (paper); false: --no-split
  LastChunk last = LastChunk::kDrop;
  // Limits. They refuse a mixture and never change one, so they are not part of its identity
  // (not in mix_config_json, hence not in the manifest or the resume fingerprint).
  uint32_t max_epochs = 64;  // most uses of one document (paper-script: passes over the store)
  uint64_t max_memory = 0;   // bytes the selected pieces may take; 0: the memory available now

  // Range checks of every field (core/validate.h wording, NaN and infinities included), the
  // strategy's options among them, naming the `longctx mix` flags (mix_config_validate.cc). Needs
  // no store: checks against a store (domain names, ids below its vocabulary) come with the plan.
  Status validate() const;
};

// Largest budget (10^15 tokens, over a thousand times SlimPajama) and sequence length (2^24
// tokens, 128 times the paper's longest context) a mixture accepts.
inline constexpr uint64_t kMaxMixTokens = 1000000000000000ull;
inline constexpr uint64_t kMaxMixSeqLen = 1ull << 24;
inline constexpr uint32_t kMaxEpochsLimit = 1000000;  // the largest --max-epochs accepted

// The configuration as the manifest and plan.json record it: the common fields and the
// strategy's options (MixStrategy::options_json) under the keys docs/mixing.md names.
nlohmann::json mix_config_json(const MixConfig& c);


}  // namespace longctx
