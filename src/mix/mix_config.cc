#include "mix/mix_config.h"

#include "mix/strategy.h"

namespace longctx {

nlohmann::json mix_config_json(const MixConfig& c) {
  nlohmann::json j;
  j["strategy"] = c.strategy ? c.strategy->name() : "?";
  j["tokens"] = c.total_tokens;
  j["seq_len"] = c.seq_len;
  j["seed"] = c.seed;
  if (c.strategy) j.update(c.strategy->options_json());
  j["long_threshold"] = c.long_threshold;
  if (!c.domain_shares.empty()) j["domain_shares"] = c.domain_shares;
  j["no_repeat"] = c.no_repeat;
  j["bos"] = c.bos ? nlohmann::json(c.bos_id) : nlohmann::json(nullptr);
  j["eos"] = c.eos ? nlohmann::json(c.eos_id) : nlohmann::json(nullptr);
  j["pad_id"] = c.pad_id;
  j["split"] = c.split;
  j["last"] = c.last == LastChunk::kDrop ? "drop" : "pad";
  return j;
}

}  // namespace longctx
