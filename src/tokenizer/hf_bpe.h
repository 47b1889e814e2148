// Hugging Face `tokenizer.json` byte-level BPE models (GPT-2 / LLaMA-3 / Qwen family), issue 5
// item 2, giving the ids of the `tokenizers` library's encode(text, add_special_tokens=false).
//
// Pipeline (the library's, reproduced):
//   1. added tokens: the text is split at the leftmost-longest occurrences of added tokens' contents
//      (normalized=false ones on the raw text; then the NFC normalizer, if any, runs on the rest;
//      then normalized=true ones); each occurrence is its token id;
//   2. each other stretch is pre-tokenized: the split regex (ByteLevel's GPT-2 pattern, or a Split
//      pre-tokenizer's pattern, behaviour Isolated: matches and the gaps between them are pieces);
//      ByteLevel's add_prefix_space prepends ' ' to a stretch that does not start with one;
//   3. each piece's UTF-8 bytes are mapped to the byte-level alphabet (GPT-2's bytes_to_unicode);
//      with ignore_merges a piece that is itself a vocabulary token is emitted whole; otherwise BPE:
//      repeatedly merge the adjacent pair with the lowest merge rank, ties leftmost.
// The regex runs on PCRE2 (JIT) with `\s` rewritten to Unicode White_Space, which is what the
// library's Oniguruma matches. Pieces are cached per thread, as in fast_spm_bpe.
// Unsupported (kUnsupported with the reason): normalizers other than NFC (ICU), other models and
// pre-tokenizers, dropout,
// subword prefixes/suffixes, added tokens with lstrip/rstrip/single_word or normalized=true.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

// Loads a tokenizer.json whose model is byte-level BPE.
Result<std::unique_ptr<Tokenizer>> load_hf_bpe_tokenizer(const std::string& path);

}  // namespace longctx
