#include "eval/loss_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/validate.h"
#include "store/document_store.h"
#include "store/packed_shards.h"
#include "model/generate.h"

namespace longctx::eval {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
double mean_of(double sum, int64_t n) { return n > 0 ? sum / static_cast<double>(n) : kNaN; }
}  // namespace

double DomainLoss::mean_before() const { return mean_of(sum_before, count_before); }
double DomainLoss::mean_after() const { return mean_of(sum_after, count_after); }
double PositionBucket::mean() const { return mean_of(sum, count); }

Status LossEvalConfig::validate() const {
  if (data.empty()) return make_error(ErrorCode::kInvalidArgument, "--data is required");
  LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--split", split, 1, int64_t{1} << 31));
  LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--seq-len", seq_len, 0, int64_t{1} << 24));
  LONGCTX_RETURN_IF_ERROR(check_range<uint64_t>("--max-tokens", max_tokens, 1, uint64_t{1} << 40));
  for (size_t i = 0; i < bucket_edges.size(); ++i) {
    LONGCTX_RETURN_IF_ERROR(check_range<int64_t>("--buckets", bucket_edges[i], 1, int64_t{1} << 31));
    if (i > 0 && bucket_edges[i] <= bucket_edges[i - 1]) {
      return make_error(ErrorCode::kInvalidArgument, "--buckets must ascend: {} after {}", bucket_edges[i], bucket_edges[i - 1]);
    }
  }
  return Status::ok();
}

std::vector<int64_t> default_bucket_edges(int64_t seq_len) {
  std::vector<int64_t> e;
  for (int64_t b = seq_len < 2048 ? 64 : 1024; b < seq_len; b *= 2) e.push_back(b);
  return e;
}

namespace {

// Accumulates per-position losses into domains and buckets.
struct Accumulator {
  const LossEvalConfig* cfg;
  std::vector<DomainLoss> domains;
  std::vector<PositionBucket> buckets;
  uint64_t sequences = 0, positions = 0;

  void add(size_t domain, int64_t pos, double loss) {
    DomainLoss& d = domains[domain];
    if (pos < cfg->split) {
      d.sum_before += loss;
      ++d.count_before;
    } else {
      d.sum_after += loss;
      ++d.count_after;
    }
    // buckets are few (log2 of the length): a linear scan
    for (auto& b : buckets) {
      if (pos >= b.lo && pos < b.hi) {
        b.sum += loss;
        ++b.count;
        break;
      }
    }
    ++positions;
  }
  bool full() const {
    for (const auto& d : domains) {
      if (static_cast<uint64_t>(d.count_before + d.count_after) < cfg->max_tokens) return false;
    }
    return true;
  }
  uint64_t domain_count(size_t d) const { return static_cast<uint64_t>(domains[d].count_before + domains[d].count_after); }
};

// One sequence of T tokens with its documents: scores it and adds each position to its domain.
struct Piece {
  int64_t start, end;  // [start, end) in the sequence
  size_t domain;       // SIZE_MAX: no loss (padding)
};

Status score_sequence(model::ScoreSession& sess, const std::vector<int32_t>& ids, const std::vector<Piece>& pieces,
                      Accumulator& acc) {
  const int T = static_cast<int>(ids.size());
  std::vector<int32_t> targets(ids.size(), -1), doc(ids.size(), 0);
  for (const Piece& p : pieces) {
    for (int64_t t = p.start; t < p.end; ++t) {
      doc[static_cast<size_t>(t)] = static_cast<int32_t>(p.start);
      if (p.domain != SIZE_MAX && t + 1 < p.end) targets[static_cast<size_t>(t)] = ids[static_cast<size_t>(t + 1)];
    }
  }
  model::Batch b;
  b.inputs = ids.data();
  b.targets = targets.data();
  b.doc_start = doc.data();
  b.B = 1;
  b.T = T;
  std::vector<float> losses(ids.size());
  LONGCTX_RETURN_IF_ERROR(sess.score(b, losses.data()).status());
  for (const Piece& p : pieces) {
    if (p.domain == SIZE_MAX) continue;
    for (int64_t t = p.start; t + 1 < p.end; ++t) acc.add(p.domain, t - p.start, losses[static_cast<size_t>(t)]);
  }
  ++acc.sequences;
  return Status::ok();
}

Status check_ids(const std::vector<int32_t>& ids, int64_t V, const std::string& where) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      return make_error(ErrorCode::kCorrupt, "{}: token {} at position {} is outside the model's vocabulary of {}", where,
                        ids[i], i, V);
    }
  }
  return Status::ok();
}

