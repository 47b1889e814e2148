#include "mix/packing.h"

#include <algorithm>

#include "core/hash.h"
#include "core/memory_info.h"
#include "core/units.h"
#include "mix/selection.h"
#include "mix/strategy.h"

namespace longctx {
namespace {

constexpr uint64_t kSaltShuffle = 0x5F1E;

// Turns the selection into pieces: a document taken k tokens in p pieces, count times, gives
// count x p pieces, each with its shuffle key.
class PieceCollector final : public SelectionSink {
 public:
  PieceCollector(const DocumentStore& store, const MixConfig& cfg, const PieceCost& cost, std::vector<Piece>& out)
      : store_(store), seed_(cfg.seed), cost_(cost), out_(out) {}

  void take(uint64_t doc, uint64_t k, uint64_t p, uint32_t first_repeat, uint32_t count) override {
    const DocRecord& d = store_.doc(doc);
    const auto lens = cost_.lengths(k, p);
    for (uint32_t r = first_repeat; r < first_repeat + count; ++r) {
      uint64_t start = 0;
      for (size_t i = 0; i < lens.size(); ++i) {
        out_.push_back(Piece{shuffle_key(d, r, i), doc, static_cast<uint32_t>(start), static_cast<uint32_t>(lens[i]), r, 0, 0});
        start += lens[i];
      }
    }
  }

 private:
  uint64_t shuffle_key(const DocRecord& d, uint32_t repeat, uint64_t piece) const {
    return mix64(d.id_hash ^ mix64(seed_ ^ mix64(kSaltShuffle + (static_cast<uint64_t>(repeat) << 32) + piece)));
  }
  const DocumentStore& store_;
  uint64_t seed_;
  const PieceCost& cost_;
  std::vector<Piece>& out_;
};

// BOS, EOS and padding ids are written into the chunks: they must be tokens of the vocabulary.
Status check_special_ids(const MixConfig& cfg, uint64_t vocab) {
  if (vocab == 0) return Status::ok();
  for (auto [on, id, flag] : {std::tuple{cfg.bos, cfg.bos_id, "--bos-id"}, std::tuple{cfg.eos, cfg.eos_id, "--eos-id"},
                              std::tuple{true, cfg.pad_id, "--pad-id"}})
    if (on && id >= vocab)
      return make_error(ErrorCode::kInvalidArgument, "{} {} is not below the store's vocabulary size {}", flag, id, vocab);
  return Status::ok();
}

// Sorts the pieces by shuffle key and lays them out: Piece::pos, the stream's end and the chunks.
void shuffle_and_lay_out(Mixture& m, uint64_t overhead) {
  const MixConfig& cfg = m.plan.config;
  std::sort(m.pieces.begin(), m.pieces.end(), [](const Piece& a, const Piece& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.doc != b.doc) return a.doc < b.doc;
    if (a.repeat != b.repeat) return a.repeat < b.repeat;
    return a.start < b.start;
  });
  const uint64_t L = cfg.seq_len;
  uint64_t pos = 0;
  for (Piece& p : m.pieces) {
    uint64_t w = p.len + overhead;
    if (!cfg.split) {
      uint64_t off = pos % L;
      if (off != 0 && off + w > L && w <= L) pos += L - off;  // --no-split: start a new chunk
    }
    p.pos = pos;
    pos += w;
  }
  m.stream_end = pos;
  m.num_chunks = pos / L + (pos % L != 0 && cfg.last == LastChunk::kPad ? 1 : 0);
}

}  // namespace

uint64_t mixture_memory_estimate(const MixPlan& plan, const DocumentStore& store) {
  return plan.pieces * sizeof(Piece) + store.num_docs() * 3 / 2;
}

Result<Mixture> build_mixture(const DocumentStore& store, const MixConfig& cfg) {
  LONGCTX_RETURN_IF_ERROR(check_special_ids(cfg, store.vocab_size()));
  Mixture m;
  LONGCTX_ASSIGN_OR_RETURN(m.plan, plan_mixture(store, cfg));
  const uint64_t need = mixture_memory_estimate(m.plan, store);
  const uint64_t limit = cfg.max_memory ? cfg.max_memory : available_memory_bytes();
  if (limit && need > limit)
    return make_error(ErrorCode::kInvalidArgument,
                      "the mixture needs about {} of memory ({} pieces of {} bytes), more than the limit of {} ({}); "
                      "lower --tokens or --max-epochs, or raise --max-memory",
                      format_bytes(static_cast<double>(need)), m.plan.pieces, sizeof(Piece), format_bytes(static_cast<double>(limit)),
                      cfg.max_memory ? "--max-memory" : "the memory available now");
  const MixStrategy& strategy = *cfg.strategy;
  const PieceCost cost{strategy.piece_length(), uint64_t{cfg.bos} + uint64_t{cfg.eos}};
  m.pieces.reserve(m.plan.pieces);
  PieceCollector collect(store, cfg, cost, m.pieces);
  Selection sel(store, cfg, cost, m.plan.by_length, m.plan.cell_target, m.plan.cell_available, m.plan.cell_documents, collect);
  LONGCTX_RETURN_IF_ERROR(strategy.select(sel));
  if (m.pieces.size() != m.plan.pieces)
    return make_error(ErrorCode::kInternal, "the selection gave {} pieces, its plan {}", m.pieces.size(), m.plan.pieces);
  shuffle_and_lay_out(m, cost.overhead);
  return m;
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

}  // namespace longctx
