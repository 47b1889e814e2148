#include "mix/mixture.h"

#include <algorithm>
#include <cmath>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "core/hash.h"
#include "mix/stats.h"
#include "store/packed_shards.h"

namespace longctx {

namespace {

constexpr uint64_t kNoCut = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kSaltSelect = kMixSelectSalt, kSaltShuffle = 0x5F1E, kSaltPaper = 0x9A9E5;

// Pieces a document of n tokens is cut into (ceil(n / c)), and its packed cost.
uint64_t num_pieces(uint64_t n, uint64_t c) { return n == 0 ? 0 : (n + c - 1) / c; }
uint64_t doc_cost(uint64_t n, uint64_t c, uint64_t o) { return n + num_pieces(n, c) * o; }

// Splits `total` into parts proportional to `w` (largest remainder; ties to the lower index), so
// the parts sum to exactly total.
std::vector<uint64_t> split_largest_remainder(uint64_t total, const std::vector<long double>& w) {
  long double sum = 0;
  for (auto x : w) sum += x;
  std::vector<uint64_t> out(w.size(), 0);
  if (sum <= 0) return out;
  std::vector<std::pair<long double, size_t>> frac;
  uint64_t used = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    long double exact = static_cast<long double>(total) * w[i] / sum;
    out[i] = static_cast<uint64_t>(std::floor(exact));
    used += out[i];
    frac.push_back({exact - std::floor(exact), i});
  }
  std::stable_sort(frac.begin(), frac.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; used < total && k < frac.size(); ++k, ++used) ++out[frac[k].second];
  return out;
}

// The prefix of a document that costs exactly r packed tokens: k document tokens in p pieces
// (each <= c tokens), k + p*o == r, k as large as possible (k <= n). Returns false when no such
// split exists (only possible with o == 2 and r == 1).
bool truncate_to_cost(uint64_t r, uint64_t n, uint64_t c, uint64_t o, uint64_t* k, uint64_t* p) {
  if (o == 0) {
    *k = std::min(r, n);
    *p = num_pieces(*k, c);
    return *k == r;
  }
  for (uint64_t q = std::max<uint64_t>(1, r / (c + o)); q * o <= r; ++q) {
    uint64_t kk = r - q * o;
    if (kk > n) continue;
    if (num_pieces(kk, c) <= q && (kk >= q || (kk == 0 && q == 1))) {
      *k = kk;
      *p = q;
      return true;
    }
  }
  return false;
}

// p piece lengths summing to k, each in [min(1,k), c]: full pieces of c first.
std::vector<uint64_t> piece_lengths(uint64_t k, uint64_t p, uint64_t c) {
  std::vector<uint64_t> out;
  uint64_t left = k;
  for (uint64_t i = 0; i < p; ++i) {
    uint64_t rest = p - i - 1;
    uint64_t len = std::min(c, left > rest ? left - rest : left);
    out.push_back(len);
    left -= len;
  }
  return out;
}

struct Ctx {
  const DocumentStore& store;
  const MixConfig& cfg;
  uint64_t cut = kNoCut;
  uint64_t over = 1;  // BOS + EOS tokens per piece
  std::vector<Piece> pieces;
  std::vector<DomainPlan>* domains;
  std::vector<uint64_t> sel_doc_tokens, sel_long, sel_short;  // per domain, document tokens

  uint64_t shuffle_key(const DocRecord& d, uint32_t repeat, uint64_t piece) const {
    return mix64(d.id_hash ^ mix64(cfg.seed ^ mix64(kSaltShuffle + (static_cast<uint64_t>(repeat) << 32) + piece)));
  }
  bool is_long(const DocRecord& d) const { return d.num_tokens > cfg.long_threshold; }

  // Emits document `doc` taking k tokens in p pieces (k == n, p == ceil(n/c) for a whole doc).
  void take(uint64_t doc, uint64_t k, uint64_t p, uint32_t repeat) {
    const DocRecord& d = store.doc(doc);
    auto lens = piece_lengths(k, p, cut);
    uint64_t start = 0;
    for (size_t i = 0; i < lens.size(); ++i) {
      pieces.push_back(Piece{shuffle_key(d, repeat, i), doc, static_cast<uint32_t>(start), static_cast<uint32_t>(lens[i]), repeat, 0, 0});
      start += lens[i];
    }
    DomainPlan& dp = (*domains)[d.domain];
    dp.buckets[length_bucket_of(d.num_tokens)].selected += k + p * over;
    dp.max_repeat = std::max(dp.max_repeat, repeat);
    sel_doc_tokens[d.domain] += k;
    (is_long(d) ? sel_long : sel_short)[d.domain] += k;
  }
  void take_whole(uint64_t doc, uint32_t repeat) {
    uint64_t n = store.doc(doc).num_tokens;
    take(doc, n, num_pieces(n, cut), repeat);
  }
  // Emits a prefix costing exactly r; returns the cost actually emitted.
  uint64_t take_prefix(uint64_t doc, uint64_t r, uint32_t repeat) {
    uint64_t k, p;
    uint64_t n = store.doc(doc).num_tokens;
    if (!truncate_to_cost(r, n, cut, over, &k, &p)) {
      if (r < over) return 0;
      k = std::min(n, r - over);
      p = 1;
    }
    take(doc, k, p, repeat);
    return k + p * over;
  }
};

}  // namespace