// Order of sampling: items sorted by a hash of their key under the seed.
std::vector<size_t> hashed_order(size_t n, const std::function<uint64_t(size_t)>& key, uint64_t seed) {
  std::vector<std::pair<uint64_t, size_t>> k(n);
  for (size_t i = 0; i < n; ++i) k[i] = {mix64(key(i) ^ mix64(seed + 0x5EED)), i};
  std::sort(k.begin(), k.end());
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = k[i].second;
  return order;
}

// Positions a chunk would add per domain: each document span's tokens within the first T, less one
// (its last token predicts nothing).
void span_positions(std::span<const PackedSpan> spans, int64_t T, size_t num_domains, std::vector<uint64_t>* add) {
  add->assign(num_domains, 0);
  for (const PackedSpan& sp : spans) {
    if (sp.domain >= num_domains || static_cast<int64_t>(sp.start) >= T) continue;
    const int64_t end = std::min<int64_t>(sp.end, T);
    if (end - sp.start >= 2) (*add)[sp.domain] += static_cast<uint64_t>(end - sp.start - 1);
  }
}

// Two passes: the chunks are chosen in hash order from their span tables alone (checked when
// each shard opens) until every domain has max_tokens positions; then every shard is streamed
// through for_each_packed_chunk, which checks token ids and the files' checksums as it reads,
// and the chosen chunks are scored as they pass.
Status evaluate_mixture(const model::LlamaModel& m, const PackedDataset& ds, Accumulator& acc, int64_t seq_len,
                        ProgressThrottle& throttle, ProgressSnapshot& snap) {
  LONGCTX_ASSIGN_OR_RETURN(auto sess, model::ScoreSession::create(m));
  const size_t D = ds.domains.size();
  std::vector<bool> chosen;
  {
    std::vector<PackedShard> shards;
    std::vector<uint64_t> first;  // first chunk (relative to the directory's first) of each shard
    uint64_t total = 0;
    for (const auto& f : ds.shard_files) {
      LONGCTX_ASSIGN_OR_RETURN(PackedShard s, PackedShard::open(f));
      LONGCTX_RETURN_IF_ERROR(s.check(D).with_context(f));
      first.push_back(total);
      total += s.num_chunks();
      shards.push_back(std::move(s));
    }
    chosen.assign(total, false);
    std::vector<uint64_t> have(D, 0), add;
    auto full = [&] {
      for (size_t d = 0; d < D; ++d)
        if (have[d] < acc.cfg->max_tokens) return false;
      return true;
    };
    for (size_t c : hashed_order(total, [](size_t i) { return static_cast<uint64_t>(i); }, acc.cfg->seed)) {
      if (full()) break;
      size_t s = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), c) - first.begin()) - 1;
      span_positions(shards[s].chunk_spans(c - first[s]), seq_len, D, &add);
      bool useful = false;
      for (size_t d = 0; d < D; ++d) useful = useful || (add[d] > 0 && have[d] < acc.cfg->max_tokens);
      if (!useful) continue;
      chosen[c] = true;
      for (size_t d = 0; d < D; ++d) have[d] += add[d];
    }
  }
  const uint64_t base = ds.manifest.shards.empty() ? 0 : ds.manifest.shards[0].first_chunk;
  return for_each_packed_chunk(ds, [&](uint64_t chunk, std::span<const uint32_t> toks, std::span<const PackedSpan> spans) -> Status {
    const uint64_t c = chunk - base;
    if (c >= chosen.size() || !chosen[c]) return Status::ok();
    const int64_t T = std::min<int64_t>(seq_len, static_cast<int64_t>(toks.size()));
    std::vector<int32_t> ids(toks.begin(), toks.begin() + T);
    LONGCTX_RETURN_IF_ERROR(check_ids(ids, m.config().vocab_size, fmt::format("{} chunk {}", ds.dir, chunk)));
    std::vector<Piece> pieces;
    for (const PackedSpan& sp : spans) {
      if (static_cast<int64_t>(sp.start) >= T) break;
      pieces.push_back({sp.start, std::min<int64_t>(sp.end, T), sp.domain < D ? static_cast<size_t>(sp.domain) : SIZE_MAX});
    }
    LONGCTX_RETURN_IF_ERROR(score_sequence(sess, ids, pieces, acc));
    snap.docs = acc.sequences;
    snap.tokens += static_cast<uint64_t>(T);
    snap.bytes = acc.positions;
    throttle.report(snap);
    return Status::ok();
  });
}

