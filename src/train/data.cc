#include "train/data.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/hash.h"
#include "store/document_store.h"
#include "store/exporters.h"
#include "store/packed_shards.h"

namespace longctx::train {

namespace {

// ---- packed mixture -----------------------------------------------------------------------------

// What the trainer needs from a packed manifest (store/packed_manifest.h): the vocabulary and each
// shard's checksum.
struct ManifestFacts {
  uint64_t vocab_size = 0;
  std::vector<std::string> checksums;  // per shard, hex xxh64 ("" = not recorded)
};

ManifestFacts manifest_facts(const PackedDataset& d) {
  ManifestFacts f;
  f.vocab_size = d.manifest.vocab_size;
  for (const PackedShardEntry& s : d.manifest.shards) f.checksums.push_back(s.xxh64);
  return f;
}

// Every token id of a shard below the model's vocabulary, so a mismatch is refused before the
// first step (the reads during training check again, cheaply).
Status check_ids(const PackedShard& sh, uint64_t vocab) {
  std::vector<uint32_t> buf;
  for (uint64_t c = 0; c < sh.num_chunks(); c++) {
    sh.chunk_tokens(c, &buf);
    const uint32_t mx = *std::max_element(buf.begin(), buf.end());
    if (mx < vocab) continue;
    const size_t at = (size_t)(std::find_if(buf.begin(), buf.end(), [&](uint32_t id) { return id >= vocab; }) - buf.begin());
    return make_error(ErrorCode::kInvalidArgument,
                      "'{}' chunk {} position {}: token id {} is not below the model's vocabulary size {}", sh.path(), c,
                      at, buf[at], vocab);
  }
  return Status::ok();
}

class PackedSource final : public TokenSource {
 public:
  static Result<std::unique_ptr<TokenSource>> open(const std::string& dir, int64_t seq_len, uint64_t vocab,
                                                   SourceInfo* info) {
    auto s = std::unique_ptr<PackedSource>(new PackedSource());
    LONGCTX_ASSIGN_OR_RETURN(PackedDataset d, open_packed_dir(dir));
    const ManifestFacts facts = manifest_facts(d);
    if (facts.vocab_size > vocab)
      return make_error(ErrorCode::kInvalidArgument,
                        "'{}' was tokenized with a vocabulary of {} ids, the model has {}: the data does not fit the model",
                        dir, facts.vocab_size, vocab);
    if (seq_len > (int64_t)d.seq_len)
      return make_error(ErrorCode::kInvalidArgument,
                        "--seq-len {} is beyond the data: '{}' holds chunks of {} tokens", seq_len, dir, d.seq_len);
    s->T_ = seq_len > 0 ? seq_len : (int64_t)d.seq_len;
    s->W_ = d.seq_len / (uint64_t)s->T_;
    s->domains_ = d.domains;
    s->vocab_ = vocab;
    s->first_.push_back(0);
    for (size_t i = 0; i < d.shard_files.size(); i++) {
      const std::string& path = d.shard_files[i];
      // the whole file against the manifest before any of it is trained on
      LONGCTX_ASSIGN_OR_RETURN(uint64_t sum, checksum_file(path));
      if (!facts.checksums[i].empty() && hex64(sum) != facts.checksums[i])
        return make_error(ErrorCode::kCorrupt, "'{}': checksum {} differs from the manifest's {}", path, hex64(sum),
                          facts.checksums[i]);
      LONGCTX_ASSIGN_OR_RETURN(PackedShard shard, PackedShard::open(path));
      if (shard.seq_len() != d.seq_len)
        return make_error(ErrorCode::kCorrupt, "'{}': chunks of {} tokens, the manifest says {}", path, shard.seq_len(), d.seq_len);
      LONGCTX_RETURN_IF_ERROR(shard.check(d.domains.size()));
      LONGCTX_RETURN_IF_ERROR(check_ids(shard, vocab));
      s->first_.push_back(s->first_.back() + shard.num_chunks());
      s->shards_.push_back(std::move(shard));
    }
    if (info) *info = {(int64_t)d.seq_len, facts.vocab_size, s->first_.back() * d.seq_len};
    return std::unique_ptr<TokenSource>(std::move(s));
  }

  uint64_t num_units() const override { return first_.back() * W_; }
  int64_t seq_len() const override { return T_; }
  const std::vector<std::string>& domains() const override { return domains_; }

