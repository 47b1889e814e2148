// UTF-8 steps the tokenizers share, each matching one reference's rule exactly. Internal to
// src/tokenizer.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace longctx::tok_detail {

inline void append_utf8(std::string* s, uint32_t cp) {
  if (cp < 0x80) {
    s->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    s->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    s->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Byte length of the UTF-8 character led by c, for text already known to be valid.
inline int utf8_char_len(unsigned char c) { return "\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[c >> 4]; }

// Codepoint of a valid UTF-8 character of `len` bytes.
inline uint32_t utf8_decode_valid(const unsigned char* p, int len) {
  switch (len) {
    case 1: return p[0];
    case 2: return ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
    case 3: return ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
    default: return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
  }
}

// Length of the longest prefix of p[0..n) that starts a well-formed UTF-8 character (Unicode's
// "maximal subpart"): the full length when the character is complete and valid, else how far the
// bytes could still be the start of one (at least 1). *valid tells which.
inline size_t utf8_maximal_subpart(const unsigned char* p, size_t n, bool* valid) {
  const unsigned char c = p[0];
  *valid = true;
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    need = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    *valid = false;
    return 1;
  }
  size_t k = 1;
  for (; k < need && k < n; ++k) {
    const unsigned char t = p[k];
    if (k == 1 ? (t < lo || t > hi) : (t & 0xc0) != 0x80) break;
  }
  if (k < need) *valid = false;
  return k;
}

// Whether s is well-formed UTF-8 (Rust's String::from_utf8 succeeds).
inline bool utf8_valid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    while (i + 8 <= s.size()) {  // ASCII runs 8 bytes at a time
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    bool valid = false;
    size_t len = utf8_maximal_subpart(p + i, s.size() - i, &valid);
    if (!valid) return false;
    i += len;
  }
  return true;
}

// The text with each maximal ill-formed subpart replaced by U+FFFD: Rust's String::from_utf8_lossy,
// Python's bytes.decode("utf-8", "replace") and the WHATWG decoder all do this.
inline std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    bool valid = false;
    size_t len = utf8_maximal_subpart(p + i, s.size() - i, &valid);
    if (valid) {
      out.append(s.data() + i, len);
    } else {
      out += "\xef\xbf\xbd";
    }
    i += len;
  }
  return out;
}

// Length of the valid UTF-8 character at p (n bytes left), or 0 when SentencePiece's DecodeUTF8
// rejects it (truncated, bad trail byte, overlong, surrogate, above U+10FFFF): one byte is then
// replaced by U+FFFD.
inline int spm_valid_utf8_len(const unsigned char* p, size_t n) {
  bool valid = false;
  size_t len = utf8_maximal_subpart(p, n, &valid);
  return valid ? static_cast<int>(len) : 0;
}

}  // namespace longctx::tok_detail
