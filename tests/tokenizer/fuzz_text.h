// Random and adversarial text for the differential fuzz tests: long runs of spaces
// and newlines, mixed scripts, invalid UTF-8, emoji, digits, control characters, strings that look
// like vocabulary pieces, and slices of real text. Deterministic for a given Rng state.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "tokenizer/utf8_detail.h"

namespace longctx::testing_fuzz {

using tok_detail::append_utf8;

// One fuzz input of roughly `target_len` bytes. `samples` supplies real text to splice in and
// `specials` strings such as "<s>", "<0x41>", user-defined symbols.
inline std::string fuzz_text(Rng& rng, size_t target_len, const std::vector<std::string>& samples,
                             const std::vector<std::string>& specials) {
  static const uint32_t kScripts[][2] = {{0x0400, 0x04ff}, {0x4e00, 0x4fff}, {0x0600, 0x06ff}, {0x0900, 0x097f},
                                         {0x3040, 0x30ff}, {0xac00, 0xad00}, {0x00c0, 0x017f}, {0x1f300, 0x1f6ff},
                                         {0x2500, 0x25ff}, {0x0370, 0x03ff}};
  static const char* kWords[] = {"the", "of", "and", "int", "return", "License", "GNU", "git", "a", "ing",
                                 "tion", "    ", "\t", "==", "->", "();", "http://", "{", "}", "#include"};
  std::string s;
  while (s.size() < target_len) {
    switch (rng.below(16)) {
      case 0: s.append(1 + rng.below(rng.below(8) == 0 ? 400 : 12), ' '); break;
      case 1: s.append(1 + rng.below(20), "\n\r\t"[rng.below(3)]); break;
      case 2: {  // mixed scripts and emoji
        const auto* r = kScripts[rng.below(std::size(kScripts))];
        for (uint64_t k = 1 + rng.below(8); k > 0; --k) append_utf8(&s, r[0] + static_cast<uint32_t>(rng.below(r[1] - r[0])));
        break;
      }
      case 3: {  // invalid UTF-8: stray bytes, truncated sequences, overlongs, surrogates, > U+10FFFF
        static const char* kBad[] = {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
                                     "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\xfe", "\xe2\x96",
                                     "\xf0\x9f\x98", "\xc3"};
        s += kBad[rng.below(std::size(kBad))];
        break;
      }
      case 4:
        for (uint64_t k = 1 + rng.below(30); k > 0; --k) s.push_back(static_cast<char>('0' + rng.below(10)));
        break;
      case 5: s.push_back(static_cast<char>(rng.below(32))); break;  // control characters incl. NUL
      case 6: s.push_back(static_cast<char>(0x7f)); break;
      case 7: s += "\xe2\x96\x81"; break;  // a literal U+2581
      case 8: s += "\xef\xbf\xbd"; break;  // a literal U+FFFD
      case 9:
        if (!specials.empty()) s += specials[rng.below(specials.size())];
        break;
      case 10: s.push_back(static_cast<char>(rng.below(256))); break;
      case 11: s += kWords[rng.below(std::size(kWords))]; break;
      case 12: s.append(1 + rng.below(50), "-=*_#~."[rng.below(7)]); break;
      default:
        if (!samples.empty()) {
          const std::string& d = samples[rng.below(samples.size())];
          size_t a = rng.below(d.size()), n = 1 + rng.below(200);
          s += d.substr(a, n);
        }
    }
  }
  return s;
}

}  // namespace longctx::testing_fuzz
