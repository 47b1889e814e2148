#include "tokenizer/hf_bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>
#include <queue>
#include <unordered_map>

#include "core/file_io.h"
#include "core/hash.h"
#include "tokenizer/flat_map.h"

namespace longctx {

using tok_detail::hash_bytes;
using tok_detail::StringIdsCache;
using tok_detail::U64Map;

namespace {

constexpr int32_t kNoMerge = INT32_MAX;
constexpr size_t kCacheMaxKeyBytes = 128;
constexpr size_t kCacheMaxEntries = 1 << 18;  // per thread, about 17 MB (see fast_spm_bpe.cc)
// GPT-2's pattern, used by ByteLevel when use_regex is true.
constexpr char kGpt2Pattern[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Unicode White_Space (what Oniguruma's \s matches), as PCRE2 class contents.
constexpr char kWhiteSpaceClass[] = R"(\t\n\x0B\f\r\x20\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

// Rewrites \s and \S (outside classes) and \s (inside classes) to Unicode White_Space.
Result<std::string> rewrite_whitespace(const std::string& pat) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pat.size(); ++i) {
    char c = pat[i];
    if (c == '\\' && i + 1 < pat.size()) {
      char e = pat[i + 1];
      if (e == 's') {
        out += in_class ? std::string(kWhiteSpaceClass) : "[" + std::string(kWhiteSpaceClass) + "]";
      } else if (e == 'S') {
        if (in_class) return make_error(ErrorCode::kUnsupported, "\\S inside a character class in pattern '{}'", pat);
        out += "[^" + std::string(kWhiteSpaceClass) + "]";
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

// GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to U+0100.. in byte order.
void byte_level_alphabet(uint32_t cps[256]) {
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    cps[b] = printable ? b : next++;
  }
}

void append_utf8(std::string* s, uint32_t cp) {
  if (cp < 0x80) {
    s->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    s->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

std::atomic<uint64_t> g_hf_serial{1};

struct AddedToken {
  std::string content;
  uint32_t id;
};

struct HeapEntry {
  int32_t rank;
  uint32_t left, right;
  int32_t lid, rid, merged;
};
struct HeapWorse {
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

struct HfScratch {
  uint64_t serial = 0;
  StringIdsCache cache;
  std::vector<uint32_t> piece_ids;
  std::vector<int32_t> id, prev, next;
  std::vector<uint8_t> alive;
  std::string prefixed;
  pcre2_match_data* md = nullptr;
  const pcre2_code* md_code = nullptr;
  ~HfScratch() {
    if (md) pcre2_match_data_free(md);
  }
};

class HfBpeTokenizer : public Tokenizer {
 public:
  ~HfBpeTokenizer() override {
    if (re_) pcre2_code_free(re_);
  }

  static Result<std::unique_ptr<Tokenizer>> load(const std::string& path) {
    LONGCTX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
    nlohmann::json j = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
      return make_error(ErrorCode::kCorrupt, "'{}': not a JSON object", path);
    auto t = std::unique_ptr<HfBpeTokenizer>(new HfBpeTokenizer());
    t->checksum_ = xxh64(bytes);
    t->serial_ = g_hf_serial.fetch_add(1);
    Status st = t->init(j);
    if (!st.is_ok()) return st.with_context(path);
    return std::unique_ptr<Tokenizer>(std::move(t));
  }

  Status encode(std::string_view text, std::vector<uint32_t>* ids) const override {
    HfScratch& s = scratch();
    return split_added(added_raw_, raw_by_first_, text, ids, [&](std::string_view a) {
      std::string normalized;
      if (nfc_) {
        UErrorCode err = U_ZERO_ERROR;
        icu::StringByteSink<std::string> sink(&normalized, static_cast<int32_t>(a.size()));
        nfc_->normalizeUTF8(0, icu::StringPiece(a.data(), static_cast<int32_t>(a.size())), sink, nullptr, err);
        if (U_FAILURE(err)) return make_error(ErrorCode::kInternal, "NFC normalisation failed: {}", u_errorName(err));
        a = normalized;
      }
      return split_added(added_norm_, norm_by_first_, a, ids,
                         [&](std::string_view b) { return encode_stretch(b, s, ids); });
    });
  }

  Result<std::string> decode(std::span<const uint32_t> ids) const override {
    std::string out;
    for (uint32_t id : ids) {
      if (id >= id_to_token_.size() || (id_to_token_[id].empty() && !is_added_[id]))
        return make_error(ErrorCode::kInvalidArgument, "token id {} is not in the vocabulary", id);
      if (is_added_[id]) {
        out += id_to_token_[id];
        continue;
      }
      const std::string& tok = id_to_token_[id];
      const auto* p = reinterpret_cast<const unsigned char*>(tok.data());
      for (size_t i = 0; i < tok.size();) {
        uint32_t cp;
        if (p[i] < 0x80) {
          cp = p[i++];
        } else if ((p[i] & 0xe0) == 0xc0 && i + 1 < tok.size()) {
          cp = ((p[i] & 0x1fu) << 6) | (p[i + 1] & 0x3fu);
          i += 2;
        } else {
          return make_error(ErrorCode::kCorrupt, "token {} '{}' is not in the byte-level alphabet", id, tok);
        }
        auto it = cp_to_byte_.find(cp);
        if (it == cp_to_byte_.end())
          return make_error(ErrorCode::kCorrupt, "token {} '{}' is not in the byte-level alphabet", id, tok);
        out.push_back(static_cast<char>(it->second));
      }
    }
    return out;
  }
  uint32_t vocab_size() const override { return static_cast<uint32_t>(id_to_token_.size()); }
  int32_t bos_id() const override { return -1; }
  int32_t eos_id() const override { return -1; }
  int32_t unk_id() const override { return unk_id_; }
  int32_t pad_id() const override { return -1; }
  std::string id_to_piece(uint32_t id) const override { return id < id_to_token_.size() ? id_to_token_[id] : ""; }
  std::string impl_name() const override { return "hf-bpe"; }
  uint64_t model_checksum() const override { return checksum_; }

 private:
  HfBpeTokenizer() = default;

  Status init(const nlohmann::json& j) {
    auto unsupported = [](const std::string& why) {
      return Status(ErrorCode::kUnsupported, "Hugging Face tokenizer not supported: " + why);
    };
    if (j.contains("normalizer") && !j["normalizer"].is_null()) {
      std::string type = j["normalizer"].value("type", std::string("?"));
      if (type != "NFC") return unsupported("normalizer " + type + " (NFC and none are implemented)");
      UErrorCode err = U_ZERO_ERROR;
      nfc_ = icu::Normalizer2::getNFCInstance(err);
      if (U_FAILURE(err) || !nfc_) return make_error(ErrorCode::kInternal, "ICU NFC normalizer unavailable: {}", u_errorName(err));
    }
    const auto& model = j.value("model", nlohmann::json());
    if (!model.is_object() || model.value("type", std::string("BPE")) != "BPE")
      return unsupported("model type is not BPE");
    if (model.contains("dropout") && !model["dropout"].is_null()) return unsupported("BPE dropout");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (model.contains(k) && model[k].is_string() && !model[k].get<std::string>().empty())
        return unsupported(std::string(k));
    if (model.value("byte_fallback", false)) return unsupported("byte_fallback");
    ignore_merges_ = model.value("ignore_merges", false);
    fuse_unk_ = model.value("fuse_unk", false);

    // Pre-tokenizer: ByteLevel(use_regex) or Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)].
    const auto& pt = j.value("pre_tokenizer", nlohmann::json());
    std::string pattern;
    const nlohmann::json* byte_level = nullptr;
    if (pt.is_object() && pt.value("type", "") == "ByteLevel") {
      byte_level = &pt;
      if (!pt.value("use_regex", true)) return unsupported("ByteLevel without a split regex");
      pattern = kGpt2Pattern;
    } else if (pt.is_object() && pt.value("type", "") == "Sequence" && pt.contains("pretokenizers") &&
               pt["pretokenizers"].size() == 2) {
      const auto& sp = pt["pretokenizers"][0];
      const auto& bl = pt["pretokenizers"][1];
      if (sp.value("type", "") != "Split" || !sp.contains("pattern") || !sp["pattern"].contains("Regex") ||
          sp.value("behavior", "") != "Isolated" || sp.value("invert", false))
        return unsupported("pre-tokenizer Sequence other than [Split(Regex, Isolated), ByteLevel]");
      if (bl.value("type", "") != "ByteLevel" || bl.value("use_regex", true))
        return unsupported("pre-tokenizer Sequence other than [Split(Regex, Isolated), ByteLevel(use_regex=false)]");
      pattern = sp["pattern"]["Regex"].get<std::string>();
      byte_level = &bl;
    } else {
      return unsupported("pre-tokenizer is not byte-level");
    }
    add_prefix_space_ = byte_level->value("add_prefix_space", false);
    if (add_prefix_space_ && pt.value("type", "") == "Sequence")
      return unsupported("add_prefix_space after a Split pre-tokenizer");
    LONGCTX_ASSIGN_OR_RETURN(std::string rewritten, rewrite_whitespace(pattern));
    int err = 0;
    PCRE2_SIZE erroff = 0;
    re_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.c_str()), rewritten.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &erroff, nullptr);
    if (!re_) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      return make_error(ErrorCode::kUnsupported, "split pattern '{}' does not compile in PCRE2 at {}: {}", pattern,
                        erroff, reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(re_, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable

    // Vocabulary and merges.
    const auto& vocab = model.value("vocab", nlohmann::json());
    if (!vocab.is_object()) return make_error(ErrorCode::kCorrupt, "model.vocab is not an object");
    std::unordered_map<std::string, uint32_t> tok_id;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      uint32_t id = it.value().get<uint32_t>();
      tok_id[it.key()] = id;
      if (id >= id_to_token_.size()) id_to_token_.resize(id + 1);
      id_to_token_[id] = it.key();
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      auto it = tok_id.find(model["unk_token"].get<std::string>());
      if (it == tok_id.end()) return make_error(ErrorCode::kCorrupt, "unk_token is not in the vocabulary");
      unk_id_ = static_cast<int32_t>(it->second);
    }
    uint32_t* cps = byte_cp_;
    byte_level_alphabet(cps);
    for (int b = 0; b < 256; ++b) {
      std::string ch;
      append_utf8(&ch, cps[b]);
      cp_to_byte_[cps[b]] = static_cast<uint8_t>(b);
      auto it = tok_id.find(ch);
      byte_sym_[b] = it == tok_id.end() ? -1 : static_cast<int32_t>(it->second);
    }
    const auto& merges = model.value("merges", nlohmann::json::array());
    int32_t rank = 0;
    for (const auto& m : merges) {
      std::string a, b;
      if (m.is_string()) {
        std::string line = m.get<std::string>();
        size_t sp = line.find(' ');
        if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
          return make_error(ErrorCode::kCorrupt, "merge {} '{}' is not 'A B'", rank, line);
        a = line.substr(0, sp);
        b = line.substr(sp + 1);
      } else if (m.is_array() && m.size() == 2) {
        a = m[0].get<std::string>();
        b = m[1].get<std::string>();
      } else {
        return make_error(ErrorCode::kCorrupt, "merge {} is neither 'A B' nor [A, B]", rank);
      }
      auto ia = tok_id.find(a), ib = tok_id.find(b), im = tok_id.find(a + b);
      if (ia == tok_id.end() || ib == tok_id.end() || im == tok_id.end())
        return make_error(ErrorCode::kCorrupt, "merge {} '{} {}' uses a token missing from the vocabulary", rank, a, b);
      uint64_t key = (uint64_t{ia->second} << 32) | ib->second;
      if (!merges_.find(key)) merges_.insert(key, (uint64_t{im->second} << 32) | static_cast<uint32_t>(rank));
      ++rank;
    }
    vocab_ = std::move(tok_id);

    // Added tokens.
    // Added tokens. The library re-assigns their ids on load (the ids in the file only trigger a
    // warning when they differ): a content that is a vocabulary token keeps that id, otherwise
    // max(vocabulary entry count, largest added id so far + 1).
    const uint32_t model_size = static_cast<uint32_t>(vocab_.size());
    std::unordered_map<std::string, uint32_t> added_ids;
    int64_t max_added = -1;
    for (const auto& at : j.value("added_tokens", nlohmann::json::array())) {
      std::string content = at.value("content", std::string());
      if (at.value("lstrip", false) || at.value("rstrip", false) || at.value("single_word", false))
        return unsupported("added token '" + content + "' with lstrip/rstrip/single_word");
      if (content.empty() || added_ids.count(content)) continue;
      uint32_t id;
      auto in_vocab = vocab_.find(content);
      if (in_vocab != vocab_.end()) {
        id = in_vocab->second;
      } else if (max_added < 0) {
        id = model_size;
      } else {
        id = (max_added >= model_size || model_size == 0) ? static_cast<uint32_t>(max_added + 1) : model_size;
      }
      added_ids[content] = id;
      max_added = std::max<int64_t>(max_added, id);
      if (id >= id_to_token_.size()) id_to_token_.resize(id + 1);
      id_to_token_[id] = content;
      // Tokens with normalized=false are matched on the raw text first, the others inside what is left.
      bool normalized = at.value("normalized", !at.value("special", false));  // the library's default
      (normalized ? added_norm_ : added_raw_).push_back(AddedToken{content, id});
    }
    is_added_.assign(id_to_token_.size(), 0);
    for (const auto* set : {&added_raw_, &added_norm_}) {
      for (const auto& a : *set) is_added_[a.id] = 1;
    }
    index_added(added_raw_, &raw_by_first_);
    index_added(added_norm_, &norm_by_first_);
    return Status::ok();
  }

  static void index_added(const std::vector<AddedToken>& set, std::vector<std::vector<size_t>>* by_first) {
    by_first->assign(256, {});
    for (size_t k = 0; k < set.size(); ++k) (*by_first)[static_cast<unsigned char>(set[k].content[0])].push_back(k);
    for (auto& v : *by_first)
      std::stable_sort(v.begin(), v.end(),
                       [&](size_t x, size_t y) { return set[x].content.size() > set[y].content.size(); });
  }

  HfScratch& scratch() const {
    thread_local HfScratch s;
    if (s.serial != serial_ || s.cache.size() > kCacheMaxEntries) {
      s.cache.reset(1 << 16);
      s.serial = serial_;
    }
    if (s.md_code != re_) {
      if (s.md) pcre2_match_data_free(s.md);
      s.md = pcre2_match_data_create_from_pattern(re_, nullptr);
      s.md_code = re_;
    }
    return s;
  }

  // Leftmost-longest token of `set` at or after pos; *len = 0 when none.
  static void find_added(const std::vector<AddedToken>& set, const std::vector<std::vector<size_t>>& by_first,
                         std::string_view text, size_t pos, size_t* at, size_t* len, uint32_t* id) {
    *at = text.size();
    *len = 0;
    if (set.empty()) return;
    for (size_t i = pos; i < text.size(); ++i) {
      for (size_t k : by_first[static_cast<unsigned char>(text[i])]) {
        const std::string& c = set[k].content;
        if (c.size() <= text.size() - i && std::memcmp(c.data(), text.data() + i, c.size()) == 0) {
          *at = i;
          *len = c.size();
          *id = set[k].id;
          return;
        }
      }
    }
  }

  // Splits text at the tokens of one added-token set; gaps go to `gap`.
  template <typename Gap>
  Status split_added(const std::vector<AddedToken>& set, const std::vector<std::vector<size_t>>& by_first,
                     std::string_view text, std::vector<uint32_t>* ids, Gap&& gap) const {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t at = 0, len = 0;
      uint32_t aid = 0;
      find_added(set, by_first, text, pos, &at, &len, &aid);
      if (at > pos) LONGCTX_RETURN_IF_ERROR(gap(text.substr(pos, at - pos)));
      if (len == 0) break;
      ids->push_back(aid);
      pos = at + len;
    }
    return Status::ok();
  }

  Status encode_stretch(std::string_view text, HfScratch& s, std::vector<uint32_t>* ids) const {
    if (add_prefix_space_ && text[0] != ' ') {
      s.prefixed.assign(" ");
      s.prefixed.append(text);
      text = s.prefixed;
    }
    const auto* subj = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
      int rc = pcre2_match(re_, subj, text.size(), pos, 0, s.md, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) {
        encode_piece(text.substr(pos), s, ids);
        break;
      }
      if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return make_error(ErrorCode::kInternal, "split regex failed at byte {}: {}", pos,
                          reinterpret_cast<const char*>(msg));
      }
      PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.md);
      size_t a = ov[0], b = ov[1];
      if (a > pos) encode_piece(text.substr(pos, a - pos), s, ids);  // Isolated: the gap is a piece
      if (b > a) {
        encode_piece(text.substr(a, b - a), s, ids);
        pos = b;
      } else {
        // Empty match: the library skips it; advance one character.
        size_t step = 1;
        while (a + step < text.size() && (static_cast<unsigned char>(text[a + step]) & 0xc0) == 0x80) ++step;
        encode_piece(text.substr(a, step), s, ids);
        pos = a + step;
      }
    }
    return Status::ok();
  }

  void encode_piece(std::string_view w, HfScratch& s, std::vector<uint32_t>* ids) const {
    if (w.empty()) return;
    uint64_t h = 0;
    if (w.size() <= kCacheMaxKeyBytes) {
      h = hash_bytes(w.data(), w.size());
      const uint32_t* cached = nullptr;
      uint32_t n = 0;
      if (s.cache.find(w, h, &cached, &n)) {
        ids->insert(ids->end(), cached, cached + n);
        return;
      }
    }
    s.piece_ids.clear();
    bpe(w, s, &s.piece_ids);
    if (w.size() <= kCacheMaxKeyBytes && s.cache.size() >= kCacheMaxEntries) s.cache.reset(1 << 16);
    if (w.size() <= kCacheMaxKeyBytes) s.cache.insert(w, h, s.piece_ids.data(), static_cast<uint32_t>(s.piece_ids.size()));
    ids->insert(ids->end(), s.piece_ids.begin(), s.piece_ids.end());
  }

  // BPE over the bytes of w (byte-level symbols). Lowest rank first, ties leftmost.
  void bpe(std::string_view w, HfScratch& s, std::vector<uint32_t>* out) const {
    if (ignore_merges_) {
      std::string mapped;
      for (unsigned char c : w) append_utf8(&mapped, byte_cp(c));
      auto it = vocab_.find(mapped);
      if (it != vocab_.end()) {
        out->push_back(it->second);
        return;
      }
    }
    // Initial symbols, as the library builds them: a byte whose character is not in the vocabulary
    // becomes unk (consecutive ones fused with fuse_unk) or, without an unk token, is dropped, so its
    // neighbours become adjacent.
    s.id.clear();
    bool last_unk = false;
    for (unsigned char c : w) {
      int32_t sym = byte_sym_[c];
      if (sym < 0) {
        if (unk_id_ < 0 || (fuse_unk_ && last_unk)) continue;
        sym = unk_id_;
        last_unk = true;
      } else {
        last_unk = false;
      }
      s.id.push_back(sym);
    }
    const size_t n = s.id.size();
    s.prev.resize(n);
    s.next.resize(n);
    s.alive.assign(n, 1);
    for (size_t k = 0; k < n; ++k) {
      s.prev[k] = static_cast<int32_t>(k) - 1;
      s.next[k] = k + 1 < n ? static_cast<int32_t>(k + 1) : -1;
    }
    std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapWorse> heap;
    auto add = [&](int32_t l, int32_t r) {
      if (l < 0 || r < 0) return;
      const uint64_t* v = merges_.find((uint64_t{static_cast<uint32_t>(s.id[l])} << 32) | static_cast<uint32_t>(s.id[r]));
      if (!v) return;
      heap.push(HeapEntry{static_cast<int32_t>(*v & 0xffffffffu), static_cast<uint32_t>(l), static_cast<uint32_t>(r),
                          s.id[l], s.id[r], static_cast<int32_t>(*v >> 32)});
    };
    for (size_t k = 1; k < n; ++k) add(static_cast<int32_t>(k - 1), static_cast<int32_t>(k));
    while (!heap.empty()) {
      HeapEntry e = heap.top();
      heap.pop();
      if (!s.alive[e.left] || !s.alive[e.right] || s.next[e.left] != static_cast<int32_t>(e.right) ||
          s.id[e.left] != e.lid || s.id[e.right] != e.rid)
        continue;
      s.id[e.left] = e.merged;
      s.alive[e.right] = 0;
      int32_t nn = s.next[e.right];
      s.next[e.left] = nn;
      if (nn >= 0) s.prev[nn] = static_cast<int32_t>(e.left);
      add(s.prev[e.left], static_cast<int32_t>(e.left));
      add(static_cast<int32_t>(e.left), nn);
    }
    for (int32_t k = n ? 0 : -1; k >= 0; k = s.next[k]) out->push_back(static_cast<uint32_t>(s.id[k]));
  }

  uint32_t byte_cp(unsigned char b) const { return byte_cp_[b]; }

  pcre2_code* re_ = nullptr;
  const icu::Normalizer2* nfc_ = nullptr;  // NFC normalizer (Qwen family), else none
  bool add_prefix_space_ = false, ignore_merges_ = false, fuse_unk_ = false;
  int32_t unk_id_ = -1;
  int32_t byte_sym_[256];   // vocabulary id of each byte's byte-level character, -1 if missing
  uint32_t byte_cp_[256];   // byte -> byte-level codepoint
  std::unordered_map<uint32_t, uint8_t> cp_to_byte_;
  std::unordered_map<std::string, uint32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<uint8_t> is_added_;
  U64Map merges_;
  std::vector<AddedToken> added_raw_, added_norm_;  // normalized=false / true
  std::vector<std::vector<size_t>> raw_by_first_, norm_by_first_;  // [first byte] -> indices, longest first
  uint64_t checksum_ = 0, serial_ = 0;
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_hf_bpe_tokenizer(const std::string& path) { return HfBpeTokenizer::load(path); }

}  // namespace longctx
