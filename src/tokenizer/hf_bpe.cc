#include "tokenizer/hf_bpe.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <climits>
#include <filesystem>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/file_io.h"
#include "core/hash.h"
#include "tokenizer/bpe_scan.h"
#include "tokenizer/flat_map.h"
#include "tokenizer/hf_pipeline.h"
#include "tokenizer/hf_spec.h"
#include "tokenizer/utf8_detail.h"

namespace longctx {

using namespace tok_detail;  // NOLINT: the internal helpers of this folder

namespace {

constexpr size_t kCacheMaxKeyBytes = 128;     // longer words and stretches are not cached
constexpr size_t kCacheMaxEntries = 1 << 18;  // per thread, about 17 MB (see fast_spm_bpe.cc)
constexpr size_t kScanMaxSymbols = 48;        // stretches up to this many symbols use the array scan
constexpr size_t kKeepScratchBytes = 64 << 20;
// Junction bitmap index: codepoints below 384 (ASCII and the byte-level alphabet) and U+2581.
constexpr int kSmall = 385;
inline int small_index(uint32_t cp) { return cp < 384 ? static_cast<int>(cp) : cp == 0x2581 ? 384 : -1; }
inline uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t{a} << 32) | b; }

std::atomic<uint64_t> g_hf_serial{1};

struct HeapEntry {
  int32_t rank;
  uint32_t pos;
  int32_t merged;
};
struct HeapWorse {  // priority_queue's "less": lowest rank first, then leftmost (the library's order)
  bool operator()(const HeapEntry& a, const HeapEntry& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.pos > b.pos);
  }
};

// Per-thread working memory and word cache.
struct HfScratch {
  uint64_t serial = 0;
  StringIdsCache cache;
  std::string lossy, norm, tmp, mapped;
  HfPreScratch pre;
  std::vector<int32_t> sym, pr, mg, prev, next;
  std::vector<uint32_t> word_ids;
  std::vector<HeapEntry> heap;
};

// How a unit (a character, or a byte under ByteLevel) enters the merge loop (the library's
// merge_word): a vocabulary token, its UTF-8 bytes as <0xXX> tokens (byte fallback), or unknown
// (an unk token, or nothing when the model has none).
enum class UnitKind { kToken, kBytes, kUnknown };

}  // namespace

// Encoding tables of the BPE model.
struct HfBpeTables {
  int32_t ascii_sym[128];   // token id of each ASCII character, -1 if none
  U64Map char_sym;          // codepoint -> token id for characters >= U+0080
  int32_t byte_fb[256];     // id of <0xXX>, -1 if missing
  uint32_t byte_cp[256];    // ByteLevel: byte -> its character
  bool byte_level = false, byte_fallback = false, fuse_unk = false, ignore_merges = false, all_join = false;
  int32_t unk = -1;
  U64Map merges;            // pair_key(left, right) -> (result << 32) | rank
  uint64_t junction_small[(kSmall * kSmall + 63) / 64] = {};
  U64Map junction_big;      // pair_key(a, b) for pairs not both in the small index
  std::unordered_map<std::string, uint32_t> vocab;  // only with ignore_merges

  int32_t char_id(uint32_t cp) const {
    if (cp < 128) return ascii_sym[cp];
    const uint64_t* v = char_sym.find(cp);
    return v ? static_cast<int32_t>(*v) : -1;
  }
  // Whether some merge joins a token ending in character a to one starting with b.
  bool can_join(uint32_t a, uint32_t b) const {
    if (all_join) return true;
    int ia = small_index(a), ib = small_index(b);
    if (ia >= 0 && ib >= 0) {
      size_t bit = static_cast<size_t>(ia) * kSmall + ib;
      return (junction_small[bit >> 6] >> (bit & 63)) & 1;
    }
    return junction_big.find(pair_key(a, b)) != nullptr;
  }
  void add_junction(uint32_t a, uint32_t b) {
    int ia = small_index(a), ib = small_index(b);
    if (ia >= 0 && ib >= 0) {
      size_t bit = static_cast<size_t>(ia) * kSmall + ib;
      junction_small[bit >> 6] |= uint64_t{1} << (bit & 63);
    } else {
      junction_big.insert(pair_key(a, b), 1);
    }
  }
  inline void merge_of(int32_t l, int32_t r, int32_t* merged, int32_t* rank) const {
    const uint64_t* v = merges.find(pair_key(static_cast<uint32_t>(l), static_cast<uint32_t>(r)));
    if (!v) {
      *rank = kNoMerge;
      return;
    }
    *merged = static_cast<int32_t>(*v >> 32);
    *rank = static_cast<int32_t>(*v & 0xffffffffu);
  }
};

