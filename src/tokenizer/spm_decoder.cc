#include "tokenizer/spm_decoder.h"

#include <unordered_map>

#include "tokenizer/utf8_detail.h"

namespace longctx {

namespace {
constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";  // U+2581
}

Result<std::unique_ptr<SpmDecoder>> SpmDecoder::make(const SpmModelProto& model) {
  if (model.has_denormalizer) return Status(ErrorCode::kUnsupported, "the model has a denormalizer");
  auto d = std::unique_ptr<SpmDecoder>(new SpmDecoder());
  const size_t n = model.pieces.size();
  // The library's PieceToId: reserved pieces (control, unknown, byte) first, then the others.
  std::unordered_map<std::string_view, uint32_t> reserved, normal;
  for (uint32_t i = 0; i < n; ++i) {
    const SpmPiece& p = model.pieces[i];
    bool is_normal = p.type == SpmPieceType::kNormal || p.type == SpmPieceType::kUserDefined ||
                     p.type == SpmPieceType::kUnused;
    if (!(is_normal ? normal : reserved).emplace(p.piece, i).second)
      return make_error(ErrorCode::kCorrupt, "piece {:?} (id {}) is defined twice", p.piece, i);
  }
  d->kind_.resize(n);
  d->byte_.assign(n, -1);
  d->surface_.resize(n);
  d->piece_.resize(n);
  d->lead_space_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const std::string& piece = model.pieces[i].piece;
    auto r = reserved.find(piece);
    const SpmPiece& eff = model.pieces[r != reserved.end() ? r->second : normal.at(piece)];
    d->piece_[i] = piece;
    d->kind_[i] = eff.type == SpmPieceType::kControl   ? kControl
                  : eff.type == SpmPieceType::kUnknown ? kUnknown
                  : eff.type == SpmPieceType::kByte    ? kByte
                                                       : kNormal;
    if (d->kind_[i] == kByte) {
      // The library's PieceToByte knows exactly the 256 strings "<0x00>".."<0xFF>".
      static const char kHex[] = "0123456789ABCDEF";
      auto digit = [](char c) { return static_cast<int>(std::string_view(kHex).find(c)); };
      if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>' || digit(piece[3]) < 0 ||
          digit(piece[4]) < 0)
        return make_error(ErrorCode::kCorrupt, "byte piece {:?} (id {}) is not <0xXX>", piece, i);
      d->byte_[i] = static_cast<int16_t>(digit(piece[3]) * 16 + digit(piece[4]));
    }
    std::string s;
    for (size_t k = 0; k < piece.size();) {
      if (std::string_view(piece).substr(k, 3) == kSpaceSymbol) {
        s.push_back(' ');
        k += 3;
      } else {
        s.push_back(piece[k++]);
      }
    }
    d->surface_[i] = std::move(s);
    d->lead_space_[i] = std::string_view(piece).substr(0, 3) == kSpaceSymbol;
  }
  d->unk_surface_ = model.unk_surface;
  d->strip_first_ = model.add_dummy_prefix || model.remove_extra_whitespaces;
  d->remove_extra_ = model.remove_extra_whitespaces;
  return d;
}

Result<std::string> SpmDecoder::decode(std::span<const uint32_t> ids, bool skip_special) const {
  std::string text;
  std::string bytes;
  auto flush_bytes = [&] {  // each byte that starts no valid character prints U+FFFD
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    for (size_t i = 0; i < bytes.size();) {
      int len = tok_detail::spm_valid_utf8_len(p + i, bytes.size() - i);
      if (len == 0) {
        text += "\xef\xbf\xbd";
        ++i;
      } else {
        text.append(bytes, i, len);
        i += len;
      }
    }
    bytes.clear();
  };
  bool is_bos_ws = true, bos_ws_seen = false;
  for (uint32_t id : ids) {
    if (id >= kind_.size())
      return make_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary (size {})", id,
                        kind_.size());
    if (kind_[id] == kByte) {
      bytes.push_back(static_cast<char>(byte_[id]));
      continue;
    }
    flush_bytes();
    if (bos_ws_seen || !text.empty()) is_bos_ws = false;
    bos_ws_seen = false;
    if (kind_[id] == kControl) {
      if (!skip_special) text += piece_[id];
    } else if (kind_[id] == kUnknown) {
      text += unk_surface_;
    } else if (is_bos_ws && strip_first_ && lead_space_[id]) {
      text.append(surface_[id], 1, std::string::npos);
      bos_ws_seen = !remove_extra_;  // removing extra whitespace strips every leading U+2581
    } else {
      text += surface_[id];
    }
  }
  flush_bytes();
  return text;
}

}  // namespace longctx