Result<MixStrategy> parse_mix_strategy(const std::string& s) {
  static const std::pair<const char*, MixStrategy> names[] = {
      {"original", MixStrategy::kOriginal},          {"cut", MixStrategy::kCut},
      {"natural", MixStrategy::kNatural},            {"per-source-upsample", MixStrategy::kPerSourceUpsample},
      {"global-upsample", MixStrategy::kGlobalUpsample}, {"upsample-domains", MixStrategy::kUpsampleDomains},
      {"paper-script", MixStrategy::kPaperScript}};
  for (const auto& [n, v] : names)
    if (s == n) return v;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown strategy '{}': expected original, cut, natural, per-source-upsample, global-upsample, upsample-domains or paper-script", s);
}

std::string mix_strategy_name(MixStrategy s) {
  switch (s) {
    case MixStrategy::kOriginal: return "original";
    case MixStrategy::kCut: return "cut";
    case MixStrategy::kNatural: return "natural";
    case MixStrategy::kPerSourceUpsample: return "per-source-upsample";
    case MixStrategy::kGlobalUpsample: return "global-upsample";
    case MixStrategy::kUpsampleDomains: return "upsample-domains";
    case MixStrategy::kPaperScript: return "paper-script";
  }
  return "?";
}

nlohmann::json mix_config_json(const MixConfig& c) {
  nlohmann::json j;
  j["strategy"] = mix_strategy_name(c.strategy);
  j["tokens"] = c.total_tokens;
  j["seq_len"] = c.seq_len;
  j["seed"] = c.seed;
  switch (c.strategy) {
    case MixStrategy::kCut: j["cut_at"] = c.cut_at; break;
    case MixStrategy::kNatural: j["max_doc"] = c.max_doc; break;
    case MixStrategy::kPerSourceUpsample: j["long_share"] = c.long_share; break;
    case MixStrategy::kGlobalUpsample: j["keep_short"] = c.keep_short; break;
    case MixStrategy::kUpsampleDomains:
      j["domains"] = c.upsample_domains;
      j["weight"] = c.upsample_weight;
      break;
    case MixStrategy::kPaperScript:
      j["keep_short"] = c.keep_short;
      j["chars_per_token"] = c.paper_chars_per_token;
      break;
    default: break;
  }
  j["long_threshold"] = c.long_threshold;
  if (!c.domain_shares.empty()) j["domain_shares"] = c.domain_shares;
  j["no_repeat"] = c.no_repeat;
  j["bos"] = c.bos ? nlohmann::json(c.bos_id) : nlohmann::json(nullptr);
  j["eos"] = c.eos ? nlohmann::json(c.eos_id) : nlohmann::json(nullptr);
  j["pad_id"] = c.pad_id;
  j["split"] = c.split;
  j["last"] = c.last == LastChunk::kDrop ? "drop" : "pad";
  return j;
}

