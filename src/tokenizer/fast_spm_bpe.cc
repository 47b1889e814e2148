#include "tokenizer/fast_spm_bpe.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <queue>
#include <unordered_map>

#include "tokenizer/bpe_scan.h"
#include "tokenizer/flat_map.h"
#include "tokenizer/utf8_detail.h"

namespace longctx {

using tok_detail::hash_bytes;
using tok_detail::StringIdsCache;
using tok_detail::U64Map;

namespace {

constexpr uint32_t kSpaceSymbolCp = 0x2581;  // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space
constexpr char kSpaceSymbol[] = "\xe2\x96\x81";
constexpr char kReplacementChar[] = "\xef\xbf\xbd";  // U+FFFD, what the normaliser puts for a bad byte
constexpr int kSmall = 129;                           // bitmap index: ASCII 0..127, U+2581 -> 128
using tok_detail::kNoMerge;
constexpr size_t kScanMaxSymbols = 48;      // stretches up to this many symbols use the array scan
constexpr size_t kCacheMaxKeyBytes = 128;   // longer stretches are not cached
// Per-thread cache bound: about 17 MB at 2^18 entries (slots 12.6 MB + keys + ids), so many
// tokenizer threads stay well under the tokenize stage's memory budget; reset when full.
constexpr size_t kCacheMaxEntries = 1 << 18;
constexpr size_t kKeepScratchBytes = 64 << 20;  // larger normalisation buffers are released after use

// SentencePiece's OneCharLen, DecodeUTF8 and validity rule (utf8_detail.h).
inline int one_char_len(unsigned char c) { return tok_detail::utf8_char_len(c); }
inline uint32_t decode_valid(const unsigned char* p, int len) { return tok_detail::utf8_decode_valid(p, len); }
inline int valid_utf8_len(const unsigned char* p, size_t n) { return tok_detail::spm_valid_utf8_len(p, n); }

// Copies the UTF-8 character at p[*i] to *w, or U+FFFD for an invalid byte (as the library does),
// advancing both.
inline void copy_utf8_char(const unsigned char* p, size_t n, size_t* i, char** w) {
  int len = valid_utf8_len(p + *i, n - *i);
  if (len == 0) {
    std::memcpy(*w, kReplacementChar, 3);
    *w += 3;
    ++*i;
  } else {
    std::memcpy(*w, p + *i, len);
    *w += len;
    *i += len;
  }
}

inline int small_index(uint32_t cp) { return cp < 128 ? static_cast<int>(cp) : cp == kSpaceSymbolCp ? 128 : -1; }
inline uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

std::atomic<uint64_t> g_next_serial{1};

}  // namespace

struct FastSpmBpeModel {
  int32_t unk_id = -1;
  bool byte_fallback = false;
  bool add_dummy_prefix = true, remove_extra_whitespaces = false, escape_whitespaces = true;
  std::vector<int32_t> rank;          // [vocab] merge priority of a piece (0 = merged first); ties share a rank
  int32_t ascii_sym[128];             // piece id of each ASCII character, -1 if not a piece
  U64Map char_sym;                    // codepoint -> piece id, for characters >= U+0080
  U64Map merges;                      // pair_key(left id, right id) -> (merged id << 32) | rank
  uint64_t pair_small[(kSmall * kSmall + 63) / 64] = {};  // chars (a,b) adjacent inside some piece
  U64Map pair_big;                    // the same for pairs not both in the small index
  uint32_t byte_ids[256];             // id of <0xXX> (unk when missing)
  // User-defined symbols, matched longest-first at each position and never merged.
  std::vector<std::vector<std::pair<std::string, int32_t>>> user_by_first_byte;  // [256]
  bool has_user = false;
  // Precompiled normalisation map (nmt_nfkc, nmt_nfkc_cf, ...): a darts-clone double-array trie over
  // input bytes whose leaf values are offsets of NUL-terminated replacements in `charsmap_text`.
  std::vector<uint32_t> trie;
  std::string charsmap_text;
  bool general_normalizer = false;  // the library's unit-by-unit loop instead of the identity fast path