namespace {

// Lowest rank first, ties leftmost, over a short symbol array (bpe_scan.h).
void merge_scan(const HfBpeTables& m, HfScratch& s, std::vector<uint32_t>* out) {
  s.pr.resize(s.sym.size());
  s.mg.resize(s.sym.size());
  size_t n = merge_scan_loop(
      s.sym.data(), s.pr.data(), s.mg.data(), s.sym.size(),
      [&](int32_t l, int32_t r, int32_t* merged, int32_t* rank) { m.merge_of(l, r, merged, rank); },
      [](size_t, size_t) {});
  for (size_t k = 0; k < n; ++k) out->push_back(static_cast<uint32_t>(s.sym[k]));
}

// The same order with a heap and lazy invalidation, O(n log n), for long stretches. An entry is
// stale unless the symbol at its position is alive and the pair there still merges into the
// entry's result (the library's test; with unique ids that means the pair is unchanged).
void merge_heap(const HfBpeTables& m, HfScratch& s, std::vector<uint32_t>* out) {
  const size_t n = s.sym.size();
  s.prev.resize(n);
  s.next.resize(n);
  std::vector<int32_t>& id = s.sym;
  for (size_t k = 0; k < n; ++k) {
    s.prev[k] = static_cast<int32_t>(k) - 1;
    s.next[k] = k + 1 < n ? static_cast<int32_t>(k + 1) : -1;
  }
  s.heap.clear();
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, HeapWorse> heap(HeapWorse{}, std::move(s.heap));
  auto push = [&](int32_t l) {
    if (l < 0 || s.next[l] < 0) return;
    int32_t merged = 0, rank = kNoMerge;
    m.merge_of(id[l], id[s.next[l]], &merged, &rank);
    if (rank != kNoMerge) heap.push(HeapEntry{rank, static_cast<uint32_t>(l), merged});
  };
  for (size_t k = 0; k + 1 < n; ++k) push(static_cast<int32_t>(k));
  while (!heap.empty()) {
    HeapEntry e = heap.top();
    heap.pop();
    const int32_t r = s.next[e.pos];
    if (id[e.pos] < 0 || r < 0) continue;
    int32_t merged = 0, rank = kNoMerge;
    m.merge_of(id[e.pos], id[r], &merged, &rank);
    if (rank == kNoMerge || merged != e.merged) continue;
    id[e.pos] = merged;
    id[r] = -1;  // removed
    s.next[e.pos] = s.next[r];
    if (s.next[r] >= 0) s.prev[s.next[r]] = static_cast<int32_t>(e.pos);
    push(s.prev[e.pos]);
    push(static_cast<int32_t>(e.pos));
  }
  for (size_t k = 0; k < n; ++k)
    if (id[k] >= 0) out->push_back(static_cast<uint32_t>(id[k]));
}

void merge_symbols(const HfBpeTables& m, HfScratch& s, std::vector<uint32_t>* out) {
  if (s.sym.size() <= kScanMaxSymbols) {
    merge_scan(m, s, out);
  } else {
    merge_heap(m, s, out);
  }
  s.sym.clear();
}

// The ids of one finished stretch of a word: from the cache when allowed, else merged.
void finish_stretch(const HfBpeTables& m, std::string_view text, bool use_cache, HfScratch& s,
                    std::vector<uint32_t>* out) {
  if (!use_cache || text.size() > kCacheMaxKeyBytes) {
    merge_symbols(m, s, out);
    return;
  }
  uint64_t h = hash_bytes(text.data(), text.size());
  const uint32_t* cached = nullptr;
  uint32_t cn = 0;
  if (s.cache.find(text, h, &cached, &cn)) {
    out->insert(out->end(), cached, cached + cn);
    s.sym.clear();
    return;
  }
  const size_t mark = out->size();
  merge_symbols(m, s, out);
  if (s.cache.size() >= kCacheMaxEntries) s.cache.reset(1 << 16);
  s.cache.insert(text, h, out->data() + mark, static_cast<uint32_t>(out->size() - mark));
}

// One word (pre-tokenizer piece) through the model. The word is cut into stretches wherever no
// merge can join the tokens on the two sides (docs/tokenizer.md, "Boundaries from the
// vocabulary"): a merge that crosses such a place would produce a token whose two parts meet at
// characters (a, b) that no merge joins. Unknown characters and a pending unk (the library emits
// it late and may fuse it with later unknowns) never sit at a cut.
void encode_word(const HfBpeTables& m, std::string_view w, bool cache_stretches, HfScratch& s,
                 std::vector<uint32_t>* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(w.data());
  s.sym.clear();
  size_t stretch = 0;
  bool have_prev = false, prev_unknown = false, pending_unk = false;
  uint32_t prev_last = 0;
  std::string ch;
  for (size_t i = 0; i < w.size();) {
    uint32_t cp;
    size_t len;
    if (m.byte_level) {
      cp = m.byte_cp[p[i]];
      len = 1;
    } else {
      len = utf8_char_len(p[i]);
      cp = utf8_decode_valid(p + i, static_cast<int>(len));
    }
    int32_t id = m.char_id(cp);
    UnitKind kind = UnitKind::kToken;
    const unsigned char* bytes = p + i;
    size_t nbytes = len;
    if (id < 0) {
      kind = UnitKind::kUnknown;
      if (m.byte_fallback) {
        if (m.byte_level) {  // the unit's character is U+0080.. : its UTF-8 bytes
          ch.clear();
          append_utf8(&ch, cp);
          bytes = reinterpret_cast<const unsigned char*>(ch.data());
          nbytes = ch.size();
        }
        bool all = true;
        for (size_t k = 0; k < nbytes; ++k) all = all && m.byte_fb[bytes[k]] >= 0;
        if (all) kind = UnitKind::kBytes;
      }
    }
    const uint32_t first = kind == UnitKind::kToken ? cp : '<', last = kind == UnitKind::kToken ? cp : '>';
    if (have_prev && !pending_unk && !prev_unknown && kind != UnitKind::kUnknown && !m.can_join(prev_last, first)) {
      finish_stretch(m, w.substr(stretch, i - stretch), cache_stretches, s, out);
      stretch = i;
    }
    if (kind == UnitKind::kToken) {
      if (pending_unk) s.sym.push_back(m.unk), pending_unk = false;
      s.sym.push_back(id);
    } else if (kind == UnitKind::kBytes) {
      for (size_t k = 0; k < nbytes; ++k) s.sym.push_back(m.byte_fb[bytes[k]]);
    } else if (m.unk >= 0) {
      if (pending_unk && !m.fuse_unk) s.sym.push_back(m.unk);
      pending_unk = true;
    }
    have_prev = true;
    prev_unknown = kind == UnitKind::kUnknown;
    prev_last = last;
    i += len;
  }
  if (pending_unk) s.sym.push_back(m.unk);
  finish_stretch(m, w.substr(stretch), cache_stretches, s, out);
}

void model_word(const HfBpeTables& m, std::string_view w, HfScratch& s, std::vector<uint32_t>* out) {
  if (w.empty()) return;
  if (m.ignore_merges) {  // a word that is itself a token is emitted whole
    std::string_view key = w;
    if (m.byte_level) {
      s.mapped.clear();
      for (unsigned char c : w) append_utf8(&s.mapped, m.byte_cp[c]);
      key = s.mapped;
    }
    auto it = m.vocab.find(std::string(key));
    if (it != m.vocab.end()) {
      out->push_back(it->second);
      return;
    }
  }
  if (w.size() > kCacheMaxKeyBytes) {
    encode_word(m, w, true, s, out);
    return;
  }
  uint64_t h = hash_bytes(w.data(), w.size());
  const uint32_t* cached = nullptr;
  uint32_t cn = 0;
  if (s.cache.find(w, h, &cached, &cn)) {
    out->insert(out->end(), cached, cached + cn);
    return;
  }
  s.word_ids.clear();
  encode_word(m, w, false, s, &s.word_ids);
  if (s.cache.size() >= kCacheMaxEntries) s.cache.reset(1 << 16);
  s.cache.insert(w, h, s.word_ids.data(), static_cast<uint32_t>(s.word_ids.size()));
  out->insert(out->end(), s.word_ids.begin(), s.word_ids.end());
}

// First and last character of a token string (valid UTF-8, non-empty).
void first_last(const std::string& t, uint32_t* first, uint32_t* last) {
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  *first = utf8_decode_valid(p, utf8_char_len(p[0]));
  size_t k = t.size() - 1;
  while (k > 0 && (p[k] & 0xc0) == 0x80) --k;
  *last = utf8_decode_valid(p + k, static_cast<int>(t.size() - k));
}

Status build_tables(const HfSpec& spec, bool byte_level, HfBpeTables* m) {
  m->byte_level = byte_level;
  m->byte_fallback = spec.byte_fallback;
  m->fuse_unk = spec.fuse_unk;
  m->ignore_merges = spec.ignore_merges;
  m->unk = static_cast<int32_t>(spec.unk_id);
  std::fill(std::begin(m->ascii_sym), std::end(m->ascii_sym), -1);
  std::fill(std::begin(m->byte_fb), std::end(m->byte_fb), -1);
  for (uint32_t id = 0; id < spec.vocab.size(); ++id) {
    if (!spec.in_vocab[id]) continue;
    const std::string& t = spec.vocab[id];
    if (t.empty()) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(t.data());
    const int l = utf8_char_len(p[0]);
    if (static_cast<size_t>(l) == t.size()) {
      uint32_t cp = utf8_decode_valid(p, l);
      if (cp < 128) {
        m->ascii_sym[cp] = static_cast<int32_t>(id);
      } else {
        m->char_sym.insert(cp, id);
      }
    }
    if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
      // The library looks the byte up as format!("<{:#04X}>"): "<0x" and two upper-case digits.
      static const char kHex[] = "0123456789ABCDEF";
      for (int b = 0; b < 256; ++b)
        if (t[3] == kHex[b >> 4] && t[4] == kHex[b & 15]) m->byte_fb[b] = static_cast<int32_t>(id);
    }
    if (m->ignore_merges) m->vocab.emplace(t, id);
  }
  byte_level_alphabet(m->byte_cp);
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& mg = spec.merges[rank];
    m->merges.insert(pair_key(mg.left, mg.right), (uint64_t{mg.result} << 32) | static_cast<uint32_t>(rank));
    const std::string &a = spec.vocab[mg.left], &b = spec.vocab[mg.right];
    if (a.empty() || b.empty()) {
      m->all_join = true;
      continue;
    }
    uint32_t af, al, bf, bl;
    first_last(a, &af, &al);
    first_last(b, &bf, &bl);
    m->add_junction(al, bf);
  }
  return Status::ok();
}

