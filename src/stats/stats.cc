#include "stats/stats.h"

#include <algorithm>
#include <fmt/format.h>

#include "core/units.h"

namespace longctx {

std::vector<uint64_t> length_bucket_edges() {
  return {1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072};
}

std::vector<std::string> length_bucket_labels() {
  return {"<1K", "1-2K", "2-4K", "4-8K", "8-16K", "16-32K", "32-64K", "64-128K", ">128K"};
}

size_t length_bucket_of(uint64_t length) {
  static const auto edges = length_bucket_edges();
  size_t b = 0;
  while (b < edges.size() && length >= edges[b]) ++b;
  return b;
}

void LengthAccumulator::densify() {
  small_.assign(65536, 0);
  for (uint64_t len : few_) {
    if (len < 65536) ++small_[len];
    else large_.push_back(len);
  }
  few_.clear();
  few_.shrink_to_fit();
}

void LengthAccumulator::add(uint64_t length) {
  ++docs_;
  tokens_ += length;
  if (small_.empty()) {
    few_.push_back(length);
    if (few_.size() > kFew) densify();
    return;
  }
  if (length < 65536) ++small_[length];
  else large_.push_back(length);
}

void LengthAccumulator::merge(const LengthAccumulator& o) {
  for (uint64_t len : o.few_) add(len);
  docs_ -= o.few_.size();  // add() counted them; the totals below count every document once
  tokens_ -= [&] { uint64_t t = 0; for (uint64_t v : o.few_) t += v; return t; }();
  if (!o.small_.empty()) {
    if (small_.empty()) densify();
    for (size_t i = 0; i < 65536; ++i) small_[i] += o.small_[i];
    large_.insert(large_.end(), o.large_.begin(), o.large_.end());
  }
  docs_ += o.docs_;
  tokens_ += o.tokens_;
}

DomainStats LengthAccumulator::finish(const std::string& name, const std::vector<uint64_t>& thresholds,
                                      uint64_t all_tokens) const {
  DomainStats d;
  d.name = name;
  d.documents = docs_;
  d.tokens = tokens_;
  d.token_share = all_tokens ? static_cast<double>(tokens_) / static_cast<double>(all_tokens) : 0;
  size_t nb = length_bucket_edges().size() + 1;
  d.bucket_documents.assign(nb, 0);
  d.bucket_tokens.assign(nb, 0);
  std::vector<uint64_t> long_tokens(thresholds.size(), 0);
  // While few, every length is in few_: treat them as the sorted "large" list with no dense table.
  std::vector<uint64_t> large = small_.empty() ? few_ : large_;
  std::sort(large.begin(), large.end());
  auto visit = [&](uint64_t len, uint64_t count) {
    size_t b = length_bucket_of(len);
    d.bucket_documents[b] += count;
    d.bucket_tokens[b] += len * count;
    for (size_t t = 0; t < thresholds.size(); ++t)
      if (len > thresholds[t]) long_tokens[t] += len * count;
  };
  // k-th smallest length (0-based) over the dense table and the sorted large list.
  auto kth = [&](uint64_t k) -> uint64_t {
    if (!small_.empty()) {
      for (size_t len = 0; len < small_.size(); ++len) {
        if (k < small_[len]) return len;
        k -= small_[len];
      }
    }
    return large[k];
  };
  if (!small_.empty())
    for (size_t len = 0; len < small_.size(); ++len)
      if (small_[len]) visit(len, small_[len]);
  for (uint64_t len : large) visit(len, 1);
  if (docs_ > 0) {
    d.median = kth((docs_ - 1) / 2);
    uint64_t rank = (docs_ * 9 + 9) / 10;  // ceil(0.9 n)
    d.p90 = kth(rank - 1);
    d.max = large.empty() ? kth(docs_ - 1) : large.back();
  }
  for (size_t t = 0; t < thresholds.size(); ++t)
    d.long_token_share.push_back(tokens_ ? static_cast<double>(long_tokens[t]) / static_cast<double>(tokens_) : 0);
  return d;
}

CorpusStats compute_stats(const DocumentStore& store, const StatsConfig& cfg) {
  CorpusStats s;
  s.thresholds = cfg.long_thresholds;
  s.bucket_labels = length_bucket_labels();
  std::vector<LengthAccumulator> acc(store.domains().size());
  LengthAccumulator all;
  for (const auto& d : store.docs()) {
    acc[d.domain].add(d.num_tokens);
    all.add(d.num_tokens);
  }
  for (size_t i = 0; i < acc.size(); ++i)
    s.domains.push_back(acc[i].finish(store.domains()[i], cfg.long_thresholds, all.tokens()));
  std::sort(s.domains.begin(), s.domains.end(), [](const DomainStats& a, const DomainStats& b) {
    return a.tokens != b.tokens ? a.tokens > b.tokens : a.name < b.name;
  });
  s.total = all.finish("all", cfg.long_thresholds, all.tokens());
  return s;
}

static std::string kfmt(uint64_t n) {
  if (n >= 1000000) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 10000) return fmt::format("{:.1f}K", n / 1e3);
  return std::to_string(n);
}

