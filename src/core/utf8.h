// UTF-8 helpers for text that ends up in messages and JSON (which must be valid UTF-8).
#pragma once
#include <string>
#include <string_view>

namespace longctx {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i);
// `s` with every invalid byte replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);
// The longest prefix of `s` of at most `max_bytes` bytes that does not cut a character.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

}  // namespace longctx