  Status read(uint64_t unit, int32_t* tokens, std::vector<SeqSpan>* spans) const override {
    const uint64_t chunk = unit / W_, off = (unit % W_) * (uint64_t)T_;
    const size_t si = (size_t)(std::upper_bound(first_.begin(), first_.end(), chunk) - first_.begin() - 1);
    const PackedShard& sh = shards_[si];
    const uint64_t c = chunk - first_[si];
    thread_local std::vector<uint32_t> buf;
    sh.chunk_tokens(c, &buf);
    for (int64_t t = 0; t < T_; t++) {
      const uint32_t id = buf[off + (uint64_t)t];
      if (id >= vocab_)
        return make_error(ErrorCode::kCorrupt, "'{}' chunk {} position {}: token id {} is not below the model's vocabulary size {}",
                          sh.path(), c, off + (uint64_t)t, id, vocab_);
      tokens[t] = (int32_t)id;
    }
    spans->clear();
    for (const PackedSpan& p : sh.chunk_spans(c)) {
      const uint64_t a = std::max<uint64_t>(p.start, off), b = std::min<uint64_t>(p.end, off + (uint64_t)T_);
      if (a >= b) continue;
      spans->push_back({(int32_t)(a - off), (int32_t)(b - off), p.domain == kPadDomain ? -1 : (int32_t)p.domain});
    }
    return Status::ok();
  }

 private:
  int64_t T_ = 0;
  uint64_t W_ = 1, vocab_ = 0;
  std::vector<std::string> domains_;
  std::vector<PackedShard> shards_;
  std::vector<uint64_t> first_;  // first chunk of each shard, then the total
};

// ---- Megatron indexed dataset -------------------------------------------------------------------

uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  std::memcpy(&v, p, (size_t)bytes);  // little-endian hosts, as every reader here
  return v;
}

class MegatronSource final : public TokenSource {
 public:
  static Result<std::unique_ptr<TokenSource>> open(const std::string& prefix, int64_t seq_len, uint64_t vocab,
                                                   SourceInfo* info) {
    const std::string idx = prefix + ".idx";
    // structure (magic, version, dtype, sizes, offsets, document indices, .bin size)
    LONGCTX_RETURN_IF_ERROR(verify_export(idx));
    if (seq_len <= 0)
      return make_error(ErrorCode::kInvalidArgument, "'{}' is a Megatron dataset (a token stream): give --seq-len", idx);
    auto s = std::unique_ptr<MegatronSource>(new MegatronSource());
    LONGCTX_ASSIGN_OR_RETURN(s->idx_, MappedFile::open(idx));
    LONGCTX_ASSIGN_OR_RETURN(s->bin_, MappedFile::open(prefix + ".bin"));
    s->path_ = prefix + ".bin";
    const uint8_t* p = s->idx_.data();
    const int code = p[17];
    s->item_ = code == 8 || code == 3 ? 2 : code == 4 ? 4 : code == 1 ? 1 : 8;
    s->signed_ = code == 3 || code == 4 || code == 5;
    const uint64_t n = get_le(p + 18, 8);
    s->starts_.reserve(n + 1);
    s->starts_.push_back(0);
    for (uint64_t i = 0; i < n; i++) s->starts_.push_back(s->starts_.back() + get_le(p + 34 + 4 * i, 4));
    s->T_ = seq_len;
    s->vocab_ = vocab;
    const uint64_t total = s->starts_.back();
    if (total < (uint64_t)seq_len)
      return make_error(ErrorCode::kInvalidArgument, "--seq-len {} is beyond the data: '{}' holds {} tokens in all", seq_len,
                        s->path_, total);
    LONGCTX_RETURN_IF_ERROR(s->check_ids());
    if (info) *info = {0, 0, total};
    return std::unique_ptr<TokenSource>(std::move(s));
  }

  // Every id of the stream against the vocabulary, before the first step.
  Status check_ids() const {
    const uint64_t total = starts_.back();
    for (uint64_t pos = 0; pos < total; pos++) {
      const int64_t id = token(pos);
      if (id < 0 || (uint64_t)id >= vocab_)
        return make_error(ErrorCode::kInvalidArgument, "'{}' token {}: id {} is not in [0, {}) (the model's vocabulary)", path_,
                          pos, id, vocab_);
    }
    return Status::ok();
  }
  int64_t token(uint64_t pos) const {
    int64_t id = (int64_t)get_le(bin_.data() + pos * (uint64_t)item_, item_);
    if (signed_ && item_ < 8 && (id >> (8 * item_ - 1)) & 1) id -= int64_t{1} << (8 * item_);
    return id;
  }

  uint64_t num_units() const override { return starts_.back() / (uint64_t)T_; }
  int64_t seq_len() const override { return T_; }
  const std::vector<std::string>& domains() const override { return domains_; }

