// Native decoding for SentencePiece models: the text libsentencepiece 0.1.97's
// SentencePieceProcessor::Decode gives for the same ids, without the library's per-piece protobuf
// bookkeeping. Rules (the library's, reproduced):
//   * control pieces (<s>, </s>) are invisible (shown as their piece text when special tokens are
//     kept), the unknown piece prints the model's unk_surface (default " \u2047 ");
//   * runs of byte pieces <0xXX> are joined into UTF-8; each byte that does not start a valid
//     character prints U+FFFD;
//   * U+2581 becomes a space; while nothing has been printed yet, the first piece's leading U+2581 is
//     dropped when the model adds a dummy prefix or removes extra whitespace.
// Models with a denormalizer are not handled (the library decodes those).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/spm_model_proto.h"

namespace longctx {

class SpmDecoder {
 public:
  // kUnsupported when the model has a denormalizer; kCorrupt for pieces the library would reject.
  static Result<std::unique_ptr<SpmDecoder>> make(const SpmModelProto& model);
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special) const;

 private:
  enum Kind : uint8_t { kNormal, kControl, kUnknown, kByte };
  std::vector<uint8_t> kind_;        // [id], of the id the library's PieceToId finds for the piece
  std::vector<int16_t> byte_;        // [id] -> byte of a byte piece
  std::vector<std::string> surface_;  // [id] -> piece with U+2581 -> ' ' (normal pieces)
  std::vector<std::string> piece_;
  std::vector<uint8_t> lead_space_;  // [id] -> piece starts with U+2581
  std::string unk_surface_;
  bool strip_first_ = false, remove_extra_ = false;
};

}  // namespace longctx