static std::string thr_label(uint64_t t) { return fmt::format(">{}", format_length(t)); }

std::string stats_table(const CorpusStats& s) {
  std::string out;
  out += fmt::format("{:<24} {:>10} {:>10} {:>7} {:>8} {:>8} {:>9}", "domain", "documents", "tokens", "share",
                     "median", "p90", "max");
  for (auto t : s.thresholds) out += fmt::format(" {:>9}", thr_label(t) + " tok");
  out += "\n";
  auto row = [&](const DomainStats& d) {
    out += fmt::format("{:<24} {:>10} {:>10} {:>6.2f}% {:>8} {:>8} {:>9}", d.name, d.documents, kfmt(d.tokens),
                       100 * d.token_share, d.median, d.p90, d.max);
    for (double v : d.long_token_share) out += fmt::format(" {:>8.1f}%", 100 * v);
    out += "\n";
  };
  for (const auto& d : s.domains) row(d);
  out += std::string(24 + 11 + 11 + 8 + 9 + 9 + 10 + 10 * s.thresholds.size(), '-') + "\n";
  row(s.total);
  out += "\ntoken share by document length (rows: domain, columns: length bucket)\n";
  out += fmt::format("{:<24}", "domain");
  for (const auto& l : s.bucket_labels) out += fmt::format(" {:>7}", l);
  out += "\n";
  auto hrow = [&](const DomainStats& d) {
    out += fmt::format("{:<24}", d.name);
    for (auto t : d.bucket_tokens) out += fmt::format(" {:>6.1f}%", d.tokens ? 100.0 * t / d.tokens : 0.0);
    out += "\n";
  };
  for (const auto& d : s.domains) hrow(d);
  hrow(s.total);
  return out;
}

std::string stats_markdown(const CorpusStats& s) {
  std::string out = "| domain | documents | tokens | token share | median | p90 | max |";
  for (auto t : s.thresholds) out += fmt::format(" tokens in docs {} |", thr_label(t));
  out += "\n|---|---:|---:|---:|---:|---:|---:|";
  for (size_t i = 0; i < s.thresholds.size(); ++i) out += "---:|";
  out += "\n";
  auto row = [&](const DomainStats& d, bool bold) {
    std::string n = bold ? "**" + d.name + "**" : d.name;
    out += fmt::format("| {} | {} | {} | {:.2f}% | {} | {} | {} |", n, d.documents, d.tokens, 100 * d.token_share,
                       d.median, d.p90, d.max);
    for (double v : d.long_token_share) out += fmt::format(" {:.1f}% |", 100 * v);
    out += "\n";
  };
  for (const auto& d : s.domains) row(d, false);
  row(s.total, true);
  out += "\nToken share by document length:\n\n| domain |";
  for (const auto& l : s.bucket_labels) out += " " + l + " |";
  out += "\n|---|";
  for (size_t i = 0; i < s.bucket_labels.size(); ++i) out += "---:|";
  out += "\n";
  auto hrow = [&](const DomainStats& d) {
    out += "| " + d.name + " |";
    for (auto t : d.bucket_tokens) out += fmt::format(" {:.1f}% |", d.tokens ? 100.0 * t / d.tokens : 0.0);
    out += "\n";
  };
  for (const auto& d : s.domains) hrow(d);
  hrow(s.total);
  return out;
}

nlohmann::json stats_json(const CorpusStats& s) {
  auto dj = [&](const DomainStats& d) {
    nlohmann::json lt = nlohmann::json::object();
    for (size_t i = 0; i < s.thresholds.size(); ++i) lt[std::to_string(s.thresholds[i])] = d.long_token_share[i];
    nlohmann::json b = nlohmann::json::array();
    for (size_t i = 0; i < s.bucket_labels.size(); ++i)
      b.push_back({{"bucket", s.bucket_labels[i]}, {"documents", d.bucket_documents[i]}, {"tokens", d.bucket_tokens[i]}});
    return nlohmann::json{{"domain", d.name},   {"documents", d.documents}, {"tokens", d.tokens},
                          {"token_share", d.token_share}, {"median", d.median}, {"p90", d.p90},
                          {"max", d.max},        {"long_token_share", lt},   {"buckets", b}};
  };
  nlohmann::json j;
  j["thresholds"] = s.thresholds;
  j["bucket_labels"] = s.bucket_labels;
  j["domains"] = nlohmann::json::array();
  for (const auto& d : s.domains) j["domains"].push_back(dj(d));
  j["total"] = dj(s.total);
  return j;
}

}  // namespace longctx