  Status read(uint64_t unit, int32_t* tokens, std::vector<SeqSpan>* spans) const override {
    const uint64_t a = unit * (uint64_t)T_, b = a + (uint64_t)T_;
    size_t seq = (size_t)(std::upper_bound(starts_.begin(), starts_.end(), a) - starts_.begin() - 1);
    spans->clear();
    for (uint64_t pos = a; pos < b; seq++) {
      const uint64_t end = std::min(b, starts_[seq + 1]);
      if (end > pos) spans->push_back({(int32_t)(pos - a), (int32_t)(end - a), 0});
      for (; pos < end; pos++) {
        const int64_t id = token(pos);
        if (id < 0 || (uint64_t)id >= vocab_)
          return make_error(ErrorCode::kCorrupt, "'{}' token {}: id {} is not in [0, {}) (the model's vocabulary)", path_,
                            pos, id, vocab_);
        tokens[pos - a] = (int32_t)id;
      }
    }
    return Status::ok();
  }

 private:
  MappedFile idx_, bin_;
  std::string path_;
  int item_ = 2;
  bool signed_ = false;
  int64_t T_ = 0;
  uint64_t vocab_ = 0;
  std::vector<uint64_t> starts_;  // token offset of each sequence, then the total
  std::vector<std::string> domains_{"megatron"};
};

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

}  // namespace

Result<std::unique_ptr<TokenSource>> open_token_source(const std::string& path, int64_t seq_len, uint64_t model_vocab,
                                                       SourceInfo* info) {
  std::string prefix = path;
  if (ends_with(path, ".idx") || ends_with(path, ".bin")) prefix = path.substr(0, path.size() - 4);
  if (file_exists(prefix + ".idx")) return MegatronSource::open(prefix, seq_len, model_vocab, info);
  if (!file_exists(path + "/manifest.json"))
    return make_error(ErrorCode::kNotFound,
                      "'{}' is neither a packed mixture (no manifest.json; run `longctx mix`) nor a Megatron PREFIX (no {}.idx)", path,
                      prefix);
  return PackedSource::open(path, seq_len, model_vocab, info);
}

void split_units(uint64_t n, double val_share, std::vector<uint64_t>* train, std::vector<uint64_t>* val) {
  train->clear();
  val->clear();
  uint64_t k = val_share > 0 ? std::max<uint64_t>(1, (uint64_t)std::llround(val_share * (double)n)) : 0;
  k = std::min(k, n > 0 ? n - 1 : 0);  // at least one unit stays for training
  std::vector<std::pair<uint64_t, uint64_t>> keyed;
  if (k > 0) {
    keyed.reserve(n);
    for (uint64_t u = 0; u < n; u++) keyed.push_back({mix64(u ^ 0x76616c5f73706c74ull), u});  // "val_splt"
    std::nth_element(keyed.begin(), keyed.begin() + (int64_t)k, keyed.end());
  }
  std::vector<uint8_t> held(n, 0);
  for (uint64_t i = 0; i < k; i++) held[keyed[i].second] = 1;
  for (uint64_t u = 0; u < n; u++) (held[u] ? val : train)->push_back(u);
}

uint64_t DataOrder::unit(uint64_t s) {
  const uint64_t n = units_.size();
  const uint64_t e = s / n;
  if (e != epoch_) {
    perm_ = units_;
    Rng rng(mix64(seed_ ^ mix64(e + 0x6f72646572ull)));  // "order"
    for (uint64_t i = n; i > 1; i--) std::swap(perm_[i - 1], perm_[rng.below(i)]);
    epoch_ = e;
  }
  return perm_[s % n];
}

Status build_micro_batch(const TokenSource& src, const std::vector<uint64_t>& units, bool doc_mask, MicroBatch* out) {
  const int B = (int)units.size(), T = (int)src.seq_len();
  out->B = B, out->T = T;
  const size_t N = (size_t)B * (size_t)T;
  out->inputs.assign(N, 0);
  out->targets.assign(N, -1);
  out->doc_start.assign(doc_mask ? N : 0, 0);
  out->domain.assign(N, -1);
  std::vector<SeqSpan> spans;
  for (int b = 0; b < B; b++) {
    int32_t* in = out->inputs.data() + (size_t)b * T;
    LONGCTX_RETURN_IF_ERROR(src.read(units[(size_t)b], in, &spans));
    int32_t* tg = out->targets.data() + (size_t)b * T;
    int32_t* dom = out->domain.data() + (size_t)b * T;
    for (const SeqSpan& sp : spans) {
      if (sp.domain < 0) continue;  // padding predicts nothing and is not predicted
      for (int t = sp.start; t < sp.end; t++) {
        if (doc_mask) out->doc_start[(size_t)b * T + (size_t)t] = sp.start;
        const bool last = t + 1 == sp.end;
        if (t + 1 >= T || (last && doc_mask)) continue;
        if (last) {  // full attention: the next span's first token is predicted unless it is padding
          auto next = std::find_if(spans.begin(), spans.end(), [&](const SeqSpan& q) { return q.start == sp.end; });
          if (next == spans.end() || next->domain < 0) continue;
        }
        tg[t] = in[t + 1];
        dom[t] = sp.domain;
      }
    }
  }
  return Status::ok();
}

}  // namespace longctx::train
