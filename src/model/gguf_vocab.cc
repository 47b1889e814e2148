#include "model/gguf_vocab.h"

#include <sentencepiece_processor.h>

namespace longctx::model {

Result<GgufVocab> gguf_vocab_from_sentencepiece(const std::string& path) {
  sentencepiece::SentencePieceProcessor sp;
  const auto st = sp.Load(path);
  if (!st.ok()) return make_error(ErrorCode::kIo, "loading tokenizer '{}': {}", path, st.ToString());
  GgufVocab v;
  for (int i = 0; i < sp.GetPieceSize(); i++) {
    v.tokens.push_back(sp.IdToPiece(i));
    v.scores.push_back(sp.GetScore(i));
    v.types.push_back(sp.IsUnknown(i) ? kGgufUnknown
                      : sp.IsControl(i) ? kGgufControl
                      : sp.IsByte(i) ? kGgufByte
                      : sp.IsUnused(i) ? kGgufUnused
                                       : kGgufNormal);
  }
  v.bos = sp.bos_id(), v.eos = sp.eos_id(), v.unk = sp.unk_id();
  return v;
}

}  // namespace longctx::model