Result<Mixture> build_mixture(const DocumentStore& store, const MixConfig& cfg) {
  LONGCTX_RETURN_IF_ERROR(cfg.validate());
  Mixture m;
  MixPlan& plan = m.plan;
  plan.config = cfg;
  plan.chunks = cfg.total_tokens / cfg.seq_len;
  plan.total = plan.chunks * cfg.seq_len;
  if (plan.chunks == 0)
    return make_error(ErrorCode::kInvalidArgument, "budget of {} tokens is less than one sequence of {}", cfg.total_tokens, cfg.seq_len);
  const auto& names = store.domains();
  const size_t nd = names.size();
  const size_t nb = length_bucket_edges().size() + 1;
  Ctx x{store, cfg, kNoCut, 1, {}, nullptr, {}, {}, {}};
  x.domains = &plan.domains;
  x.over = (cfg.bos ? 1 : 0) + (cfg.eos ? 1 : 0);
  if (cfg.strategy == MixStrategy::kCut) x.cut = cfg.cut_at;
  if (cfg.strategy == MixStrategy::kNatural) x.cut = cfg.max_doc;
  if (x.cut == 0) return make_error(ErrorCode::kInvalidArgument, "cut length must be positive");
  x.sel_doc_tokens.assign(nd, 0);
  x.sel_long.assign(nd, 0);
  x.sel_short.assign(nd, 0);
  plan.domains.resize(nd);
  for (size_t d = 0; d < nd; ++d) {
    plan.domains[d].name = names[d];
    plan.domains[d].buckets.assign(nb, {});
  }

  // ---- availability (document table only) ----
  // cell = domain * 2 + class; class 1 = long. Strategies without a length class use class 0.
  const bool by_class = cfg.strategy == MixStrategy::kPerSourceUpsample || cfg.strategy == MixStrategy::kGlobalUpsample;
  std::vector<uint64_t> cell_cost(2 * nd, 0), doc_tokens(nd, 0), long_tokens(nd, 0), short_tokens(nd, 0);
  auto cell_of = [&](const DocRecord& d) { return 2 * d.domain + (by_class && x.is_long(d) ? 1 : 0); };
  for (const DocRecord& d : store.docs()) {
    if (d.num_tokens == 0) continue;
    uint64_t c = doc_cost(d.num_tokens, x.cut, x.over);
    cell_cost[cell_of(d)] += c;
    doc_tokens[d.domain] += d.num_tokens;
    (x.is_long(d) ? long_tokens : short_tokens)[d.domain] += d.num_tokens;
    plan.domains[d.domain].available += c;
    if (x.is_long(d)) plan.domains[d.domain].available_long += c;
    plan.domains[d.domain].buckets[length_bucket_of(d.num_tokens)].available += c;
  }

  // ---- domain shares ----
  std::vector<long double> share(nd, 0);
  if (!cfg.domain_shares.empty()) {
    for (const auto& [name, s] : cfg.domain_shares) {
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) return make_error(ErrorCode::kInvalidArgument, "--domain-shares names '{}', which is not a domain of the store", name);
      if (s < 0) return make_error(ErrorCode::kInvalidArgument, "--domain-shares: negative share for '{}'", name);
      share[it - names.begin()] = s;
    }
  } else {
    for (size_t d = 0; d < nd; ++d) share[d] = static_cast<long double>(doc_tokens[d]);
  }

  // ---- targets per cell (packed tokens) ----
  std::vector<uint64_t> target(2 * nd, 0);
  switch (cfg.strategy) {
    case MixStrategy::kOriginal:
    case MixStrategy::kCut:
    case MixStrategy::kNatural:
    case MixStrategy::kPaperScript: {
      auto t = split_largest_remainder(plan.total, share);
      for (size_t d = 0; d < nd; ++d) target[2 * d] = t[d];
      break;
    }
    case MixStrategy::kPerSourceUpsample: {
      if (cfg.long_share < 0 || cfg.long_share > 1) return make_error(ErrorCode::kInvalidArgument, "--long-share must be in [0, 1]");
      auto t = split_largest_remainder(plan.total, share);
      for (size_t d = 0; d < nd; ++d) {
        // Upsampling never lowers a domain's long share: a domain already above the target (books,
        // ~100% long) keeps its own share, and so needs no short documents it may not have.
        uint64_t all = cell_cost[2 * d] + cell_cost[2 * d + 1];
        long double natural = all ? static_cast<long double>(cell_cost[2 * d + 1]) / all : 0;
        // A domain without long documents (a small store's StackExchange) stays all short.
        long double share_long = cell_cost[2 * d + 1] == 0 ? 0 : std::max<long double>(cfg.long_share, natural);
        plan.domains[d].long_share_target = static_cast<double>(share_long);
        target[2 * d + 1] = static_cast<uint64_t>(std::llround(static_cast<long double>(t[d]) * share_long));
        target[2 * d] = t[d] - target[2 * d + 1];
      }
      break;
    }
    case MixStrategy::kGlobalUpsample: {
      // One rate for every long token and keep_short times it for every short token, any domain.
      std::vector<long double> w(2 * nd);
      for (size_t d = 0; d < nd; ++d) {
        w[2 * d] = static_cast<long double>(cell_cost[2 * d]) * cfg.keep_short;
        w[2 * d + 1] = static_cast<long double>(cell_cost[2 * d + 1]);
      }
      target = split_largest_remainder(plan.total, w);
      break;
    }
    case MixStrategy::kUpsampleDomains: {
      std::vector<bool> up(nd, false);
      for (const auto& n : cfg.upsample_domains) {
        auto it = std::find(names.begin(), names.end(), n);
        if (it == names.end()) return make_error(ErrorCode::kInvalidArgument, "--domains names '{}', which is not a domain of the store", n);
        up[it - names.begin()] = true;
      }
      long double su = 0, so = 0;
      for (size_t d = 0; d < nd; ++d) (up[d] ? su : so) += share[d];
      std::vector<long double> w(nd);
      for (size_t d = 0; d < nd; ++d)
        w[d] = up[d] ? (su > 0 ? cfg.upsample_weight * share[d] / su : 0) : (so > 0 ? (1 - cfg.upsample_weight) * share[d] / so : 0);
      auto t = split_largest_remainder(plan.total, w);
      for (size_t d = 0; d < nd; ++d) target[2 * d] = t[d];
      break;
    }
  }
  if (std::accumulate(target.begin(), target.end(), uint64_t{0}) != plan.total)
    return make_error(ErrorCode::kInvalidArgument, "strategy {} selects no documents from this store (all domain weights are zero)",
                      mix_strategy_name(cfg.strategy));
  for (size_t d = 0; d < nd; ++d) {
    plan.domains[d].target = target[2 * d] + target[2 * d + 1];
    plan.domains[d].target_long = by_class ? target[2 * d + 1] : 0;
    plan.domains[d].target_short = by_class ? target[2 * d] : 0;
  }

  if (cfg.strategy == MixStrategy::kPaperScript) {
    // The authors' script: walk the documents in corpus order; keep a long document always, a
    // short one with probability keep_short (length estimated from characters when
    // chars_per_token > 0); a source stops taking documents once its budget is full. We truncate
    // the document that crosses the budget so budgets are exact, and walk again (a repeat, salted
    // by the pass) while a budget is not full.
    std::vector<uint64_t> filled(nd, 0);
    for (uint32_t pass = 0;; ++pass) {
      bool open = false;
      for (size_t d = 0; d < nd; ++d) open |= filled[d] < target[2 * d];
      if (!open) break;
      if (pass > 0 && cfg.no_repeat) {
        for (size_t d = 0; d < nd; ++d)
          if (filled[d] < target[2 * d])
            return make_error(ErrorCode::kInvalidArgument,
                              "domain {}: paper-script needs {} tokens but one pass over the store yields {} (shortfall {}); drop --no-repeat to repeat documents",
                              names[d], target[2 * d], filled[d], target[2 * d] - filled[d]);
      }
      if (pass > 10000) return make_error(ErrorCode::kInvalidArgument, "paper-script: budgets not met after 10,000 passes");
      std::vector<bool> took(nd, false);
      for (uint64_t i = 0; i < store.num_docs(); ++i) {
        const DocRecord& d = store.doc(i);
        if (d.num_tokens == 0 || filled[d.domain] >= target[2 * d.domain]) continue;
        double est = cfg.paper_chars_per_token > 0 && d.text_bytes > 0 ? d.text_bytes / cfg.paper_chars_per_token : d.num_tokens;
        bool keep = est >= static_cast<double>(cfg.long_threshold) || unit_hash(d.id_hash, cfg.seed, kSaltPaper + pass) < cfg.keep_short;
        if (!keep) continue;
        uint64_t cost = doc_cost(d.num_tokens, x.cut, x.over), room = target[2 * d.domain] - filled[d.domain];
        if (cost <= room) {
          x.take_whole(i, pass);
          filled[d.domain] += cost;
        } else {
          filled[d.domain] += x.take_prefix(i, room, pass);
          if (filled[d.domain] < target[2 * d.domain]) filled[d.domain] = target[2 * d.domain];  // unreachable remainder
        }
        took[d.domain] = true;
      }
      // A domain that is still open but kept nothing in a whole pass never will (no document, or
      // none long with --keep-short 0).
      for (size_t d = 0; d < nd; ++d)
        if (filled[d] < target[2 * d] && !took[d])
          return make_error(ErrorCode::kInvalidArgument, "domain {}: paper-script keeps no document of it (budget {} tokens, {} filled)",
                            names[d], target[2 * d], filled[d]);
    }
  } else {
    // ---- per cell: full epochs, then the documents with the smallest selection keys ----
    std::vector<uint64_t> epochs(2 * nd, 0), rem(2 * nd, 0);
    for (size_t c = 0; c < 2 * nd; ++c) {
      if (target[c] == 0) continue;
      std::string what = by_class ? (c % 2 ? " long (>" + std::to_string(cfg.long_threshold) + " tokens)" : " short") : "";
      if (cell_cost[c] == 0)
        return make_error(ErrorCode::kInvalidArgument, "domain {}: target of {} tokens but the store has no{} documents", names[c / 2], target[c], what);
      epochs[c] = target[c] / cell_cost[c];
      rem[c] = target[c] % cell_cost[c];
      if (epochs[c] > 0 && cfg.no_repeat && target[c] > cell_cost[c])
        return make_error(ErrorCode::kInvalidArgument,
                          "domain {}: target of {} tokens from{} documents but only {} available (shortfall {}); drop --no-repeat to repeat documents",
                          names[c / 2], target[c], what, cell_cost[c], target[c] - cell_cost[c]);
    }
    auto sel_key = [&](const DocRecord& d) { return mix64(d.id_hash ^ mix64(cfg.seed ^ mix64(kSaltSelect))); };
    // Pass 1: cost histogram over the top 16 bits of the selection key, per cell with a remainder.
    std::vector<std::vector<uint64_t>> hist(2 * nd);
    for (size_t c = 0; c < 2 * nd; ++c)
      if (rem[c]) hist[c].assign(65536, 0);
    for (const DocRecord& d : store.docs()) {
      if (d.num_tokens == 0) continue;
      size_t c = cell_of(d);
      if (rem[c]) hist[c][sel_key(d) >> 48] += doc_cost(d.num_tokens, x.cut, x.over);
    }
    std::vector<uint64_t> cut_bin(2 * nd, 0), before_bin(2 * nd, 0);
    for (size_t c = 0; c < 2 * nd; ++c) {
      if (!rem[c]) continue;
      uint64_t acc = 0;
      size_t b = 0;
      while (acc + hist[c][b] < rem[c]) acc += hist[c][b++];
      cut_bin[c] = b;
      before_bin[c] = acc;
      hist[c].clear();
      hist[c].shrink_to_fit();
    }
    // Pass 2: full epochs, the bins below the boundary, and the boundary bin's candidates.
    std::vector<std::vector<std::pair<uint64_t, uint64_t>>> boundary(2 * nd);
    for (uint64_t i = 0; i < store.num_docs(); ++i) {
      const DocRecord& d = store.doc(i);
      if (d.num_tokens == 0) continue;
      size_t c = cell_of(d);
      for (uint64_t e = 0; e < epochs[c]; ++e) x.take_whole(i, static_cast<uint32_t>(e));
      if (!rem[c]) continue;
      uint64_t k = sel_key(d), bin = k >> 48;
      if (bin < cut_bin[c]) x.take_whole(i, static_cast<uint32_t>(epochs[c]));
      else if (bin == cut_bin[c]) boundary[c].push_back({k, i});
    }
    for (size_t c = 0; c < 2 * nd; ++c) {
      if (!rem[c]) continue;
      std::sort(boundary[c].begin(), boundary[c].end());
      uint64_t left = rem[c] - before_bin[c];
      for (const auto& [k, i] : boundary[c]) {
        if (left == 0) break;
        uint64_t cost = doc_cost(store.doc(i).num_tokens, x.cut, x.over);
        if (cost <= left) {
          x.take_whole(i, static_cast<uint32_t>(epochs[c]));
          left -= cost;
        } else {
          x.take_prefix(i, left, static_cast<uint32_t>(epochs[c]));
          left = 0;
        }
      }
    }
  }

  // ---- epochs ----
  for (size_t d = 0; d < nd; ++d) {
    auto& dp = plan.domains[d];
    dp.epochs = doc_tokens[d] ? static_cast<double>(x.sel_doc_tokens[d]) / static_cast<double>(doc_tokens[d]) : 0;
    dp.epochs_long = long_tokens[d] ? static_cast<double>(x.sel_long[d]) / static_cast<double>(long_tokens[d]) : 0;
    dp.epochs_short = short_tokens[d] ? static_cast<double>(x.sel_short[d]) / static_cast<double>(short_tokens[d]) : 0;
  }

  // ---- shuffle and layout ----
  m.pieces = std::move(x.pieces);
  plan.pieces = m.pieces.size();
  std::sort(m.pieces.begin(), m.pieces.end(), [](const Piece& a, const Piece& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.doc != b.doc) return a.doc < b.doc;
    if (a.repeat != b.repeat) return a.repeat < b.repeat;
    return a.start < b.start;
  });
  const uint64_t L = cfg.seq_len;
  uint64_t pos = 0;
  for (Piece& p : m.pieces) {
    uint64_t w = p.len + x.over;
    if (!cfg.split) {
      uint64_t off = pos % L;
      if (off != 0 && off + w > L && w <= L) pos += L - off;  // --no-split: start a new chunk
    }
    p.pos = pos;
    pos += w;
  }
  m.stream_end = pos;
  m.num_chunks = pos / L + (pos % L != 0 && cfg.last == LastChunk::kPad ? 1 : 0);
  return m;
}

