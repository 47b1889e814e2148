#include "tokenizer/hf_pipeline.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdio>

#include "tokenizer/utf8_detail.h"

namespace longctx::tok_detail {
namespace {

// Unicode White_Space (what Oniguruma's \s matches), as PCRE2 class contents.
constexpr char kWhiteSpaceClass[] =
    R"(\t\n\x0B\f\r\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
// GPT-2's pattern, which the ByteLevel pre-tokenizer uses when use_regex is true.
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// PCRE2's Unicode tables are older than the reference's (Debian 12: PCRE2 10.42 has Unicode 14.0;
// the library's Oniguruma has 16.0). For each general category, the characters that ICU (Debian 12:
// Unicode 15.0) knows but PCRE2 does not, as PCRE2 class items; appended to \p{..} in patterns.
// Characters assigned after ICU's version remain unknown to both (docs/tokenizer.md).
struct NewerCategories {
  std::array<std::string, U_CHAR_CATEGORY_COUNT> items;
  NewerCategories() {
    char ver[32] = {};
    pcre2_config(PCRE2_CONFIG_UNICODE_VERSION, ver);
    int major = 0, minor = 0;
    std::sscanf(ver, "%d.%d", &major, &minor);
    UChar32 start = -1;
    int8_t cat = -1;
    auto flush = [&](UChar32 end) {
      if (start >= 0) items[cat] += fmt::format("\\x{{{:X}}}-\\x{{{:X}}}", start, end - 1);
      start = -1;
    };
    for (UChar32 c = 0; c <= 0x10ffff; ++c) {
      UVersionInfo age;
      u_charAge(c, age);
      const int8_t t = u_charType(c);
      const bool newer = t != U_UNASSIGNED && (age[0] > major || (age[0] == major && age[1] > minor));
      if (start >= 0 && (!newer || t != cat)) flush(c);
      if (newer && start < 0) start = c, cat = t;
    }
    flush(0x110000);
  }
  // The extra items for a \p{name} (a general category or its one-letter group), or "" for other
  // property names (scripts, Any, ...), which are left to PCRE2.
  std::string for_name(std::string_view name) const {
    std::string out;
    for (int t = 1; t < U_CHAR_CATEGORY_COUNT; ++t) {
      const char* gc = u_getPropertyValueName(UCHAR_GENERAL_CATEGORY, t, U_SHORT_PROPERTY_NAME);
      if (!gc) continue;
      std::string_view g(gc);
      if (g == name || (name.size() == 1 && g[0] == name[0]) || ((name == "L&" || name == "LC") && g[0] == 'L' && g != "Lm" && g != "Lo"))
        out += items[t];
    }
    return out;
  }
};

const NewerCategories& newer_categories() {
  static const NewerCategories n;
  return n;
}

// Reads the property name of \p or \P at pat[i] ('p' or 'P'); *end is past it.
std::string_view property_name(const std::string& pat, size_t i, size_t* end) {
  if (i + 1 < pat.size() && pat[i + 1] == '{') {
    size_t close = pat.find('}', i + 2);
    if (close == std::string::npos) close = pat.size() - 1;
    *end = close + 1;
    return std::string_view(pat).substr(i + 2, close - i - 2);
  }
  *end = std::min(i + 2, pat.size());
  return std::string_view(pat).substr(i + 1, *end - i - 1);
}

// Rewrites an Oniguruma pattern for PCRE2: \s and \S become Unicode White_Space classes; \p{..}
// general categories gain the characters PCRE2's tables lack (above); escapes whose meaning differs
// between the engines (\w \W \b \B: Oniguruma's word characters include marks and connector
// punctuation; \h \H: Oniguruma's hex digits) are refused.
Result<std::string> rewrite_for_pcre2(const std::string& pat) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pat.size(); ++i) {
    char c = pat[i];
    if (c == '\\' && i + 1 < pat.size()) {
      char e = pat[i + 1];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceClass) : "[" + std::string(kWhiteSpaceClass) + "]";
      } else if (e == 'S') {
        if (in_class) return make_error(ErrorCode::kUnsupported, "\\S inside a character class in pattern {:?}", pat);
        out += "[^" + std::string(kWhiteSpaceClass) + "]";
      } else if (e == 'p' || e == 'P') {
        size_t end = 0;
        std::string_view name = property_name(pat, i + 1, &end);
        std::string prop(pat, i, end - i), extra = newer_categories().for_name(name);
        if (extra.empty()) {
          out += prop;
        } else if (in_class) {
          if (e == 'P')
            return make_error(ErrorCode::kUnsupported, "\\P{{{}}} inside a character class in pattern {:?}", name, pat);
          out += prop + extra;
        } else {
          out += (e == 'P' ? "[^\\p" : "[\\p") + prop.substr(2) + extra + "]";
        }
        i = end - 1;
        continue;
      } else if (std::strchr("wWbBhH", e)) {
        return make_error(ErrorCode::kUnsupported,
                          "pattern {:?} uses \\{}, whose meaning differs between Oniguruma and PCRE2", pat, e);
      } else {
        out += c;
        out += e;
      }
      ++i;
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < pat.size() && pat[i + 1] == '^') out += pat[++i];
      if (i + 1 < pat.size() && pat[i + 1] == ']') out += pat[++i];  // literal ']' first in a class
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