  int32_t char_to_sym(uint32_t cp) const {
    if (cp < 128) return ascii_sym[cp];
    const uint64_t* v = char_sym.find(cp);
    return v ? static_cast<int32_t>(*v) : -1;
  }
  bool can_join(uint32_t a, uint32_t b) const {
    int ia = small_index(a), ib = small_index(b);
    if (ia >= 0 && ib >= 0) {
      size_t bit = static_cast<size_t>(ia) * kSmall + ib;
      return (pair_small[bit >> 6] >> (bit & 63)) & 1;
    }
    return pair_big.find(pair_key(a, b)) != nullptr;
  }
  // (merged id, rank) of merging left and right, rank kNoMerge when no piece.
  inline void merge_of(int32_t l, int32_t r, int32_t* merged, int32_t* rk) const {
    if (l < 0 || r < 0) {
      *rk = kNoMerge;
      return;
    }
    const uint64_t* v = merges.find(pair_key(static_cast<uint32_t>(l), static_cast<uint32_t>(r)));
    if (!v) {
      *rk = kNoMerge;
      return;
    }
    *merged = static_cast<int32_t>(*v >> 32);
    *rk = static_cast<int32_t>(*v & 0xffffffffu);
  }
  // Longest user-defined symbol at p; returns its byte length (0 if none) and id.
  size_t match_user(const char* p, size_t n, int32_t* id) const {
    for (const auto& [s, sid] : user_by_first_byte[static_cast<unsigned char>(p[0])])
      if (s.size() <= n && std::memcmp(s.data(), p, s.size()) == 0) {
        *id = sid;
        return s.size();
      }
    return 0;
  }
};

namespace {

// Darts-clone unit fields.
inline bool unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
inline uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }
inline uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xffu); }
inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

// The library's Normalizer::NormalizePrefix: the normalised form of the longest prefix of `in` that
// has a rule (user-defined symbols pass unchanged; else the longest charsmap rule; else one UTF-8
// character, or U+FFFD for one invalid byte). Returns the number of input bytes consumed.
size_t normalize_prefix(const FastSpmBpeModel& m, std::string_view in, std::string_view* out) {
  if (m.has_user) {
    int32_t id = -1;
    size_t l = m.match_user(in.data(), in.size(), &id);
    if (l) {
      *out = in.substr(0, l);
      return l;
    }
  }
  size_t best_len = 0;
  uint32_t best_value = 0;
  if (!m.trie.empty()) {
    const size_t size = m.trie.size();
    size_t pos = unit_offset(m.trie[0]);
    for (size_t k = 0; k < in.size(); ++k) {
      const auto c = static_cast<unsigned char>(in[k]);
      pos ^= c;
      if (pos >= size) break;
      uint32_t u = m.trie[pos];
      if (unit_label(u) != c) break;
      pos ^= unit_offset(u);
      if (pos >= size) break;
      if (unit_has_leaf(u)) {
        best_len = k + 1;
        best_value = unit_value(m.trie[pos]);
      }
    }
  }
  if (best_len > 0 && best_value < m.charsmap_text.size()) {
    const char* r = m.charsmap_text.data() + best_value;
    *out = std::string_view(r, strnlen(r, m.charsmap_text.size() - best_value));
    return best_len;
  }
  int len = valid_utf8_len(reinterpret_cast<const unsigned char*>(in.data()), in.size());
  if (len == 0) {
    *out = std::string_view(kReplacementChar, 3);
    return 1;
  }
  *out = in.substr(0, len);
  return static_cast<size_t>(len);
}

// Normalizer::Normalize for models with a charsmap: the library's loop, unit by unit.
void normalize_general(const FastSpmBpeModel& m, std::string_view in, std::string* out) {
  out->clear();
  const std::string_view space = m.escape_whitespaces ? std::string_view(kSpaceSymbol, 3) : std::string_view(" ");
  std::string_view sp;
  if (m.remove_extra_whitespaces) {
    while (!in.empty()) {
      size_t used = normalize_prefix(m, in, &sp);
      if (sp != " ") break;
      in.remove_prefix(used);
    }
  }
  if (in.empty()) return;
  if (m.add_dummy_prefix) out->append(space);
  bool prev_space = m.remove_extra_whitespaces;
  while (!in.empty()) {
    size_t used = normalize_prefix(m, in, &sp);
    if (prev_space && m.remove_extra_whitespaces)
      while (!sp.empty() && sp[0] == ' ') sp.remove_prefix(1);
    if (!sp.empty()) {
      for (char c : sp) {
        if (m.escape_whitespaces && c == ' ') {
          out->append(space);
        } else {
          out->push_back(c);
        }
      }
      prev_space = sp.back() == ' ';
    }
    in.remove_prefix(used);
    if (!m.remove_extra_whitespaces) prev_space = false;
  }
  if (m.remove_extra_whitespaces)
    while (out->size() >= space.size() && std::string_view(*out).substr(out->size() - space.size()) == space)
      out->resize(out->size() - space.size());
}

