// The study's mixtures as the mix library's configuration (docs/mixing.md): one function that
// turns a MixtureSpec into a MixConfig, so the stage that writes a mixture, the validation of a
// study config and the equivalent `longctx mix` command all agree.
#pragma once
#include <string>

#include "core/status.h"
#include "mix/mixture.h"
#include "study/study_config.h"

namespace longctx::study {

// The mixture's configuration: strategy and its options, packed tokens, sequence length
// (short_context or long_context), "long" = more than short_context tokens, the study's seed.
// BOS id 1 until with_store_tokens() sets the store tokenizer's. Errors name the option
// ("mixtures[2].options.long_share: ...").
Result<MixConfig> study_mix_config(const StudyConfig& c, const MixtureSpec& m, const std::string& field);

// Sets the packing ids from the tokenizer recorded in a store's manifest (as `longctx mix` does
// without --bos-id): BOS is prepended to every document (paper.md "Packing").
Status with_store_tokens(const nlohmann::json& store_manifest, MixConfig* mix);

// The `longctx mix` flags that give the same mixture ("--strategy cut --at 256 --tokens 500000
// --seq-len 1024 --long-threshold 256 --seed 1").
std::string mix_command_flags(const MixConfig& mix);

}  // namespace longctx::study