struct PcreThread {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mc = nullptr;
  pcre2_jit_stack* js = nullptr;
  PcreThread() {
    md = pcre2_match_data_create(1, nullptr);
    mc = pcre2_match_context_create(nullptr);
    js = pcre2_jit_stack_create(32 << 10, 8 << 20, nullptr);
    if (mc && js) pcre2_jit_stack_assign(mc, nullptr, js);
  }
  ~PcreThread() {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_jit_stack_free(js);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Patterns

HfRegex::~HfRegex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Result<std::unique_ptr<HfRegex>> HfRegex::compile(const std::string& pattern) {
  LONGCTX_ASSIGN_OR_RETURN(std::string rewritten, rewrite_for_pcre2(pattern));
  int err = 0;
  PCRE2_SIZE erroff = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.c_str()), rewritten.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &erroff, nullptr);
  if (!code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return make_error(ErrorCode::kUnsupported, "pattern {:?} does not compile in PCRE2 at {}: {}", pattern, erroff,
                      reinterpret_cast<const char*>(msg));
  }
  auto re = std::unique_ptr<HfRegex>(new HfRegex());
  re->code_ = code;
  uint32_t minlength = 0;
  pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlength);
  // The library's handling of empty matches depends on its iterator's details; real patterns
  // never match the empty string, so such patterns are refused rather than guessed at.
  if (minlength == 0)
    return make_error(ErrorCode::kUnsupported, "pattern {:?} can match the empty string", pattern);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // the interpreter runs it if JIT is unavailable
  return re;
}

Result<bool> HfRegex::find(std::string_view text, size_t pos, size_t* a, size_t* b) const {
  thread_local PcreThread t;
  int rc = pcre2_match(static_cast<const pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(text.data()),
                       text.size(), pos, PCRE2_NO_UTF_CHECK, t.md, t.mc);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    return make_error(ErrorCode::kInternal, "regular expression failed at byte {}: {}", pos,
                      reinterpret_cast<const char*>(msg));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(t.md);
  *a = ov[0];
  *b = ov[1];
  return true;
}

Result<HfMatcher> HfMatcher::make(const HfPattern& p) {
  HfMatcher m;
  if (p.is_regex) {
    LONGCTX_ASSIGN_OR_RETURN(auto re, HfRegex::compile(p.text));
    m.regex_ = std::move(re);
  } else {
    if (p.text.empty()) return make_error(ErrorCode::kUnsupported, "an empty String pattern");
    m.literal_ = p.text;
  }
  return m;
}