Result<TokenReader> TokenReader::open(const DocumentStore& store) {
  TokenReader r;
  r.path_ = store.dir() + "/tokens.bin";
  LONGCTX_ASSIGN_OR_RETURN(uint64_t size, file_size(r.path_));
  if (size < kStoreHeaderBytes + store.num_tokens() * store.token_bytes())
    return make_error(ErrorCode::kCorrupt, "'{}' is shorter than its {} tokens", r.path_, store.num_tokens());
  int fd = ::open(r.path_.c_str(), O_RDONLY);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open '{}'", r.path_);
  r.fd_ = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  r.token_bytes_ = store.token_bytes();
  return r;
}

Status TokenReader::read(uint64_t offset, uint64_t n, uint32_t* out) const {
  char* dst = reinterpret_cast<char*>(out);
  uint64_t want = n * token_bytes_, at = kStoreHeaderBytes + offset * token_bytes_;
  while (want > 0) {
    ssize_t got = ::pread(*fd_, dst, want, static_cast<off_t>(at));
    if (got <= 0) return make_error(ErrorCode::kIo, "cannot read {} bytes at {} of '{}'", want, at, path_);
    dst += got;
    at += static_cast<uint64_t>(got);
    want -= static_cast<uint64_t>(got);
  }
  if (token_bytes_ == 2) {
    // Widen in place from the end: uint16 i sits at byte 2i, uint32 i goes to byte 4i >= 2i.
    const uint8_t* b = reinterpret_cast<const uint8_t*>(out);
    for (uint64_t i = n; i-- > 0;) out[i] = static_cast<uint32_t>(b[2 * i]) | (static_cast<uint32_t>(b[2 * i + 1]) << 8);
  }
  return Status::ok();
}

