#include "mix/selection.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "core/hash.h"

namespace longctx {

uint64_t selection_key(const DocRecord& d, uint64_t seed) { return mix64(d.id_hash ^ mix64(seed ^ mix64(kMixSelectSalt))); }

bool PieceCost::truncate_to(uint64_t r, uint64_t n, uint64_t* k, uint64_t* p) const {
  const uint64_t o = overhead, c = cut;
  if (o == 0) {
    *k = std::min(r, n);
    *p = pieces(*k);
    return *k == r;
  }
  for (uint64_t q = std::max<uint64_t>(1, r / (c + o)); q * o <= r; ++q) {
    uint64_t kk = r - q * o;
    if (kk > n) continue;
    if (pieces(kk) <= q && (kk >= q || (kk == 0 && q == 1))) {
      *k = kk;
      *p = q;
      return true;
    }
  }
  return false;
}

std::vector<uint64_t> PieceCost::lengths(uint64_t k, uint64_t p) const {
  std::vector<uint64_t> out;
  uint64_t left = k;
  for (uint64_t i = 0; i < p; ++i) {
    uint64_t rest = p - i - 1;
    uint64_t len = std::min(cut, left > rest ? left - rest : left);
    out.push_back(len);
    left -= len;
  }
  return out;
}

std::string Selection::cell_words(Cell c) const {
  if (!by_length_) return "";
  return c.is_long() ? " long (>" + std::to_string(cfg_.long_threshold) + " tokens)" : " short";
}

void Selection::take_whole(uint64_t doc, uint32_t repeat, uint32_t count) {
  uint64_t n = store_.doc(doc).num_tokens;
  sink_.take(doc, n, cost_.pieces(n), repeat, count);
}

uint64_t Selection::take_prefix(uint64_t doc, uint64_t r, uint32_t repeat) {
  uint64_t k, p;
  uint64_t n = store_.doc(doc).num_tokens;
  if (!cost_.truncate_to(r, n, &k, &p)) {
    if (r < cost_.overhead) return 0;
    k = std::min(n, r - cost_.overhead);
    p = 1;
  }
  sink_.take(doc, k, p, repeat, 1);
  return k + p * cost_.overhead;
}

namespace {

// Histogram resolution of a cell: about one bin per 16 documents, between 1 and 65,536 bins (the
// top `bits` bits of the key). The selection does not depend on it (see select_by_key).
int histogram_bits(uint64_t documents) {
  uint64_t want = std::max<uint64_t>(1, documents / 16);
  return std::min(16, static_cast<int>(std::bit_width(want - 1)));
}
uint64_t key_bin(uint64_t key, int bits) { return bits == 0 ? 0 : key >> (64 - bits); }

// Full epochs and the remainder of one cell's target; refuses more uses than allowed.
Status cell_epochs(const Selection& s, Cell c, uint64_t* epochs, uint64_t* rem) {
  const uint64_t target = s.target()[c], avail = s.available()[c];
  *epochs = *rem = 0;
  if (target == 0) return Status::ok();
  const std::string& name = s.store().domains()[c.domain];
  if (avail == 0)
    return make_error(ErrorCode::kInvalidArgument, "domain {}: target of {} tokens but the store has no{} documents", name,
                      target, s.cell_words(c));
  *epochs = target / avail;
  *rem = target % avail;
  const MixConfig& cfg = s.config();
  if (*epochs > 0 && cfg.no_repeat && target > avail)
    return make_error(ErrorCode::kInvalidArgument,
                      "domain {}: target of {} tokens from{} documents but only {} available (shortfall {}); drop --no-repeat to repeat documents",
                      name, target, s.cell_words(c), avail, target - avail);
  const uint64_t uses = *epochs + (*rem ? 1 : 0);
  if (uses > cfg.max_epochs)
    return make_error(ErrorCode::kInvalidArgument,
                      "domain {}: target of {} tokens from{} documents needs {} uses of each of them ({} tokens available), "
                      "more than --max-epochs {}; lower --tokens or raise --max-epochs",
                      name, target, s.cell_words(c), uses, avail, cfg.max_epochs);
  return Status::ok();
}

}  // namespace

// Taking the documents in ascending key order until the remainder is met is what the two passes
// compute, whatever the bin width: the bins below the boundary bin hold less than the remainder
// in all, so each is taken whole; the boundary bin's documents are taken in key order; nothing
// above it is reached.
Status select_by_key(Selection& s) {
  const DocumentStore& store = s.store();
  const size_t nc = s.target().num_cells();
  const uint64_t seed = s.config().seed;
  std::vector<uint64_t> epochs(nc, 0), rem(nc, 0);
  std::vector<int> bits(nc, 0);
  for (size_t i = 0; i < nc; ++i) {
    LONGCTX_RETURN_IF_ERROR(cell_epochs(s, Cell::at(i), &epochs[i], &rem[i]));
    bits[i] = histogram_bits(s.documents()[Cell::at(i)]);
  }
  // Pass 1: cost histogram of the selection keys, per cell with a remainder.
  std::vector<std::vector<uint64_t>> hist(nc);
  for (size_t i = 0; i < nc; ++i)
    if (rem[i]) hist[i].assign(size_t{1} << bits[i], 0);
  for (const DocRecord& d : store.docs()) {
    if (d.num_tokens == 0) continue;
    size_t c = s.cell_of(d).index();
    if (rem[c]) hist[c][key_bin(selection_key(d, seed), bits[c])] += s.cost().cost(d.num_tokens);
  }
  std::vector<uint64_t> cut_bin(nc, 0), before_bin(nc, 0);
  for (size_t c = 0; c < nc; ++c) {
    if (!rem[c]) continue;
    uint64_t acc = 0;
    size_t b = 0;
    while (acc + hist[c][b] < rem[c]) acc += hist[c][b++];
    cut_bin[c] = b;
    before_bin[c] = acc;
    hist[c] = {};
  }
  // Pass 2: full epochs, the bins below the boundary, and the boundary bin's candidates.
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> boundary(nc);
  for (uint64_t i = 0; i < store.num_docs(); ++i) {
    const DocRecord& d = store.doc(i);
    if (d.num_tokens == 0) continue;
    size_t c = s.cell_of(d).index();
    if (epochs[c]) s.take_whole(i, 0, static_cast<uint32_t>(epochs[c]));
    if (!rem[c]) continue;
    uint64_t k = selection_key(d, seed), bin = key_bin(k, bits[c]);
    if (bin < cut_bin[c]) s.take_whole(i, static_cast<uint32_t>(epochs[c]));
    else if (bin == cut_bin[c]) boundary[c].push_back({k, i});
  }
  for (size_t c = 0; c < nc; ++c) {
    if (!rem[c]) continue;
    std::sort(boundary[c].begin(), boundary[c].end());
    uint64_t left = rem[c] - before_bin[c];
    for (const auto& [k, i] : boundary[c]) {
      if (left == 0) break;
      uint64_t cost = s.cost().cost(store.doc(i).num_tokens);
      if (cost <= left) {
        s.take_whole(i, static_cast<uint32_t>(epochs[c]));
        left -= cost;
      } else {
        s.take_prefix(i, left, static_cast<uint32_t>(epochs[c]));
        left = 0;
      }
    }
  }
  return Status::ok();
}

}  // namespace longctx
