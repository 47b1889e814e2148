// GGUF export for llama.cpp / ollama (formats.md "GGUF"): version 3, llama.* metadata, tensors
// under llama.cpp's names with q/k rows permuted from HF's rotate-half RoPE layout to the
// interleaved layout llama.cpp's LLaMA graph expects (as its convert_hf_to_gguf.py does).
// Tokenizer metadata (tokenizer.ggml.*) is written when a vocabulary is given (llama.cpp needs it
// to run the file); the CLI fills it from the model folder's SentencePiece tokenizer.model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace longctx::model {

enum class GgufType : uint32_t { kF32 = 0, kF16 = 1 };

// llama.cpp token types
enum GgufTokenType : int32_t { kGgufNormal = 1, kGgufUnknown = 2, kGgufControl = 3, kGgufUserDefined = 4,
                               kGgufUnused = 5, kGgufByte = 6 };

struct GgufVocab {
  std::string model = "llama";  // tokenizer.ggml.model: SentencePiece-style LLaMA vocabulary
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;  // GgufTokenType
  int32_t bos = -1, eos = -1, unk = -1;
};

struct GgufOptions {
  GgufType type = GgufType::kF16;  // matrices; norm weights stay F32 as in llama.cpp
  std::string name = "longctx";    // general.name
  uint32_t alignment = 32;
  const GgufVocab* vocab = nullptr;  // null: weights only
};

Status export_gguf(const LlamaModel& m, const std::string& path, const GgufOptions& opt);

// Row permutation for q_proj/k_proj: HF row h*hd + j*(hd/2) + i goes to h*hd + 2i + j.
// w (n_head*hd, cols) -> out, same shape.
void permute_rotate_half_to_interleaved(const float* w, float* out, int n_head, int hd, int cols);

}  // namespace longctx::model