// Step 1 of the header: normalisation into *out. Identity models take the fast path below.
void normalize_into(const FastSpmBpeModel& m, std::string_view in, std::string* out) {
  if (m.general_normalizer) {
    normalize_general(m, in, out);
    return;
  }
  out->clear();
  size_t i = 0;
  const size_t n = in.size();
  if (m.remove_extra_whitespaces)
    while (i < n && in[i] == ' ') ++i;
  if (i >= n) return;
  out->resize(3 * (n - i) + 3);
  char* w = out->data();
  const char* sp = m.escape_whitespaces ? kSpaceSymbol : " ";
  const size_t sp_len = m.escape_whitespaces ? 3 : 1;
  if (m.add_dummy_prefix) {
    std::memcpy(w, sp, sp_len);
    w += sp_len;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  if (!m.remove_extra_whitespaces) {
    while (i < n) {
      unsigned char c = p[i];
      if (c == ' ') {
        std::memcpy(w, sp, sp_len);
        w += sp_len;
        ++i;
      } else if (c < 0x80) {
        *w++ = static_cast<char>(c);
        ++i;
      } else {
        copy_utf8_char(p, n, &i, &w);
      }
    }
  } else {
    bool prev_space = true;  // the library starts with is_prev_space = remove_extra_whitespaces
    while (i < n) {
      unsigned char c = p[i];
      if (c == ' ') {
        if (!prev_space) {
          std::memcpy(w, sp, sp_len);
          w += sp_len;
        }
        prev_space = true;
        ++i;
        continue;
      }
      prev_space = false;
      if (c < 0x80) {
        *w++ = static_cast<char>(c);
        ++i;
      } else {
        copy_utf8_char(p, n, &i, &w);
      }
    }
  }
  out->resize(static_cast<size_t>(w - out->data()));
  if (m.remove_extra_whitespaces)
    while (out->size() >= sp_len && std::memcmp(out->data() + out->size() - sp_len, sp, sp_len) == 0)
      out->resize(out->size() - sp_len);
}

// Appends ids, collapsing consecutive unk ids when the model has no byte fallback (the library
// merges runs of unknown pieces into one).
struct Emitter {
  const FastSpmBpeModel& m;
  std::vector<uint32_t>* ids;
  bool last_unk = false;
  void push(uint32_t id) {
    if (!m.byte_fallback && static_cast<int32_t>(id) == m.unk_id) {
      if (last_unk) return;
      last_unk = true;
    } else {
      last_unk = false;
    }
    ids->push_back(id);
  }
  void push_many(const uint32_t* p, uint32_t n) {
    if (m.byte_fallback) {
      ids->insert(ids->end(), p, p + n);
    } else {
      for (uint32_t k = 0; k < n; ++k) push(p[k]);
    }
  }
};

// Output ids of one final symbol: its piece id, or for an unknown symbol (sym < 0) the byte pieces
// of its bytes (byte fallback) or unk.
inline void symbol_ids(const FastSpmBpeModel& m, int32_t sym, const char* bytes, size_t len,
                       std::vector<uint32_t>* out) {
  if (sym >= 0) {
    out->push_back(static_cast<uint32_t>(sym));
  } else if (m.byte_fallback) {
    for (size_t k = 0; k < len; ++k) out->push_back(m.byte_ids[static_cast<unsigned char>(bytes[k])]);
  } else {
    out->push_back(static_cast<uint32_t>(m.unk_id));
  }
}

struct HeapEntry {
  int32_t rank;
  uint32_t left, right;
  int32_t lid, rid, merged;
};
struct HeapWorse {  // priority_queue's "less": a is popped after b
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Per-thread working memory and segment cache.
struct Scratch {
  uint64_t serial = 0;
  std::string norm;
  StringIdsCache cache;
  std::vector<uint32_t> seg_ids;
  // symbol arrays
  std::vector<int32_t> id, pr, mg;
  std::vector<uint32_t> start, len;
  std::vector<int32_t> prev, next;
  std::vector<uint8_t> frozen;
  std::vector<HeapEntry> heap;
};

Scratch& scratch_for(uint64_t serial) {
  thread_local Scratch s;
  if (s.serial != serial || s.cache.size() > kCacheMaxEntries) {
    s.cache.reset(1 << 16);
    s.serial = serial;
  }
  return s;
}

// Merge loop over symbols (id, start, len, frozen) of text `base` with a heap, in the library's order
// (highest score first, ties leftmost). Appends the final symbols' ids to *out.
void merge_heap(const FastSpmBpeModel& m, const char* base, Scratch& s, std::vector<uint32_t>* out) {
  const size_t n = s.id.size();
  s.prev.resize(n);
  s.next.resize(n);
  for (size_t k = 0; k < n; ++k) {
    s.prev[k] = static_cast<int32_t>(k) - 1;
    s.next[k] = k + 1 < n ? static_cast<int32_t>(k + 1) : -1;
  }
  s.heap.clear();
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapWorse> heap(HeapWorse{}, std::move(s.heap));
  auto add_pair = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0 || s.frozen[l] || s.frozen[r]) return;
    int32_t merged = 0, rk = kNoMerge;
    m.merge_of(s.id[l], s.id[r], &merged, &rk);
    if (rk == kNoMerge) return;
    heap.push(HeapEntry{rk, static_cast<uint32_t>(l), static_cast<uint32_t>(r), s.id[l], s.id[r], merged});
  };
  for (size_t k = 1; k < n; ++k) add_pair(static_cast<int32_t>(k - 1), static_cast<int32_t>(k));
  while (!heap.empty()) {
    HeapEntry e = heap.top();
    heap.pop();
    // Stale unless both symbols are alive, adjacent and unchanged since the entry was pushed.
    if (s.len[e.left] == 0 || s.len[e.right] == 0 || s.next[e.left] != static_cast<int32_t>(e.right) ||
        s.id[e.left] != e.lid || s.id[e.right] != e.rid)
      continue;
    s.id[e.left] = e.merged;
    s.len[e.left] += s.len[e.right];
    s.len[e.right] = 0;
    int32_t nn = s.next[e.right];
    s.next[e.left] = nn;
    if (nn >= 0) s.prev[nn] = static_cast<int32_t>(e.left);
    add_pair(s.prev[e.left], static_cast<int32_t>(e.left));
    add_pair(static_cast<int32_t>(e.left), nn);
  }
  for (int32_t k = n ? 0 : -1; k >= 0; k = s.next[k]) symbol_ids(m, s.id[k], base + s.start[k], s.len[k], out);
}

