// GGUF export for llama.cpp / ollama (formats.md "GGUF"): version 3, llama.* metadata, tensors
// under llama.cpp's names with q/k rows permuted from HF's rotate-half RoPE layout to the
// interleaved layout llama.cpp's LLaMA graph expects (as its convert_hf_to_gguf.py does).
// Tokenizer metadata (tokenizer.ggml.*) is not written: the file carries the weights only.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "model/model.h"

namespace longctx::model {

enum class GgufType : uint32_t { kF32 = 0, kF16 = 1 };

struct GgufOptions {
  GgufType type = GgufType::kF16;  // matrices; norm weights stay F32 as in llama.cpp
  std::string name = "longctx";    // general.name
  uint32_t alignment = 32;
};

Status export_gguf(const LlamaModel& m, const std::string& path, const GgufOptions& opt);

// Row permutation for q_proj/k_proj: HF row h*hd + j*(hd/2) + i goes to h*hd + 2i + j.
// w (n_head*hd, cols) -> out, same shape.
void permute_rotate_half_to_interleaved(const float* w, float* out, int n_head, int hd, int cols);

}  // namespace longctx::model
