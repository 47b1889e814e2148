#include "mix/report.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/units.h"

#include "mix/strategy.h"
#include "stats/stats.h"

namespace longctx {


MixReport mix_report(const DocumentStore& store, const Mixture& m) {
  MixReport r;
  const auto& cfg = m.plan.config;
  r.title = fmt::format("{} ({} tokens, seq_len {})", cfg.strategy->name(), m.plan.total, cfg.seq_len);
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
  const uint64_t cut = cfg.strategy->piece_length();
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
  const std::string th = fmt::format(">{}", format_length(r.long_threshold));
  std::string s = fmt::format("mixture: {}\n", r.title);
  s += fmt::format("{:<24} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7}\n", "domain", "share", "share", th, th, "epochs", "epochs", "max");
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
  std::string th = fmt::format(">{}", format_length(r.long_threshold));
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
