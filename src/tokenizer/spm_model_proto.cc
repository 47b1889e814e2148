#include "tokenizer/spm_model_proto.h"

#include <cstring>

namespace longctx {
namespace {

// Protobuf wire types.
constexpr int kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

// A cursor over one message's bytes; `base` is the message's offset in the file (for errors).
struct WireReader {
  std::string_view buf;
  size_t pos = 0;
  size_t base = 0;

  bool done() const { return pos >= buf.size(); }
  Status varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= buf.size()) return make_error(ErrorCode::kCorrupt, "truncated varint at byte {}", base + pos);
      uint8_t b = static_cast<uint8_t>(buf[pos++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return Status::ok();
    }
    return make_error(ErrorCode::kCorrupt, "varint longer than 10 bytes at byte {}", base + pos);
  }
  Status bytes(std::string_view* out, size_t* out_offset) {
    uint64_t n = 0;
    LONGCTX_RETURN_IF_ERROR(varint(&n));
    if (n > buf.size() - pos)
      return make_error(ErrorCode::kCorrupt, "length {} at byte {} runs past the end of its message ({} bytes left)", n,
                        base + pos, buf.size() - pos);
    *out = buf.substr(pos, n);
    *out_offset = base + pos;
    pos += n;
    return Status::ok();
  }
  Status fixed32(uint32_t* v) {
    if (buf.size() - pos < 4) return make_error(ErrorCode::kCorrupt, "truncated fixed32 at byte {}", base + pos);
    std::memcpy(v, buf.data() + pos, 4);  // little-endian host (x86-64, aarch64)
    pos += 4;
    return Status::ok();
  }
  // Reads a tag; *field = field number, *wire = wire type.
  Status tag(uint32_t* field, int* wire) {
    uint64_t t = 0;
    LONGCTX_RETURN_IF_ERROR(varint(&t));
    *field = static_cast<uint32_t>(t >> 3);
    *wire = static_cast<int>(t & 7);
    return Status::ok();
  }
  Status skip(int wire) {
    uint64_t v = 0;
    std::string_view s;
    size_t off = 0;
    uint32_t f32 = 0;
    switch (wire) {
      case kVarint: return varint(&v);
      case kFixed64:
        if (buf.size() - pos < 8) return make_error(ErrorCode::kCorrupt, "truncated fixed64 at byte {}", base + pos);
        pos += 8;
        return Status::ok();
      case kLengthDelimited: return bytes(&s, &off);
      case kFixed32: return fixed32(&f32);
      default: return make_error(ErrorCode::kCorrupt, "unsupported wire type {} at byte {}", wire, base + pos);
    }
  }
};

Status expect_wire(int wire, int want, const char* what, size_t at) {
  if (wire != want)
    return make_error(ErrorCode::kCorrupt, "field {} has wire type {} (expected {}) near byte {}", what, wire, want, at);
  return Status::ok();
}

Status parse_piece(std::string_view msg, size_t base, SpmPiece* p) {
  WireReader r{msg, 0, base};
  while (!r.done()) {
    uint32_t field = 0;
    int wire = 0;
    LONGCTX_RETURN_IF_ERROR(r.tag(&field, &wire));
    if (field == 1) {
      LONGCTX_RETURN_IF_ERROR(expect_wire(wire, kLengthDelimited, "SentencePiece.piece", base + r.pos));
      std::string_view s;
      size_t off = 0;
      LONGCTX_RETURN_IF_ERROR(r.bytes(&s, &off));
      p->piece.assign(s);
    } else if (field == 2) {
      LONGCTX_RETURN_IF_ERROR(expect_wire(wire, kFixed32, "SentencePiece.score", base + r.pos));
      uint32_t bits = 0;
      LONGCTX_RETURN_IF_ERROR(r.fixed32(&bits));
      std::memcpy(&p->score, &bits, 4);
    } else if (field == 3) {
      LONGCTX_RETURN_IF_ERROR(expect_wire(wire, kVarint, "SentencePiece.type", base + r.pos));
      uint64_t v = 0;
      LONGCTX_RETURN_IF_ERROR(r.varint(&v));
      if (v < 1 || v > 6) return make_error(ErrorCode::kCorrupt, "piece type {} near byte {} is not 1..6", v, base + r.pos);
      p->type = static_cast<SpmPieceType>(v);
    } else {
      LONGCTX_RETURN_IF_ERROR(r.skip(wire));
    }
  }
  return Status::ok();
}

Status parse_trainer_spec(std::string_view msg, size_t base, SpmModelProto* m) {
  WireReader r{msg, 0, base};
  while (!r.done()) {
    uint32_t field = 0;
    int wire = 0;
    LONGCTX_RETURN_IF_ERROR(r.tag(&field, &wire));
    if ((field == 3 || field == 24 || field == 35) && wire == kVarint) {
      uint64_t v = 0;
      LONGCTX_RETURN_IF_ERROR(r.varint(&v));
      if (field == 3) m->model_type = static_cast<SpmModelType>(v);
      if (field == 24) m->treat_whitespace_as_suffix = v != 0;
      if (field == 35) m->byte_fallback = v != 0;
    } else if (field == 44 && wire == kLengthDelimited) {
      std::string_view s;
      size_t off = 0;
      LONGCTX_RETURN_IF_ERROR(r.bytes(&s, &off));
      m->unk_surface.assign(s);
    } else {
      LONGCTX_RETURN_IF_ERROR(r.skip(wire));
    }
  }
  return Status::ok();
}

Status parse_normalizer_spec(std::string_view msg, size_t base, SpmModelProto* m) {
  WireReader r{msg, 0, base};
  while (!r.done()) {
    uint32_t field = 0;
    int wire = 0;
    LONGCTX_RETURN_IF_ERROR(r.tag(&field, &wire));
    if ((field == 1 || field == 2) && wire == kLengthDelimited) {
      std::string_view s;
      size_t off = 0;
      LONGCTX_RETURN_IF_ERROR(r.bytes(&s, &off));
      (field == 1 ? m->normalizer_name : m->precompiled_charsmap).assign(s);
    } else if (field >= 3 && field <= 5 && wire == kVarint) {
      uint64_t v = 0;
      LONGCTX_RETURN_IF_ERROR(r.varint(&v));
      if (field == 3) m->add_dummy_prefix = v != 0;
      if (field == 4) m->remove_extra_whitespaces = v != 0;
      if (field == 5) m->escape_whitespaces = v != 0;
    } else {
      LONGCTX_RETURN_IF_ERROR(r.skip(wire));
    }
  }
  return Status::ok();
}

}  // namespace

