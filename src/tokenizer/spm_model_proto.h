// Reader for the SentencePiece `ModelProto` (sentencepiece_model.proto, proto2) in its protobuf wire
// format. Debian ships no generated header for it, and the fast encoder (fast_spm_bpe.h) needs only
// the vocabulary, the model type and the normaliser settings, so we read those fields directly.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace longctx {

// ModelProto.SentencePiece.Type (the numbers are the proto's).
enum class SpmPieceType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };
// TrainerSpec.ModelType.
enum class SpmModelType : int32_t { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

struct SpmPiece {
  std::string piece;
  float score = 0.0f;
  SpmPieceType type = SpmPieceType::kNormal;
};

// Fields we use; defaults are the proto2 defaults, which apply when a field is absent.
struct SpmModelProto {
  std::vector<SpmPiece> pieces;  // ModelProto field 1; the index is the token id
  // TrainerSpec (field 2)
  SpmModelType model_type = SpmModelType::kUnigram;  // 3
  bool treat_whitespace_as_suffix = false;           // 24
  bool byte_fallback = false;                        // 35
  std::string unk_surface = " \xE2\x81\x87 ";         // 44: what Decode prints for <unk>
  // NormalizerSpec (field 3)
  std::string normalizer_name;        // 1
  std::string precompiled_charsmap;   // 2 (empty for "identity")
  bool add_dummy_prefix = true;       // 3
  bool remove_extra_whitespaces = true;  // 4
  bool escape_whitespaces = true;     // 5
  bool has_denormalizer = false;      // ModelProto field 5 present
};

// Parses serialized ModelProto bytes. Errors name the field and byte offset that broke the format.
Result<SpmModelProto> parse_spm_model_proto(std::string_view bytes);

}  // namespace longctx