// bos/eos/pad token contents from tokenizer_config.json beside the file (a string, or an object
// with "content"), when it exists. nlohmann::json, not simdjson: these files hold integers such as
// model_max_length = 1e30 written out in full, which simdjson's DOM refuses.
std::unordered_map<std::string, std::string> read_special_names(const std::string& path) {
  std::unordered_map<std::string, std::string> out;
  std::string cfg = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
  if (!file_exists(cfg)) return out;
  auto bytes = read_file(cfg);
  if (!bytes.is_ok()) return out;
  nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (const char* k : {"bos_token", "eos_token", "pad_token"}) {
    auto it = j.find(k);
    if (it == j.end()) continue;
    if (it->is_string()) out[k] = it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
      out[k] = (*it)["content"].get<std::string>();
  }
  return out;
}

class HfBpeTokenizer : public Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> load(const std::string& path) {
    LONGCTX_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
    auto spec = parse_hf_tokenizer_json(bytes);
    if (!spec.is_ok()) return spec.status().with_context(path);
    auto t = std::unique_ptr<HfBpeTokenizer>(new HfBpeTokenizer());
    t->checksum_ = xxh64(bytes);
    t->serial_ = g_hf_serial.fetch_add(1);
    Status st = t->init(std::move(spec).value(), read_special_names(path));
    if (!st.is_ok()) return st.with_context(path);
    return std::unique_ptr<Tokenizer>(std::move(t));
  }

  Status encode(std::string_view text, std::vector<uint32_t>* ids) const override {
    HfScratch& s = scratch();
    if (!simdjson::validate_utf8(text.data(), text.size())) {
      s.lossy = utf8_lossy(text);  // what Python's decode(errors="replace") hands the library
      text = s.lossy;
    }
    Status st = split_added(raw_added_, text, ids, [&](std::string_view seg, size_t at) {
      return encode_segment(seg, at == 0, s, ids);
    });
    if (s.norm.capacity() > kKeepScratchBytes) std::string().swap(s.norm), std::string().swap(s.tmp);
    return st;
  }

  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special) const override {
    return decoder_.decode(ids.data(), ids.size(), skip_special);
  }
  uint32_t vocab_size() const override { return static_cast<uint32_t>(token_.size()); }
  int32_t bos_id() const override { return bos_; }
  int32_t eos_id() const override { return eos_; }
  int32_t unk_id() const override { return tables_.unk; }
  int32_t pad_id() const override { return pad_; }
  std::string piece(uint32_t id) const override { return id < token_.size() ? token_[id] : std::string(); }
  std::string impl_name() const override { return "hf-bpe"; }
  uint64_t model_checksum() const override { return checksum_; }
  TokenizerInfo info() const override { return info_; }

 private:
  HfBpeTokenizer() = default;

  Status init(HfSpec spec, const std::unordered_map<std::string, std::string>& names);
  Status init_added(const HfSpec& spec, std::vector<uint8_t>* skip, std::vector<uint8_t>* known);

  HfScratch& scratch() const {
    thread_local HfScratch s;
    if (s.serial != serial_ || s.cache.size() > kCacheMaxEntries) {
      s.cache.reset(1 << 16);
      s.serial = serial_;
    }
    return s;
  }

  // Splits text at the added tokens of one matcher; gaps go to gap(text, offset).
  template <typename Gap>
  Status split_added(const HfAddedMatcher& m, std::string_view text, std::vector<uint32_t>* ids, Gap&& gap) const {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t at = 0, len = 0;
      uint32_t id = 0;
      if (m.empty() || !m.find(text, pos, &at, &len, &id)) return gap(text.substr(pos), pos);
      if (at > pos) LONGCTX_RETURN_IF_ERROR(gap(text.substr(pos, at - pos), pos));
      ids->push_back(id);
      pos = at + len;
    }
    return Status::ok();
  }

  // A stretch between raw added tokens: normalise, split at normalised added tokens, pre-tokenize,
  // run the model on each piece.
  Status encode_segment(std::string_view seg, bool origin, HfScratch& s, std::vector<uint32_t>* ids) const {
    std::string_view n = seg;
    if (!normalizer_.empty()) {
      LONGCTX_RETURN_IF_ERROR(normalizer_.apply(seg, &s.norm, &s.tmp));
      n = s.norm;
    }
    return split_added(norm_added_, n, ids, [&](std::string_view piece, size_t at) -> Status {
      if (pre_.empty()) {
        model_word(tables_, piece, s, ids);
        return Status::ok();
      }
      std::vector<HfPiece>* pieces = nullptr;
      LONGCTX_RETURN_IF_ERROR(
          pre_.run(HfPiece{piece.data(), static_cast<uint32_t>(piece.size()), origin && at == 0}, s.pre, &pieces));
      for (const HfPiece& p : *pieces) model_word(tables_, std::string_view(p.p, p.len), s, ids);
      return Status::ok();
    });
  }

  HfNormalizer normalizer_;
  HfPreTokenizer pre_;
  HfBpeTables tables_;
  HfAddedMatcher raw_added_, norm_added_;  // normalized=false / true
  HfDecoder decoder_;
  std::vector<std::string> token_;  // [id] -> token string (the library's id_to_token)
  int32_t bos_ = -1, eos_ = -1, pad_ = -1;
  TokenizerInfo info_;
  uint64_t checksum_ = 0, serial_ = 0;
};