Status pack_chunk(const Mixture& m, const DocumentStore& store, const TokenReader& reader, uint64_t c,
                  std::vector<uint32_t>* tokens, std::vector<PackedSpan>* spans) {
  const MixConfig& cfg = m.plan.config;
  const uint64_t L = cfg.seq_len, a = c * L, b = a + L;
  const uint64_t bos = cfg.bos ? 1 : 0, over = bos + (cfg.eos ? 1 : 0);
  tokens->assign(L, cfg.pad_id);
  spans->clear();
  // First piece ending after a.
  auto it = std::partition_point(m.pieces.begin(), m.pieces.end(),
                                 [&](const Piece& p) { return p.pos + p.len + over <= a; });
  uint64_t at = a;
  auto pad_to = [&](uint64_t to) {
    if (to > at) spans->push_back(PackedSpan{0, static_cast<uint32_t>(at - a), static_cast<uint32_t>(to - a), 0, kPadDomain, 0});
    at = to;
  };
  for (; it != m.pieces.end() && it->pos < b; ++it) {
    const Piece& p = *it;
    const uint64_t w = p.len + over;
    if (w == 0) continue;
    pad_to(std::max(at, p.pos));
    const uint64_t s = std::max(a, p.pos), e = std::min(b, p.pos + w);  // stream range in this chunk
    const uint64_t ls = s - p.pos, le = e - p.pos;                      // local range in the piece
    const DocRecord& d = store.doc(p.doc);
    uint32_t* out = tokens->data() + (s - a);
    uint64_t i = ls;
    if (bos && i == 0 && i < le) {
      *out++ = cfg.bos_id;
      ++i;
    }
    uint64_t ds = i - bos, de = std::min<uint64_t>(le - bos, p.len);  // document token range
    if (de > ds) {
      LONGCTX_RETURN_IF_ERROR(reader.read(d.token_offset + p.start + ds, de - ds, out));
      out += de - ds;
      i += de - ds;
    }
    if (cfg.eos && i < le) *out++ = cfg.eos_id;
    uint16_t flags = static_cast<uint16_t>((ls == 0 ? kSpanStart : 0) | (le == w ? kSpanEnd : 0) |
                                           (std::min<uint32_t>(p.repeat, 255) << 8));
    spans->push_back(PackedSpan{d.id_hash, static_cast<uint32_t>(s - a), static_cast<uint32_t>(e - a),
                                static_cast<uint32_t>(p.start + std::min<uint64_t>(ds, p.len)), d.domain, flags});
    at = e;
  }
  pad_to(b);
  return Status::ok();
}

