// Hugging Face `tokenizer.json` BPE tokenizers, encoding and decoding exactly as the `tokenizers`
// library does (encode(text, add_special_tokens=false) and decode(ids, skip_special_tokens)):
//   * SentencePiece-style files (LLaMA-2, Mistral, Gemma): byte_fallback, fuse_unk, the
//     Prepend("▁") + Replace(" ", "▁") normaliser or the Metaspace pre-tokenizer, decoders
//     Replace / ByteFallback / Fuse / Strip / Metaspace;
//   * byte-level files (GPT-2, LLaMA-3, Qwen, DeepSeek): ByteLevel after any number of Split rules,
//     NFC and other normalisers, the ByteLevel decoder.
// The pipeline (the library's, reproduced; hf_pipeline.h has the text stages):
//   1. added tokens: the text is cut at the leftmost-longest occurrences of added tokens'
//      contents (normalized=false ones on the raw text; the normaliser then runs on each gap; the
//      normalised forms of normalized=true ones are found in the result); each occurrence is its id;
//   2. the pre-tokenizer steps split each gap into pieces (Split: regex or string, every
//      behaviour, invert; Metaspace; ByteLevel maps each byte to a character of its alphabet);
//   3. BPE on each piece: its characters (bytes under ByteLevel) become tokens, <0xXX> byte tokens
//      (byte_fallback) or unk (consecutive ones fused with fuse_unk); with ignore_merges a piece
//      that is a token is emitted whole; then the adjacent pair with the lowest merge rank is
//      merged, ties leftmost, until none is left.
// Why it is fast: pieces are cut further at places no merge can cross (as in fast_spm_bpe.h),
// pieces and stretches are cached per thread, and the merge loop runs on integer ids.
// Ill-formed UTF-8 input is first replaced as Python's decode(errors="replace") does, since the
// library only takes Unicode strings.
// Unsupported parts (other models, normalisers, pre-tokenizers, added tokens with lstrip / rstrip /
// single_word, patterns the regex engines read differently) are refused at load with kUnsupported
// naming them; an unsupported decoder only makes decode() fail.
#pragma once
#include <memory>
#include <string>

#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

// Loads a tokenizer.json whose model is BPE. bos/eos/pad ids come from tokenizer_config.json in the
// same folder when it names them.
Result<std::unique_ptr<Tokenizer>> load_hf_bpe_tokenizer(const std::string& path);

}  // namespace longctx