Status evaluate_store(const model::LlamaModel& m, const DocumentStore& st, Accumulator& acc, int64_t seq_len,
                      ProgressThrottle& throttle, ProgressSnapshot& snap) {
  LONGCTX_ASSIGN_OR_RETURN(auto sess, model::ScoreSession::create(m));
  const auto docs = st.docs();
  std::vector<size_t> order = hashed_order(docs.size(), [&](size_t i) { return docs[i].id_hash; }, acc.cfg->seed);
  const int bos = m.config().bos_token_id;
  const bool add_bos = bos >= 0 && bos < m.config().vocab_size;
  std::vector<uint32_t> toks;
  for (size_t i : order) {
    if (acc.full()) break;
    const DocRecord& d = docs[i];
    if (d.domain >= acc.domains.size() || acc.domain_count(d.domain) >= acc.cfg->max_tokens) continue;
    LONGCTX_RETURN_IF_ERROR(st.tokens(i, &toks));
    std::vector<int32_t> ids;
    if (add_bos) ids.push_back(bos);
    for (uint32_t t : toks) {
      if (static_cast<int64_t>(ids.size()) >= seq_len) break;
      ids.push_back(static_cast<int32_t>(std::min<uint32_t>(t, INT32_MAX)));
    }
    if (ids.size() < 2) continue;
    LONGCTX_RETURN_IF_ERROR(check_ids(ids, m.config().vocab_size, fmt::format("{} document {}", st.dir(), i)));
    LONGCTX_RETURN_IF_ERROR(score_sequence(sess, ids, {Piece{0, static_cast<int64_t>(ids.size()), d.domain}}, acc));
    snap.docs = acc.sequences;
    snap.tokens += ids.size();
    snap.bytes = acc.positions;
    throttle.report(snap);
  }
  return Status::ok();
}

}  // namespace

Result<LossEvalResult> evaluate_loss(const model::LlamaModel& m, const LossEvalConfig& cfg, const ProgressFn& progress) {
  LONGCTX_RETURN_IF_ERROR(cfg.validate());
  // A document store or a packed mixture, whichever the directory is.
  auto store = DocumentStore::open(cfg.data);
  std::optional<PackedDataset> mix;
  std::vector<std::string> domains;
  int64_t seq_len = cfg.seq_len;
  if (!store.is_ok()) {
    auto pk = open_packed_dir(cfg.data);
    if (!pk.is_ok()) {
      return make_error(ErrorCode::kInvalidArgument, "--data '{}' is neither a document store ({}) nor a packed mixture ({})",
                        cfg.data, store.status().message(), pk.status().message());
    }
    mix = std::move(*pk);
    domains = mix->domains;
    if (seq_len == 0 || seq_len > static_cast<int64_t>(mix->seq_len)) seq_len = static_cast<int64_t>(mix->seq_len);
  } else {
    domains = store->domains();
    if (seq_len == 0) seq_len = std::min<int64_t>(model::context_length(m.config()), int64_t{1} << 24);
  }
  Accumulator acc;
  acc.cfg = &cfg;
  for (const auto& d : domains) acc.domains.push_back(DomainLoss{d});
  std::vector<int64_t> edges = cfg.bucket_edges.empty() ? default_bucket_edges(seq_len) : cfg.bucket_edges;
  int64_t lo = 0;
  for (int64_t e : edges) {
    if (e >= seq_len) break;
    acc.buckets.push_back({lo, e});
    lo = e;
  }
  acc.buckets.push_back({lo, seq_len});

  ProgressThrottle throttle(progress);
  ProgressSnapshot snap;
  snap.phase = "score";
  snap.bytes_total = cfg.max_tokens * domains.size();
  if (mix) LONGCTX_RETURN_IF_ERROR(evaluate_mixture(m, *mix, acc, seq_len, throttle, snap));
  else LONGCTX_RETURN_IF_ERROR(evaluate_store(m, *store, acc, seq_len, throttle, snap));
  snap.final = true;
  throttle.report(snap, true);

  LossEvalResult r;
  r.data = cfg.data;
  r.split = cfg.split;
  r.seq_len = seq_len;
  r.sequences = acc.sequences;
  r.positions = acc.positions;
  for (auto& d : acc.domains) {
    if (d.count_before + d.count_after > 0) r.domains.push_back(std::move(d));
  }
  r.buckets = std::move(acc.buckets);
  return r;
}

// ---- JSON ----------------------------------------------------------------------------------

namespace {
nlohmann::json num_or_null(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }
}  // namespace

