// GGUF tokenizer metadata (tokenizer.ggml.*, docs/formats.md "GGUF") from a SentencePiece
// model: every piece in id order with its score and llama.cpp token type, and the special ids.
#pragma once
#include <string>

#include "core/status.h"
#include "model/gguf.h"

namespace longctx::model {

// Reads a SentencePiece tokenizer.model through the SentencePiece library. Types: unknown,
// control, byte and unused pieces keep their kind; every other piece (user-defined included) is
// written as normal.
Result<GgufVocab> gguf_vocab_from_sentencepiece(const std::string& path);

}  // namespace longctx::model