Status HfBpeTokenizer::init(HfSpec spec, const std::unordered_map<std::string, std::string>& names) {
  LONGCTX_ASSIGN_OR_RETURN(normalizer_, HfNormalizer::make(spec.normalizers));
  LONGCTX_ASSIGN_OR_RETURN(pre_, HfPreTokenizer::make(spec.pre_tokenizers));
  for (const auto& p : spec.pre_tokenizers)
    if (p.kind == HfPreTokenizerStep::kMetaspace && p.prepend_scheme == HfPrependScheme::kFirst &&
        !normalizer_.keeps_start())
      return Status(ErrorCode::kUnsupported,
                    "Hugging Face tokenizer not supported: Metaspace(prepend_scheme=first) after a normalizer that "
                    "adds or removes characters");
  LONGCTX_RETURN_IF_ERROR(build_tables(spec, pre_.byte_level(), &tables_));
  std::vector<uint8_t> skip, known;
  LONGCTX_RETURN_IF_ERROR(init_added(spec, &skip, &known));
  LONGCTX_ASSIGN_OR_RETURN(decoder_, HfDecoder::make(spec, token_, std::move(skip), std::move(known)));
  auto id_of = [&](const char* key) -> int32_t {
    auto it = names.find(key);
    if (it == names.end()) return -1;
    for (uint32_t id = 0; id < token_.size(); ++id)
      if (token_[id] == it->second) return static_cast<int32_t>(id);
    return -1;
  };
  bos_ = id_of("bos_token");
  eos_ = id_of("eos_token");
  pad_ = id_of("pad_token");
  info_.format = "Hugging Face tokenizer.json";
  info_.model = spec.model_desc;
  info_.normalizer = spec.normalizer_desc;
  info_.pre_tokenizer = spec.pre_tokenizer_desc;
  info_.decoder = spec.decoder_desc;
  for (const auto& a : spec.added)
    if (a.special) info_.special_tokens.emplace_back(a.content, a.id);
  return Status::ok();
}

