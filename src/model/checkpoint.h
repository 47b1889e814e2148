// Hugging Face checkpoint folders: config.json + model.safetensors, or shards
// model-0000k-of-0000n.safetensors with model.safetensors.index.json (formats.md).
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "model/model.h"
#include "model/safetensors.h"

namespace longctx::model {

// Reads config.json and every tensor of the layout (converted to float32). Errors name the
// tensor: missing, unexpected, or a shape that differs from the config's.
Result<LlamaModel> load_checkpoint(const std::string& dir);

struct SaveOptions {
  DType dtype = DType::kF32;      // F32, F16 or BF16
  uint64_t max_shard_bytes = 0;   // 0 = one file; else shards of at most this many data bytes
};
// Writes config.json and the weights in HF names and layout.
Status save_checkpoint(const LlamaModel& m, const std::string& dir, const SaveOptions& opt);

}  // namespace longctx::model