// Merge loop for short stretches: arrays in text order, pr[k] = rank of merging k and k+1; each
// round merges the first minimum (= highest score, leftmost).
void merge_scan(const FastSpmBpeModel& m, const char* base, Scratch& s, std::vector<uint32_t>* out) {
  uint32_t* start = s.start.data();
  uint32_t* len = s.len.data();
  s.pr.resize(s.id.size());
  s.mg.resize(s.id.size());
  size_t n = tok_detail::merge_scan_loop(
      s.id.data(), s.pr.data(), s.mg.data(), s.id.size(),
      [&](int32_t l, int32_t r, int32_t* merged, int32_t* rank) { m.merge_of(l, r, merged, rank); },
      [&](size_t best, size_t tail) {
        len[best] += len[best + 1];
        std::memmove(start + best + 1, start + best + 2, tail * sizeof(uint32_t));
        std::memmove(len + best + 1, len + best + 2, tail * sizeof(uint32_t));
      });
  for (size_t k = 0; k < n; ++k) symbol_ids(m, s.id[k], base + start[k], len[k], out);
}

// Ids of one stretch w (no user-defined symbols inside) appended to *out.
void encode_stretch(const FastSpmBpeModel& m, std::string_view w, Scratch& s, std::vector<uint32_t>* out) {
  s.id.clear();
  s.start.clear();
  s.len.clear();
  const auto* p = reinterpret_cast<const unsigned char*>(w.data());
  for (size_t i = 0; i < w.size();) {
    int l = one_char_len(p[i]);
    s.id.push_back(m.char_to_sym(decode_valid(p + i, l)));
    s.start.push_back(static_cast<uint32_t>(i));
    s.len.push_back(static_cast<uint32_t>(l));
    i += l;
  }
  if (s.id.size() <= kScanMaxSymbols) {
    merge_scan(m, w.data(), s, out);
  } else {
    s.frozen.assign(s.id.size(), 0);
    merge_heap(m, w.data(), s, out);
  }
}

}  // namespace