// ---- plan output ----------------------------------------------------------------------------

nlohmann::json plan_json(const MixPlan& p) {
  nlohmann::json j;
  j["config"] = mix_config_json(p.config);
  j["chunks"] = p.chunks;
  j["total_tokens"] = p.total;
  j["pieces"] = p.pieces;
  j["bucket_labels"] = length_bucket_labels();
  nlohmann::json ds = nlohmann::json::array();
  for (const auto& d : p.domains) {
    nlohmann::json b = nlohmann::json::array();
    for (const auto& c : d.buckets)
      b.push_back({{"available", c.available}, {"target", c.selected},
                   {"rate", c.available ? static_cast<double>(c.selected) / static_cast<double>(c.available) : 0.0}});
    ds.push_back({{"name", d.name}, {"target", d.target}, {"target_long", d.target_long}, {"target_short", d.target_short},
                  {"available", d.available}, {"available_long", d.available_long},
                  {"long_share_target", d.long_share_target}, {"epochs", d.epochs},
                  {"epochs_long", d.epochs_long}, {"epochs_short", d.epochs_short}, {"max_repeat", d.max_repeat},
                  {"expected_repeats", std::max(0.0, d.epochs - 1.0)}, {"buckets", b}});
  }
  j["domains"] = ds;
  return j;
}