nlohmann::json loss_result_json(const LossEvalResult& r) {
  nlohmann::json j = {{"format", "longctx-loss"}, {"version", 1},       {"data", r.data},
                      {"model", r.model},         {"split", r.split},   {"seq_len", r.seq_len},
                      {"sequences", r.sequences}, {"positions", r.positions}};
  j["domains"] = nlohmann::json::array();
  for (const auto& d : r.domains) {
    j["domains"].push_back({{"domain", d.domain},
                            {"sum_before", d.sum_before},
                            {"count_before", d.count_before},
                            {"sum_after", d.sum_after},
                            {"count_after", d.count_after},
                            {"mean_before", num_or_null(d.mean_before())},
                            {"mean_after", num_or_null(d.mean_after())}});
  }
  j["buckets"] = nlohmann::json::array();
  for (const auto& b : r.buckets) {
    j["buckets"].push_back({{"lo", b.lo}, {"hi", b.hi}, {"sum", b.sum}, {"count", b.count}, {"mean", num_or_null(b.mean())}});
  }
  return j;
}

Result<LossEvalResult> loss_result_from_json(const nlohmann::json& j) {
  LossEvalResult r;
  try {
    if (j.at("format").get<std::string>() != "longctx-loss") {
      return make_error(ErrorCode::kCorrupt, "not a loss result (format '{}')", j.at("format").get<std::string>());
    }
    r.data = j.at("data").get<std::string>();
    r.model = j.at("model").get<std::string>();
    r.split = j.at("split").get<int64_t>();
    r.seq_len = j.at("seq_len").get<int64_t>();
    r.sequences = j.at("sequences").get<uint64_t>();
    r.positions = j.at("positions").get<uint64_t>();
    for (const auto& d : j.at("domains")) {
      r.domains.push_back({d.at("domain").get<std::string>(), d.at("sum_before").get<double>(), d.at("sum_after").get<double>(),
                           d.at("count_before").get<int64_t>(), d.at("count_after").get<int64_t>()});
    }
    for (const auto& b : j.at("buckets")) {
      r.buckets.push_back({b.at("lo").get<int64_t>(), b.at("hi").get<int64_t>(), b.at("sum").get<double>(),
                           b.at("count").get<int64_t>()});
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::kCorrupt, "loss result: {}", e.what());
  }
  return r;
}

// ---- difference table ----------------------------------------------------------------------

LossMark loss_mark(double d, double threshold) {
  if (std::isnan(d)) return LossMark::kMissing;
  if (d > threshold) return LossMark::kWorse;
  if (d < -threshold) return LossMark::kBetter;
  return LossMark::kNone;
}

const char* loss_mark_name(LossMark m) {
  switch (m) {
    case LossMark::kBetter: return "better";
    case LossMark::kWorse: return "worse";
    case LossMark::kNone: return "no difference";
    case LossMark::kMissing: return "missing";
  }
  return "?";
}

LossDiffTable loss_difference(const LossEvalResult& model, const LossEvalResult& baseline, double threshold) {
  LossDiffTable t;
  t.model = model.model;
  t.baseline = baseline.model;
  t.split = model.split;
  t.threshold = threshold;
  std::vector<std::string> names;
  for (const auto& d : model.domains) names.push_back(d.domain);
  for (const auto& d : baseline.domains) {
    if (std::find(names.begin(), names.end(), d.domain) == names.end()) names.push_back(d.domain);
  }
  auto find = [](const LossEvalResult& r, const std::string& n) -> const DomainLoss* {
    for (const auto& d : r.domains)
      if (d.domain == n) return &d;
    return nullptr;
  };
  for (const auto& n : names) {
    LossDiffRow row;
    row.domain = n;
    const DomainLoss* a = find(model, n);
    const DomainLoss* b = find(baseline, n);
    row.model_before = a ? a->mean_before() : kNaN;
    row.model_after = a ? a->mean_after() : kNaN;
    row.base_before = b ? b->mean_before() : kNaN;
    row.base_after = b ? b->mean_after() : kNaN;
    row.diff_before = row.model_before - row.base_before;
    row.diff_after = row.model_after - row.base_after;
    row.mark_before = loss_mark(row.diff_before, threshold);
    row.mark_after = loss_mark(row.diff_after, threshold);
    t.rows.push_back(row);
  }
  return t;
}