FastSpmBpe::~FastSpmBpe() = default;

Result<std::unique_ptr<FastSpmBpe>> FastSpmBpe::compile(const SpmModelProto& model) {
  auto unsupported = [](const std::string& why) {
    return Status(ErrorCode::kUnsupported, "fast SentencePiece encoder does not support this model: " + why);
  };
  if (model.model_type != SpmModelType::kBpe)
    return unsupported(fmt::format("model type {} is not BPE (2)", static_cast<int>(model.model_type)));
  if (model.treat_whitespace_as_suffix) return unsupported("treat_whitespace_as_suffix is set");

  auto m = std::make_unique<FastSpmBpeModel>();
  m->byte_fallback = model.byte_fallback;
  m->add_dummy_prefix = model.add_dummy_prefix;
  m->remove_extra_whitespaces = model.remove_extra_whitespaces;
  m->escape_whitespaces = model.escape_whitespaces;
  if (!model.precompiled_charsmap.empty()) {
    // [uint32 trie bytes][trie units][NUL-terminated replacement strings]
    const std::string& cm = model.precompiled_charsmap;
    uint32_t trie_bytes = 0;
    if (cm.size() >= 4) std::memcpy(&trie_bytes, cm.data(), 4);
    if (cm.size() < 4 || trie_bytes % 4 != 0 || trie_bytes == 0 || trie_bytes > cm.size() - 4)
      return make_error(ErrorCode::kCorrupt, "normalizer '{}': precompiled charsmap of {} bytes has a bad trie size {}",
                        model.normalizer_name, cm.size(), trie_bytes);
    m->trie.resize(trie_bytes / 4);
    std::memcpy(m->trie.data(), cm.data() + 4, trie_bytes);
    m->charsmap_text = cm.substr(4 + trie_bytes);
    m->general_normalizer = true;
  }

  // The library's two maps: pieces_ (NORMAL, USER_DEFINED, UNUSED: the merge vocabulary) and
  // reserved ids (CONTROL, UNKNOWN, BYTE), looked up first by PieceToId.
  std::unordered_map<std::string_view, int32_t> pieces, reserved;
  const size_t V = model.pieces.size();
  for (size_t i = 0; i < V; ++i) {
    const SpmPiece& sp = model.pieces[i];
    if (sp.piece.empty()) return make_error(ErrorCode::kCorrupt, "piece {} is empty", i);
    bool normal = sp.type == SpmPieceType::kNormal || sp.type == SpmPieceType::kUserDefined ||
                  sp.type == SpmPieceType::kUnused;
    if (!(normal ? pieces : reserved).emplace(sp.piece, static_cast<int32_t>(i)).second)
      return make_error(ErrorCode::kCorrupt, "piece '{}' (id {}) is defined twice", sp.piece, i);
    if (sp.type == SpmPieceType::kUnused)
      return unsupported(fmt::format("piece '{}' (id {}) is UNUSED (re-split with text-wide state)", sp.piece, i));
    if (sp.type == SpmPieceType::kUnknown) {
      if (m->unk_id >= 0) return make_error(ErrorCode::kCorrupt, "two unknown pieces (ids {} and {})", m->unk_id, i);
      m->unk_id = static_cast<int32_t>(i);
    }
    if (sp.type == SpmPieceType::kByte && !model.byte_fallback)
      return make_error(ErrorCode::kCorrupt, "byte piece '{}' found although byte_fallback is false", sp.piece);
    if (sp.type == SpmPieceType::kUserDefined) {
      if (m->user_by_first_byte.empty()) m->user_by_first_byte.resize(256);
      m->user_by_first_byte[static_cast<unsigned char>(sp.piece[0])].emplace_back(sp.piece, static_cast<int32_t>(i));
      m->has_user = true;
      // The normaliser passes such a symbol whole, so its spaces escape the extra-space removal.
      if (model.remove_extra_whitespaces && sp.piece.find(' ') != std::string::npos) m->general_normalizer = true;
    }
  }
  if (m->unk_id < 0) return make_error(ErrorCode::kCorrupt, "the model has no unknown piece");
  for (auto& v : m->user_by_first_byte)
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [s, id] : reserved) {
    if (pieces.count(s)) return unsupported(fmt::format("piece '{}' is both a normal and a reserved piece", s));
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    if (valid_utf8_len(p, s.size()) == static_cast<int>(s.size()))
      return unsupported(fmt::format("reserved piece '{}' (id {}) is a single character", s, id));
  }

  // Ranks: order of score, highest first; equal scores share a rank (the library breaks those ties
  // by position only).
  std::vector<float> scores;
  for (const auto& [s, id] : pieces) scores.push_back(model.pieces[id].score);
  std::sort(scores.begin(), scores.end(), std::greater<float>());
  scores.erase(std::unique(scores.begin(), scores.end()), scores.end());
  m->rank.assign(V, kNoMerge);
  for (const auto& [s, id] : pieces)
    m->rank[id] = static_cast<int32_t>(std::lower_bound(scores.begin(), scores.end(), model.pieces[id].score,
                                                        std::greater<float>()) -
                                       scores.begin());

  std::fill(std::begin(m->ascii_sym), std::end(m->ascii_sym), -1);
  std::vector<uint32_t> cps;
  std::vector<size_t> offs;
  for (const auto& [s, id] : pieces) {
    cps.clear();
    offs.clear();
    auto* p = reinterpret_cast<const unsigned char*>(s.data());
    bool valid = true;
    for (size_t i = 0; i < s.size();) {
      int l = valid_utf8_len(p + i, s.size() - i);
      if (l == 0) {
        valid = false;
        break;
      }
      offs.push_back(i);
      cps.push_back(decode_valid(p + i, l));
      i += l;
    }
    if (!valid) continue;  // normalised text is valid UTF-8: such a piece can never be formed
    if (cps.size() == 1) {
      if (cps[0] < 128) {
        m->ascii_sym[cps[0]] = id;
      } else {
        m->char_sym.insert(cps[0], static_cast<uint64_t>(id));
      }
      continue;
    }
    for (size_t k = 0; k + 1 < cps.size(); ++k) {
      int ia = small_index(cps[k]), ib = small_index(cps[k + 1]);
      if (ia >= 0 && ib >= 0) {
        size_t bit = static_cast<size_t>(ia) * kSmall + ib;
        m->pair_small[bit >> 6] |= uint64_t{1} << (bit & 63);
      } else {
        m->pair_big.insert(pair_key(cps[k], cps[k + 1]), 1);
      }
    }
    for (size_t k = 1; k < cps.size(); ++k) {
      std::string_view l = s.substr(0, offs[k]), r = s.substr(offs[k]);
      auto li = pieces.find(l), ri = pieces.find(r);
      if (li != pieces.end() && ri != pieces.end()) {
        m->merges.insert(pair_key(static_cast<uint32_t>(li->second), static_cast<uint32_t>(ri->second)),
                         (static_cast<uint64_t>(id) << 32) | static_cast<uint32_t>(m->rank[id]));
      } else {
        // A half that is a single character but not a piece would be an unknown initial symbol that
        // the library could still merge (it looks up the concatenated string); we keep unknown
        // symbols unmergeable, so refuse such vocabularies. User-defined pieces are exempt: no merge
        // can produce one, because a merged symbol starts where the symbol matcher found no
        // user-defined symbol, and it would have found this one there.
        bool l_char_unknown = k == 1 && li == pieces.end();
        bool r_char_unknown = k + 1 == cps.size() && ri == pieces.end();
        bool l_ok = li != pieces.end() || k == 1, r_ok = ri != pieces.end() || k + 1 == cps.size();
        if ((l_char_unknown || r_char_unknown) && l_ok && r_ok && model.pieces[id].type != SpmPieceType::kUserDefined)
          return unsupported(fmt::format("piece '{}' can be merged from a character that is not a piece", s));
      }
    }
  }
  // PieceToId order: reserved ids first, then pieces, else unk.
  for (int b = 0; b < 256; ++b) {
    std::string name = fmt::format("<0x{:02X}>", b);
    auto r = reserved.find(name);
    if (r != reserved.end()) {
      m->byte_ids[b] = static_cast<uint32_t>(r->second);
      continue;
    }
    auto p = pieces.find(name);
    m->byte_ids[b] = static_cast<uint32_t>(p != pieces.end() ? p->second : m->unk_id);
  }

  auto out = std::unique_ptr<FastSpmBpe>(new FastSpmBpe());
  out->m_ = std::move(m);
  out->serial_ = g_next_serial.fetch_add(1);
  return out;
}