std::string plan_table(const MixPlan& p) {
  std::string s = fmt::format("plan: {} tokens = {} chunks x {} (strategy {}, seed {})\n", p.total, p.chunks,
                              p.config.seq_len, mix_strategy_name(p.config.strategy), p.config.seed);
  auto labels = length_bucket_labels();
  for (const auto& d : p.domains) {
    s += fmt::format("\n{}: target {} tokens ({:.2f}% of the mix), available {}, epochs {:.3f} (long {:.3f}, short {:.3f}), max repeat {}\n",
                     d.name, d.target, p.total ? 100.0 * d.target / p.total : 0.0, d.available, d.epochs, d.epochs_long,
                     d.epochs_short, d.max_repeat);
    if (p.config.strategy == MixStrategy::kPerSourceUpsample)
      s += fmt::format("  long (>{} tokens) share target {:.2f}%{}\n", p.config.long_threshold, 100 * d.long_share_target,
                       d.available_long == 0 ? " (the store has no long documents in this domain)"
                       : d.long_share_target > p.config.long_share ? " (the domain's own share, above --long-share)" : "");
    s += fmt::format("  {:<8} {:>14} {:>14} {:>9} {:>9}\n", "bucket", "available", "target", "rate", "repeats");
    for (size_t b = 0; b < d.buckets.size(); ++b) {
      const auto& c = d.buckets[b];
      if (!c.available && !c.selected) continue;
      double rate = c.available ? static_cast<double>(c.selected) / static_cast<double>(c.available) : 0.0;
      s += fmt::format("  {:<8} {:>14} {:>14} {:>9.4f} {:>9.3f}\n", labels[b], c.available, c.selected, rate, std::max(0.0, rate - 1.0));
    }
  }
  return s;
}

// ---- report ---------------------------------------------------------------------------------

MixReport mix_report(const DocumentStore& store, const Mixture& m) {
  MixReport r;
  const auto& cfg = m.plan.config;
  r.title = fmt::format("{} ({} tokens, seq_len {})", mix_strategy_name(cfg.strategy), m.plan.total, cfg.seq_len);
  r.long_threshold = cfg.long_threshold;
  r.bucket_labels = length_bucket_labels();
  const size_t nd = store.domains().size(), nb = r.bucket_labels.size();
  r.before.resize(nd);
  r.after.resize(nd);
  std::vector<uint64_t> long_before(nd, 0), long_after(nd, 0);
  for (size_t d = 0; d < nd; ++d) {
    r.before[d].name = r.after[d].name = store.domains()[d];
    r.before[d].bucket_tokens.assign(nb, 0);
    r.after[d].bucket_tokens.assign(nb, 0);
    r.after[d].epochs = m.plan.domains[d].epochs;
    r.after[d].epochs_long = m.plan.domains[d].epochs_long;
    r.after[d].max_repeat = m.plan.domains[d].max_repeat;
  }
  for (const DocRecord& d : store.docs()) {
    r.before[d.domain].tokens += d.num_tokens;
    r.before[d.domain].bucket_tokens[length_bucket_of(d.num_tokens)] += d.num_tokens;
    if (d.num_tokens > cfg.long_threshold) long_before[d.domain] += d.num_tokens;
    r.total_before += d.num_tokens;
  }
  const uint64_t over = (cfg.bos ? 1 : 0) + (cfg.eos ? 1 : 0);
  const uint64_t end = m.num_chunks * cfg.seq_len;
  const uint64_t cut = cfg.strategy == MixStrategy::kCut ? cfg.cut_at : cfg.strategy == MixStrategy::kNatural ? cfg.max_doc : kNoCut;
  uint64_t placed = 0;
  for (const Piece& p : m.pieces) {
    if (p.pos >= end) continue;
    uint64_t w = std::min<uint64_t>(p.len + over, end - p.pos);
    const DocRecord& d = store.doc(p.doc);
    // The piece's nominal length: its cut (cut / natural) or the rest of the document, so the
    // prefix that a budget truncates counts as the document it came from.
    uint64_t nominal = std::min<uint64_t>(cut, d.num_tokens - p.start);
    r.after[d.domain].tokens += w;
    r.after[d.domain].bucket_tokens[length_bucket_of(nominal)] += w;
    if (nominal > cfg.long_threshold) long_after[d.domain] += w;
    placed += w;
  }
  r.total_after = placed;
  r.pad_tokens = end - placed;
  for (size_t d = 0; d < nd; ++d) {
    auto f = [](uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
    r.before[d].token_share = f(r.before[d].tokens, r.total_before);
    r.before[d].long_share = f(long_before[d], r.before[d].tokens);
    r.after[d].token_share = f(r.after[d].tokens, r.total_after);
    r.after[d].long_share = f(long_after[d], r.after[d].tokens);
  }
  return r;
}

nlohmann::json report_json(const MixReport& r) {
  auto side = [](const std::vector<MixSide>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : v)
      a.push_back({{"name", s.name}, {"tokens", s.tokens}, {"token_share", s.token_share}, {"long_share", s.long_share},
                   {"bucket_tokens", s.bucket_tokens}, {"epochs", s.epochs}, {"epochs_long", s.epochs_long}, {"max_repeat", s.max_repeat}});
    return a;
  };
  return {{"title", r.title}, {"long_threshold", r.long_threshold}, {"bucket_labels", r.bucket_labels},
          {"total_before", r.total_before}, {"total_after", r.total_after}, {"pad_tokens", r.pad_tokens},
          {"before", side(r.before)}, {"after", side(r.after)}};
}