namespace {

std::string split_label(int64_t split) {
  return split % 1024 == 0 ? fmt::format("{}K", split / 1024) : fmt::format("{}", split);
}
std::string signed3(double d) { return std::isnan(d) ? "-" : fmt::format("{:+.3f}", d); }
std::string plain3(double d) { return std::isnan(d) ? "-" : fmt::format("{:.3f}", d); }

}  // namespace

std::string diff_table_text(const LossDiffTable& t, bool color) {
  auto paint = [&](LossMark m, const std::string& s) {
    if (!color) return s;
    const char* c = m == LossMark::kWorse ? "\033[31m" : m == LossMark::kBetter ? "\033[32m" : "\033[90m";
    return std::string(c) + s + "\033[0m";
  };
  std::string a = "0-" + split_label(t.split), b = split_label(t.split) + "-N";
  std::string out = fmt::format("{:<24} {:>9} {:>9} {:<15} {:>9} {:>9} {:<15}\n", "domain", a, "diff", "",
                                b, "diff", "");
  for (const auto& r : t.rows) {
    out += fmt::format("{:<24} {:>9} ", r.domain, plain3(r.model_before));
    out += paint(r.mark_before, fmt::format("{:>9} {:<15}", signed3(r.diff_before), loss_mark_name(r.mark_before)));
    out += fmt::format(" {:>9} ", plain3(r.model_after));
    out += paint(r.mark_after, fmt::format("{:>9} {:<15}", signed3(r.diff_after), loss_mark_name(r.mark_after)));
    out += "\n";
  }
  out += fmt::format("loss of '{}' minus loss of '{}' (nats); |difference| > {} is marked\n", t.model, t.baseline, t.threshold);
  return out;
}

std::string diff_table_markdown(const LossDiffTable& t) {
  std::string a = "0-" + split_label(t.split), b = split_label(t.split) + "-N";
  std::string out = fmt::format("| domain | {} loss | {} difference | {} loss | {} difference |\n| --- | ---: | --- | ---: | --- |\n",
                                a, a, b, b);
  for (const auto& r : t.rows) {
    out += fmt::format("| {} | {} | {} ({}) | {} | {} ({}) |\n", r.domain, plain3(r.model_before), signed3(r.diff_before),
                       loss_mark_name(r.mark_before), plain3(r.model_after), signed3(r.diff_after),
                       loss_mark_name(r.mark_after));
  }
  out += fmt::format("\nLoss of `{}` minus loss of `{}` in nats; |difference| > {} counts as worse or better (paper Table 5).\n",
                     t.model, t.baseline, t.threshold);
  return out;
}

nlohmann::json diff_table_json(const LossDiffTable& t) {
  nlohmann::json j = {{"format", "longctx-loss-difference"}, {"model", t.model}, {"baseline", t.baseline},
                      {"split", t.split}, {"threshold", t.threshold}};
  j["rows"] = nlohmann::json::array();
  for (const auto& r : t.rows) {
    j["rows"].push_back({{"domain", r.domain},
                         {"model_before", num_or_null(r.model_before)},
                         {"model_after", num_or_null(r.model_after)},
                         {"baseline_before", num_or_null(r.base_before)},
                         {"baseline_after", num_or_null(r.base_after)},
                         {"difference_before", num_or_null(r.diff_before)},
                         {"difference_after", num_or_null(r.diff_after)},
                         {"mark_before", loss_mark_name(r.mark_before)},
                         {"mark_after", loss_mark_name(r.mark_after)}});
  }
  return j;
}

std::string loss_table_text(const LossEvalResult& r) {
  std::string a = "0-" + split_label(r.split), b = split_label(r.split) + "-N";
  std::string out = fmt::format("{:<24} {:>9} {:>10} {:>9} {:>10}\n", "domain", a, "positions", b, "positions");
  for (const auto& d : r.domains) {
    out += fmt::format("{:<24} {:>9} {:>10} {:>9} {:>10}\n", d.domain, plain3(d.mean_before()), d.count_before,
                       plain3(d.mean_after()), d.count_after);
  }
  return out;
}

std::string loss_table_markdown(const LossEvalResult& r) {
  std::string a = "0-" + split_label(r.split), b = split_label(r.split) + "-N";
  std::string out = fmt::format("| domain | {} loss | positions | {} loss | positions |\n| --- | ---: | ---: | ---: | ---: |\n", a, b);
  for (const auto& d : r.domains) {
    out += fmt::format("| {} | {} | {} | {} | {} |\n", d.domain, plain3(d.mean_before()), d.count_before,
                       plain3(d.mean_after()), d.count_after);
  }
  return out;
}

}  // namespace longctx::eval
