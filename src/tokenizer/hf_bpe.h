// Hugging Face `tokenizer.json` byte-level BPE models (GPT-2 / LLaMA-3 / Qwen family), issue 5 item 2.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

// Loads a tokenizer.json whose model is byte-level BPE; other models are kUnsupported with the reason.
Result<std::unique_ptr<Tokenizer>> load_hf_bpe_tokenizer(const std::string& path);

}  // namespace longctx