Result<bool> HfMatcher::find(std::string_view text, size_t pos, size_t* a, size_t* b) const {
  if (regex_) return regex_->find(text, pos, a, b);
  size_t at = text.find(literal_, pos);
  if (at == std::string_view::npos) return false;
  *a = at;
  *b = at + literal_.size();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Added tokens

void HfAddedMatcher::build(const std::vector<std::pair<std::string, uint32_t>>& tokens) {
  value_.assign(1, -1);
  nodes_ = 1;
  for (const auto& [content, id] : tokens) {
    if (content.empty()) continue;
    uint64_t node = 0;
    for (unsigned char c : content) {
      uint64_t key = (node << 8) | c;
      const uint64_t* next = child_.find(key);
      if (next) {
        node = *next;
      } else {
        child_.insert(key, nodes_);
        node = nodes_++;
        value_.push_back(-1);
      }
    }
    if (value_[node] < 0) value_[node] = id;  // two tokens with one content: the first is kept
    first_[static_cast<unsigned char>(content[0])] = true;
  }
}

bool HfAddedMatcher::find(std::string_view text, size_t pos, size_t* at, size_t* len, uint32_t* id) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = pos; i < text.size(); ++i) {
    if (!first_[p[i]]) continue;
    uint64_t node = 0;
    size_t best = 0;
    for (size_t k = i; k < text.size(); ++k) {
      const uint64_t* next = child_.find((node << 8) | p[k]);
      if (!next) break;
      node = *next;
      if (value_[node] >= 0) {
        best = k + 1 - i;
        *id = static_cast<uint32_t>(value_[node]);
      }
    }
    if (best) {
      *at = i;
      *len = best;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Normalisers

Result<HfNormalizer> HfNormalizer::make(const std::vector<HfNormalizerStep>& steps) {
  HfNormalizer n;
  for (const auto& s : steps) {
    Step st;
    st.kind = s.kind;
    st.content = s.content;
    UErrorCode err = U_ZERO_ERROR;
    switch (s.kind) {
      case HfNormalizerStep::kNfc: st.icu = icu::Normalizer2::getNFCInstance(err); break;
      case HfNormalizerStep::kNfd: st.icu = icu::Normalizer2::getNFDInstance(err); break;
      case HfNormalizerStep::kNfkc: st.icu = icu::Normalizer2::getNFKCInstance(err); break;
      case HfNormalizerStep::kNfkd: st.icu = icu::Normalizer2::getNFKDInstance(err); break;
      case HfNormalizerStep::kPrepend: n.keeps_start_ = false; break;
      case HfNormalizerStep::kReplace: {
        n.keeps_start_ = false;
        LONGCTX_ASSIGN_OR_RETURN(HfMatcher m, HfMatcher::make(s.pattern));
        st.matcher = std::make_shared<HfMatcher>(std::move(m));
        break;
      }
    }
    if (U_FAILURE(err)) return make_error(ErrorCode::kInternal, "ICU normalizer unavailable: {}", u_errorName(err));
    n.steps_.push_back(std::move(st));
  }
  return n;
}

Status HfNormalizer::apply(std::string_view in, std::string* out, std::string* tmp) const {
  out->assign(in);
  for (const Step& st : steps_) {
    tmp->clear();
    switch (st.kind) {
      case HfNormalizerStep::kPrepend:
        if (out->empty()) continue;
        tmp->append(st.content).append(*out);
        break;
      case HfNormalizerStep::kReplace: {
        size_t pos = 0, a = 0, b = 0;
        for (;;) {
          LONGCTX_ASSIGN_OR_RETURN(bool found, st.matcher->find(*out, pos, &a, &b));
          if (!found) break;
          tmp->append(*out, pos, a - pos).append(st.content);
          pos = b;
        }
        tmp->append(*out, pos, std::string::npos);
        break;
      }
      default: {
        UErrorCode err = U_ZERO_ERROR;
        icu::StringByteSink<std::string> sink(tmp, static_cast<int32_t>(out->size()));
        static_cast<const icu::Normalizer2*>(st.icu)->normalizeUTF8(
            0, icu::StringPiece(out->data(), static_cast<int32_t>(out->size())), sink, nullptr, err);
        if (U_FAILURE(err)) return make_error(ErrorCode::kInternal, "Unicode normalisation failed: {}", u_errorName(err));
      }
    }
    out->swap(*tmp);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers

void byte_level_alphabet(uint32_t cps[256]) {
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    cps[b] = printable ? b : next++;
  }
}

Result<HfPreTokenizer> HfPreTokenizer::make(const std::vector<HfPreTokenizerStep>& steps) {
  HfPreTokenizer t;
  for (const auto& s : steps) {
    Step st{s, nullptr};
    if (s.kind == HfPreTokenizerStep::kSplit || (s.kind == HfPreTokenizerStep::kByteLevel && s.use_regex)) {
      HfPattern p = s.kind == HfPreTokenizerStep::kSplit ? s.pattern : HfPattern{true, kGpt2Pattern};
      LONGCTX_ASSIGN_OR_RETURN(HfMatcher m, HfMatcher::make(p));
      st.matcher = std::make_shared<HfMatcher>(std::move(m));
    }
    if (s.kind == HfPreTokenizerStep::kByteLevel) t.byte_level_ = true;
    t.steps_.push_back(std::move(st));
  }
  return t;
}

namespace {

// The library's NormalizedString::split: [ranges] cover the piece in order with is_match flags;
// the behaviour decides which become pieces (the library's folds, reproduced). On return r holds
// the pieces and m is all zeros.
void apply_behavior(HfSplitBehavior b, std::vector<std::pair<size_t, size_t>>& r, std::vector<uint8_t>& m) {
  using B = HfSplitBehavior;
  if (b == B::kIsolated) {
    m.assign(r.size(), 0);
    return;
  }
  std::vector<std::pair<size_t, size_t>> out;
  std::vector<uint8_t> keep;
  if (b == B::kRemoved) {
    for (size_t i = 0; i < r.size(); ++i)
      if (!m[i]) out.push_back(r[i]);
  } else if (b == B::kContiguous || b == B::kMergedWithPrevious) {
    bool prev = false;
    for (size_t i = 0; i < r.size(); ++i) {
      bool join = b == B::kContiguous ? m[i] == prev : (m[i] && !prev);
      if (join && !out.empty()) {
        out.back().second = r[i].second;
      } else {
        out.push_back(r[i]);
      }
      prev = m[i];
    }
  } else {  // kMergedWithNext: the mirror image, folded from the end
    bool prev = false;
    for (size_t i = r.size(); i-- > 0;) {
      if (m[i] && !prev && !out.empty()) {
        out.back().first = r[i].first;
      } else {
        out.push_back(r[i]);
      }
      prev = m[i];
    }
    std::reverse(out.begin(), out.end());
  }
  r.swap(out);
  m.assign(r.size(), 0);
}

}  // namespace

Status HfPreTokenizer::split(const Step& st, const std::vector<HfPiece>& in, HfPreScratch& s,
                             std::vector<HfPiece>* out) const {
  const HfSplitBehavior behavior = st.spec.kind == HfPreTokenizerStep::kSplit ? st.spec.behavior
                                                                              : HfSplitBehavior::kIsolated;
  const bool invert = st.spec.kind == HfPreTokenizerStep::kSplit && st.spec.invert;
  for (const HfPiece& p : in) {
    std::string_view text(p.p, p.len);
    s.ranges.clear();
    s.is_match.clear();
    size_t prev = 0, pos = 0, a = 0, b = 0;
    for (;;) {
      LONGCTX_ASSIGN_OR_RETURN(bool found, st.matcher->find(text, pos, &a, &b));
      if (!found) break;
      if (prev != a) s.ranges.emplace_back(prev, a), s.is_match.push_back(invert);
      s.ranges.emplace_back(a, b), s.is_match.push_back(!invert);
      prev = pos = b;
    }
    if (prev != text.size()) s.ranges.emplace_back(prev, text.size()), s.is_match.push_back(invert);
    apply_behavior(behavior, s.ranges, s.is_match);
    for (size_t i = 0; i < s.ranges.size(); ++i) {
      auto [x, y] = s.ranges[i];
      if (y > x) out->push_back(HfPiece{p.p + x, static_cast<uint32_t>(y - x), p.origin && x == 0});
    }
  }
  return Status::ok();
}

// Metaspace: ' ' -> replacement, the replacement prepended per the scheme, then (with split) a new
// piece at every replacement character (the library's split on it, MergedWithNext).
void HfPreTokenizer::metaspace(const Step& st, const std::vector<HfPiece>& in, std::string* arena,
                               std::vector<HfPiece>* out) const {
  const std::string& rep = st.spec.replacement;
  size_t need = 0;
  for (const HfPiece& p : in) need += (p.len + 1) * rep.size();
  arena->clear();
  arena->reserve(need);  // no reallocation below: pieces point into the arena
  for (const HfPiece& p : in) {
    std::string_view t(p.p, p.len);
    const size_t start = arena->size();
    const bool starts = !t.empty() && (t[0] == ' ' || t.substr(0, rep.size()) == rep);
    const auto scheme = st.spec.prepend_scheme;
    if (!starts && (scheme == HfPrependScheme::kAlways || (scheme == HfPrependScheme::kFirst && p.origin)))
      arena->append(rep);
    for (char c : t) {
      if (c == ' ') {
        arena->append(rep);
      } else {
        arena->push_back(c);
      }
    }
    std::string_view w(arena->data() + start, arena->size() - start);
    size_t piece_start = 0;
    if (st.spec.split) {
      for (size_t at = w.find(rep, 1); at != std::string_view::npos; at = w.find(rep, at + rep.size())) {
        out->push_back(HfPiece{w.data() + piece_start, static_cast<uint32_t>(at - piece_start), p.origin && piece_start == 0});
        piece_start = at;
      }
    }
    if (w.size() > piece_start)
      out->push_back(HfPiece{w.data() + piece_start, static_cast<uint32_t>(w.size() - piece_start),
                             p.origin && piece_start == 0});
  }
}

Status HfPreTokenizer::run(HfPiece in, HfPreScratch& s, std::vector<HfPiece>** out) const {
  std::vector<HfPiece>* cur = &s.a;
  std::vector<HfPiece>* next = &s.b;
  cur->assign(1, in);
  int arena = 0;
  for (const Step& st : steps_) {
    next->clear();
    if (st.spec.kind == HfPreTokenizerStep::kMetaspace) {
      metaspace(st, *cur, &s.arena[arena], next);
      arena ^= 1;
    } else {
      if (st.spec.kind == HfPreTokenizerStep::kByteLevel && st.spec.add_prefix_space) {
        std::string& buf = s.arena[arena];
        arena ^= 1;
        size_t need = 0;
        for (const HfPiece& p : *cur) need += p.len + 1;
        buf.clear();
        buf.reserve(need);
        for (HfPiece& p : *cur) {
          const size_t start = buf.size();
          if (p.len == 0 || p.p[0] != ' ') buf.push_back(' ');
          buf.append(p.p, p.len);
          p = HfPiece{buf.data() + start, static_cast<uint32_t>(buf.size() - start), p.origin};
        }
      }
      if (st.matcher) {
        LONGCTX_RETURN_IF_ERROR(split(st, *cur, s, next));
      } else {
        *next = *cur;
      }
    }
    std::swap(cur, next);
  }
  *out = cur;
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Decoders

namespace {

// The byte of a "<0xHH>" token as the library's ByteFallback decoder reads it (u8::from_str_radix
// on the two characters after "<0x", which also accepts "+H"), else -1.
int byte_token_value(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  };
  int h = hex(t[3]), l = hex(t[4]);
  if (t[3] == '+' && l >= 0) return l;
  return h >= 0 && l >= 0 ? h * 16 + l : -1;
}

// Replaces each match of m in s by content (the library's Replace decoder on one token).
Status replace_all(const HfMatcher& m, std::string_view s, const std::string& content, std::string* out) {
  size_t pos = 0, a = 0, b = 0;
  for (;;) {
    LONGCTX_ASSIGN_OR_RETURN(bool found, m.find(s, pos, &a, &b));
    if (!found) break;
    out->append(s.substr(pos, a - pos)).append(content);
    pos = b;
  }
  out->append(s.substr(pos));
  return Status::ok();
}

}  // namespace

Result<HfDecoder> HfDecoder::make(const HfSpec& spec, const std::vector<std::string>& token, std::vector<uint8_t> skip,
                                  std::vector<uint8_t> known) {
  HfDecoder d;
  d.has_decoder_ = spec.has_decoder;
  d.unsupported_ = spec.decoder_unsupported;
  d.skip_ = std::move(skip);
  d.known_ = std::move(known);
  d.piece_ = token;
  size_t first = 0;
  // Leading Replace steps act on each token alone: apply them to the vocabulary now.
  for (; first < spec.decoders.size() && spec.decoders[first].kind == HfDecoderStep::kReplace; ++first) {
    LONGCTX_ASSIGN_OR_RETURN(HfMatcher m, HfMatcher::make(spec.decoders[first].pattern));
    for (auto& p : d.piece_) {
      std::string r;
      LONGCTX_RETURN_IF_ERROR(replace_all(m, p, spec.decoders[first].content, &r));
      p.swap(r);
    }
  }
  d.steps_.assign(spec.decoders.begin() + first, spec.decoders.end());
  for (const auto& st : d.steps_) {
    std::shared_ptr<HfMatcher> m;
    if (st.kind == HfDecoderStep::kReplace) {
      LONGCTX_ASSIGN_OR_RETURN(HfMatcher mm, HfMatcher::make(st.pattern));
      m = std::make_shared<HfMatcher>(std::move(mm));
    }
    d.matchers_.push_back(std::move(m));
  }
  d.byte_.resize(d.piece_.size());
  for (size_t i = 0; i < d.piece_.size(); ++i) d.byte_[i] = static_cast<int16_t>(byte_token_value(d.piece_[i]));
  uint32_t cps[256];
  byte_level_alphabet(cps);
  std::fill(std::begin(d.byte_level_cp_to_byte_), std::end(d.byte_level_cp_to_byte_), 0xffffffffu);
  for (uint32_t b = 0; b < 256; ++b) d.byte_level_cp_to_byte_[cps[b]] = b;
  // A first step of ByteLevel or Metaspace also acts on each token alone (Metaspace apart from the
  // first token): its per-token result is computed now, and decode() runs the step from the table.
  if (!d.steps_.empty() && (d.steps_[0].kind == HfDecoderStep::kByteLevel || d.steps_[0].kind == HfDecoderStep::kMetaspace)) {
    d.first_step_.resize(d.piece_.size());
    for (size_t i = 0; i < d.piece_.size(); ++i) {
      if (d.steps_[0].kind == HfDecoderStep::kByteLevel) {
        d.byte_level_token(d.piece_[i], &d.first_step_[i]);
      } else {
        d.metaspace_token(d.steps_[0], d.piece_[i], /*first=*/false, &d.first_step_[i]);
      }
    }
  }
  return d;
}

// The ByteLevel decoder on one token: the bytes of its characters when all are in the byte-level
// alphabet, else the token's own bytes.
void HfDecoder::byte_level_token(std::string_view t, std::string* out) const {
  const size_t mark = out->size();
  for (size_t k = 0; k < t.size();) {
    int l = utf8_char_len(static_cast<unsigned char>(t[k]));
    uint32_t cp = utf8_decode_valid(reinterpret_cast<const unsigned char*>(t.data() + k), l);
    uint32_t b = cp < 0x144 ? byte_level_cp_to_byte_[cp] : 0xffffffffu;
    if (b > 255) {
      out->resize(mark);
      out->append(t);
      return;
    }
    out->push_back(static_cast<char>(b));
    k += l;
  }
}

// The Metaspace decoder on one token: the replacement character becomes a space, or nothing in the
// first token (unless prepend_scheme is never).
void HfDecoder::metaspace_token(const HfDecoderStep& st, std::string_view t, bool first, std::string* out) const {
  const bool drop = first && !st.prepend_never;
  size_t pos = 0;
  for (size_t at = t.find(st.replacement); at != std::string_view::npos; at = t.find(st.replacement, pos)) {
    out->append(t.substr(pos, at - pos));
    if (!drop) out->push_back(' ');
    pos = at + st.replacement.size();
  }
  out->append(t.substr(pos));
}

// The library's ByteFallback on a run of byte tokens: their bytes when they form UTF-8, else one
// U+FFFD per byte.
void HfDecoder::flush_bytes(std::string* bytes, TokList& out) {
  if (bytes->empty()) return;
  if (utf8_valid(*bytes)) {
    out.push(*bytes);
  } else {
    for (size_t k = 0; k < bytes->size(); ++k) out.push("\xef\xbf\xbd");
  }
  bytes->clear();
}

Status HfDecoder::run_step(const HfDecoderStep& st, const HfMatcher* m, TokList& in, TokList& out) const {
  out.clear();
  switch (st.kind) {
    case HfDecoderStep::kReplace:
      for (size_t i = 0; i < in.size(); ++i) {
        LONGCTX_RETURN_IF_ERROR(replace_all(*m, in.at(i), st.content, &out.buf));
        out.end.push_back(static_cast<uint32_t>(out.buf.size()));
      }
      break;
    case HfDecoderStep::kByteFallback: {
      std::string bytes;
      for (size_t i = 0; i < in.size(); ++i) {
        int b = byte_token_value(in.at(i));
        if (b >= 0) {
          bytes.push_back(static_cast<char>(b));
        } else {
          flush_bytes(&bytes, out);
          out.push(in.at(i));
        }
      }
      flush_bytes(&bytes, out);
      break;
    }
    case HfDecoderStep::kFuse:
      out.buf.swap(in.buf);
      out.end.assign(1, static_cast<uint32_t>(out.buf.size()));
      break;
    case HfDecoderStep::kStrip:
      for (size_t i = 0; i < in.size(); ++i) {
        std::string_view t = in.at(i), c = st.content;
        for (uint32_t k = 0; k < st.start && t.substr(0, c.size()) == c; ++k) t.remove_prefix(c.size());
        for (uint32_t k = 0; k < st.stop && t.size() >= c.size() && t.substr(t.size() - c.size()) == c; ++k)
          t.remove_suffix(c.size());
        out.push(t);
      }
      break;
    case HfDecoderStep::kMetaspace:
      for (size_t i = 0; i < in.size(); ++i) {
        metaspace_token(st, in.at(i), i == 0, &out.buf);
        out.end.push_back(static_cast<uint32_t>(out.buf.size()));
      }
      break;
    case HfDecoderStep::kByteLevel: {
      std::string bytes;
      for (size_t i = 0; i < in.size(); ++i) byte_level_token(in.at(i), &bytes);
      out.push(utf8_valid(bytes) ? bytes : utf8_lossy(bytes));
      break;
    }
  }
  return Status::ok();
}

// Token strings of the ids (with the pre-applied steps), running a first ByteFallback, ByteLevel
// or Metaspace step from the tables made at load, and a Fuse right after ByteFallback by writing
// one string. Returns how many steps that covered.
size_t HfDecoder::first_tokens(const uint32_t* ids, size_t n, bool skip_special, TokList& a) const {
  const HfDecoderStep::Kind first = steps_.empty() ? HfDecoderStep::kFuse : steps_[0].kind;
  const bool fuse = first == HfDecoderStep::kByteFallback && steps_.size() > 1 && steps_[1].kind == HfDecoderStep::kFuse;
  std::string bytes;
  bool first_token = true;
  if (fuse) {  // the hot path of SentencePiece-style files: one string, one table test per id
    for (size_t i = 0; i < n; ++i) {
      const uint32_t id = ids[i];
      if (!known_[id] || (skip_special && skip_[id])) continue;  // the library drops both
      if (byte_[id] >= 0) {
        bytes.push_back(static_cast<char>(byte_[id]));
        continue;
      }
      if (!bytes.empty()) flush_bytes(&bytes, a);
      a.buf.append(piece_[id]);
    }
    flush_bytes(&bytes, a);
    a.end.assign(1, static_cast<uint32_t>(a.buf.size()));
    return 2;
  }
  for (size_t i = 0; i < n; ++i) {
    const uint32_t id = ids[i];
    if (!known_[id] || (skip_special && skip_[id])) continue;  // the library drops both
    if (first == HfDecoderStep::kByteFallback) {
      if (byte_[id] >= 0) {
        bytes.push_back(static_cast<char>(byte_[id]));
        continue;
      }
      flush_bytes(&bytes, a);
      a.push(piece_[id]);
    } else if (first == HfDecoderStep::kByteLevel) {
      a.buf.append(first_step_[id]);  // the step fuses its tokens into one
    } else if (first == HfDecoderStep::kMetaspace) {
      if (first_token) {
        metaspace_token(steps_[0], piece_[id], true, &a.buf);
        a.end.push_back(static_cast<uint32_t>(a.buf.size()));
      } else {
        a.push(first_step_[id]);
      }
    } else {
      a.push(piece_[id]);
    }
    first_token = false;
  }
  if (first == HfDecoderStep::kByteFallback) {
    flush_bytes(&bytes, a);
    return 1;
  }
  if (first == HfDecoderStep::kByteLevel) {
    if (!utf8_valid(a.buf)) a.buf = utf8_lossy(a.buf);
    a.end.assign(1, static_cast<uint32_t>(a.buf.size()));
    return 1;
  }
  return first == HfDecoderStep::kMetaspace ? 1 : 0;
}

Result<std::string> HfDecoder::decode(const uint32_t* ids, size_t n, bool skip_special) const {
  if (!unsupported_.empty()) return Status(ErrorCode::kUnsupported, "cannot decode: " + unsupported_);
  for (size_t i = 0; i < n; ++i)
    if (ids[i] >= known_.size())
      return make_error(ErrorCode::kInvalidArgument, "token id {} is outside the vocabulary (size {})", ids[i],
                        known_.size());
  TokList a, b;
  a.buf.reserve(n * 4);
  if (!has_decoder_) {  // the library joins the token strings with spaces
    first_tokens(ids, n, skip_special, a);
    std::string out;
    out.reserve(a.buf.size() + a.size());
    for (size_t i = 0; i < a.size(); ++i) out.append(i ? " " : "").append(a.at(i));
    return out;
  }
  for (size_t k = first_tokens(ids, n, skip_special, a); k < steps_.size(); ++k) {
    LONGCTX_RETURN_IF_ERROR(run_step(steps_[k], matchers_[k].get(), a, b));
    std::swap(a, b);
  }
  return std::move(a.buf);  // the concatenation of the remaining tokens
}

}  // namespace longctx::tok_detail