// Added tokens: the raw and normalised matchers, the id -> string table the decoder starts from
// (an added token's string is its normalised form when normalisation changes it, as the library's
// simple_id_to_token), and which ids skip_special drops (those whose string is a special token's
// content: the library's test is on the string).
Status HfBpeTokenizer::init_added(const HfSpec& spec, std::vector<uint8_t>* skip, std::vector<uint8_t>* known) {
  uint32_t size = static_cast<uint32_t>(spec.vocab.size());
  for (const auto& a : spec.added) size = std::max(size, a.id + 1);
  token_.assign(size, std::string());
  known->assign(size, 0);
  for (uint32_t id = 0; id < spec.vocab.size(); ++id)
    if (spec.in_vocab[id]) token_[id] = spec.vocab[id], (*known)[id] = 1;
  std::vector<std::pair<std::string, uint32_t>> raw, norm;
  std::unordered_set<std::string> special;
  std::string tmp;
  for (const auto& a : spec.added) {
    std::string content = a.content;
    if (a.normalized && !normalizer_.empty()) {
      std::string n;
      LONGCTX_RETURN_IF_ERROR(normalizer_.apply(a.content, &n, &tmp));
      content = n;
    }
    (a.normalized ? norm : raw).emplace_back(content, a.id);
    token_[a.id] = content;
    (*known)[a.id] = 1;
    if (a.special) special.insert(a.content);
  }
  raw_added_.build(raw);
  norm_added_.build(norm);
  skip->assign(size, 0);
  for (uint32_t id = 0; id < size; ++id) (*skip)[id] = (*known)[id] && special.count(token_[id]);
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> load_hf_bpe_tokenizer(const std::string& path) { return HfBpeTokenizer::load(path); }

}  // namespace longctx