std::string FastSpmBpe::normalize(std::string_view text) const {
  std::string out;
  normalize_into(*m_, text, &out);
  return out;
}

void FastSpmBpe::encode(std::string_view text, std::vector<uint32_t>* ids) const {
  const FastSpmBpeModel& m = *m_;
  Scratch& s = scratch_for(serial_);
  normalize_into(m, text, &s.norm);
  const char* base = s.norm.data();
  const auto* p = reinterpret_cast<const unsigned char*>(base);
  const size_t n = s.norm.size();
  Emitter em{m, ids};

  // Emits the stretch [a, b): one character directly, otherwise through the cache.
  auto flush = [&](size_t a, size_t b) {
    if (a == b) return;
    int l0 = one_char_len(p[a]);
    if (static_cast<size_t>(l0) == b - a) {
      int32_t sym = m.char_to_sym(decode_valid(p + a, l0));
      if (sym >= 0) {
        em.push(static_cast<uint32_t>(sym));
      } else {
        s.seg_ids.clear();
        symbol_ids(m, sym, base + a, b - a, &s.seg_ids);
        em.push_many(s.seg_ids.data(), static_cast<uint32_t>(s.seg_ids.size()));
      }
      return;
    }
    std::string_view w(base + a, b - a);
    if (w.size() <= kCacheMaxKeyBytes) {
      uint64_t h = hash_bytes(w.data(), w.size());
      const uint32_t* cached = nullptr;
      uint32_t cn = 0;
      if (s.cache.find(w, h, &cached, &cn)) {
        em.push_many(cached, cn);
        return;
      }
      s.seg_ids.clear();
      encode_stretch(m, w, s, &s.seg_ids);
      if (s.cache.size() >= kCacheMaxEntries) s.cache.reset(1 << 16);
      s.cache.insert(w, h, s.seg_ids.data(), static_cast<uint32_t>(s.seg_ids.size()));
    } else {
      s.seg_ids.clear();
      encode_stretch(m, w, s, &s.seg_ids);
    }
    em.push_many(s.seg_ids.data(), static_cast<uint32_t>(s.seg_ids.size()));
  };

  size_t seg = 0;
  uint32_t prev_cp = 0;
  for (size_t i = 0; i < n;) {
    if (m.has_user) {
      int32_t uid = -1;
      size_t ulen = m.match_user(base + i, n - i, &uid);
      if (ulen) {
        flush(seg, i);
        em.push(static_cast<uint32_t>(uid));
        i += ulen;
        seg = i;
        continue;
      }
    }
    int l = one_char_len(p[i]);
    uint32_t cp = decode_valid(p + i, l);
    if (i > seg && !m.can_join(prev_cp, cp)) {
      flush(seg, i);
      seg = i;
    }
    prev_cp = cp;
    i += l;
  }
  flush(seg, n);
  if (s.norm.capacity() > kKeepScratchBytes) std::string().swap(s.norm);
}

void FastSpmBpe::encode_reference(std::string_view text, std::vector<uint32_t>* ids) const {
  const FastSpmBpeModel& m = *m_;
  Scratch s;  // fresh: no cache involved
  normalize_into(m, text, &s.norm);
  const char* base = s.norm.data();
  const auto* p = reinterpret_cast<const unsigned char*>(base);
  for (size_t i = 0; i < s.norm.size();) {
    int32_t uid = -1;
    size_t ulen = m.has_user ? m.match_user(base + i, s.norm.size() - i, &uid) : 0;
    if (ulen) {
      s.id.push_back(uid);
      s.frozen.push_back(1);
    } else {
      ulen = static_cast<size_t>(one_char_len(p[i]));
      s.id.push_back(m.char_to_sym(decode_valid(p + i, static_cast<int>(ulen))));
      s.frozen.push_back(0);
    }
    s.start.push_back(static_cast<uint32_t>(i));
    s.len.push_back(static_cast<uint32_t>(ulen));
    i += ulen;
  }
  std::vector<uint32_t> raw;
  merge_heap(m, base, s, &raw);
  Emitter em{m, ids};
  for (uint32_t id : raw) em.push(id);
}

}  // namespace longctx