Result<SpmModelProto> parse_spm_model_proto(std::string_view bytes) {
  SpmModelProto m;
  WireReader r{bytes, 0, 0};
  while (!r.done()) {
    uint32_t field = 0;
    int wire = 0;
    LONGCTX_RETURN_IF_ERROR(r.tag(&field, &wire));
    if (field >= 1 && field <= 3) {
      LONGCTX_RETURN_IF_ERROR(expect_wire(wire, kLengthDelimited, "ModelProto submessage", r.pos));
      std::string_view s;
      size_t off = 0;
      LONGCTX_RETURN_IF_ERROR(r.bytes(&s, &off));
      if (field == 1) {
        m.pieces.emplace_back();
        LONGCTX_RETURN_IF_ERROR(parse_piece(s, off, &m.pieces.back()));
      } else if (field == 2) {
        LONGCTX_RETURN_IF_ERROR(parse_trainer_spec(s, off, &m));
      } else {
        LONGCTX_RETURN_IF_ERROR(parse_normalizer_spec(s, off, &m));
      }
    } else {
      if (field == 5) m.has_denormalizer = true;
      LONGCTX_RETURN_IF_ERROR(r.skip(wire));
    }
  }
  if (m.pieces.empty()) return make_error(ErrorCode::kCorrupt, "SentencePiece model has no pieces");
  return m;
}

}  // namespace longctx