Result<MixReport> report_from_json(const nlohmann::json& j) {
  MixReport r;
  try {
    r.title = j.at("title").get<std::string>();
    r.long_threshold = j.at("long_threshold").get<uint64_t>();
    r.bucket_labels = j.at("bucket_labels").get<std::vector<std::string>>();
    r.total_before = j.at("total_before").get<uint64_t>();
    r.total_after = j.at("total_after").get<uint64_t>();
    r.pad_tokens = j.value("pad_tokens", uint64_t{0});
    for (const char* key : {"before", "after"}) {
      auto& v = std::string(key) == "before" ? r.before : r.after;
      for (const auto& s : j.at(key))
        v.push_back(MixSide{s.at("name").get<std::string>(), s.at("token_share").get<double>(), s.at("long_share").get<double>(),
                            s.at("tokens").get<uint64_t>(), s.at("bucket_tokens").get<std::vector<uint64_t>>(),
                            s.value("epochs", 0.0), s.value("epochs_long", 0.0), s.value("max_repeat", 0u)});
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "mixture report JSON: {}", e.what());
  }
  return r;
}

std::string report_table(const MixReport& r) {
  std::string s = fmt::format("mixture: {}\n", r.title);
  s += fmt::format("{:<24} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7}\n", "domain", "share", "share", fmt::format(">{}K", r.long_threshold / 1024),
                   fmt::format(">{}K", r.long_threshold / 1024), "epochs", "epochs", "max");
  s += fmt::format("{:<24} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7}\n", "", "before", "after", "before", "after", "", "long", "repeat");
  for (size_t d = 0; d < r.after.size(); ++d)
    s += fmt::format("{:<24} {:>8.2f}% {:>8.2f}% {:>8.1f}% {:>8.1f}% {:>8.3f} {:>8.3f} {:>7}\n", r.after[d].name, 100 * r.before[d].token_share,
                     100 * r.after[d].token_share, 100 * r.before[d].long_share, 100 * r.after[d].long_share, r.after[d].epochs,
                     r.after[d].epochs_long, r.after[d].max_repeat);
  s += fmt::format("tokens: {} before, {} after (+{} padding)\n\ntokens after, by piece length:\n{:<24}", r.total_before,
                   r.total_after, r.pad_tokens, "domain");
  for (const auto& l : r.bucket_labels) s += fmt::format(" {:>9}", l);
  s += "\n";
  for (const auto& a : r.after) {
    s += fmt::format("{:<24}", a.name);
    for (auto t : a.bucket_tokens) s += fmt::format(" {:>9}", t);
    s += "\n";
  }
  return s;
}

std::string report_markdown(const MixReport& r) {
  std::string th = fmt::format(">{}K", r.long_threshold / 1024);
  std::string s = fmt::format("### Mixture: {}\n\n| domain | share before | share after | {} before | {} after | epochs | epochs (long docs) | max repeat |\n"
                              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", r.title, th, th);
  for (size_t d = 0; d < r.after.size(); ++d)
    s += fmt::format("| {} | {:.2f}% | {:.2f}% | {:.1f}% | {:.1f}% | {:.3f} | {:.3f} | {} |\n", r.after[d].name, 100 * r.before[d].token_share,
                     100 * r.after[d].token_share, 100 * r.before[d].long_share, 100 * r.after[d].long_share, r.after[d].epochs,
                     r.after[d].epochs_long, r.after[d].max_repeat);
  s += "\nTokens after, by piece length:\n\n| domain |";
  for (const auto& l : r.bucket_labels) s += " " + l + " |";
  s += "\n| --- |";
  for (size_t i = 0; i < r.bucket_labels.size(); ++i) s += " ---: |";
  s += "\n";
  for (const auto& a : r.after) {
    s += "| " + a.name + " |";
    for (auto t : a.bucket_tokens) s += fmt::format(" {} |", t);
    s += "\n";
  }
  return s;
}

}  // namespace longctx
