// Mixtures on a store whose documents were chosen by hand (docs/mixing.md "Budgets, exactly"): per-domain and
// per-length-bucket token counts worked out below in comments, exact budgets, repeats, spans that
// cover every token exactly once, and a naive full-sort reference for the strategies whose choice
// of documents depends on the hash order.
#include "mix/mixture.h"
#include "mix/compare.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <numeric>
#include <set>

#include "core/hash.h"
#include "core/json_util.h"
#include "stats/stats.h"
#include "mix/synth_store.h"
#include "store/packed_shards.h"
#include "test_util.h"

namespace longctx {
namespace {

using testing::read_all;
using testing::scratch_dir;

// Token j of document i (ids >= 3 so they never equal pad 0 / BOS 1 / EOS 2).
uint32_t tok(uint64_t i, uint64_t j) { return static_cast<uint32_t>(3 + (i * 1000 + j) % 60000); }

// The hand store, in this order (store order matters for paper-script):
//   0..5   A  6 x 1023 tokens  (bucket <1K,   cost with BOS 1024)
//   6..7   A  2 x 8191 tokens  (bucket 4-8K,  cost 8192)
//   8..11  B  4 x 1535 tokens  (bucket 1-2K,  cost 1536)
//   12     B  1 x 16380 tokens (bucket 8-16K, cost 16381)
// A and B both hold 22,520 tokens, so the store's domain shares are 0.5 / 0.5.
// text_bytes = 4 x tokens except document 0 (20,000 bytes: 5,435 "tokens" by chars / 3.68).
std::string hand_store() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = scratch_dir("hand-store");
  auto w = StoreWriter::create(dir, 2);
  EXPECT_TRUE(w.is_ok());
  uint16_t a = w->domain_id("A"), b = w->domain_id("B");
  std::vector<std::pair<uint16_t, uint32_t>> docs;
  for (int i = 0; i < 6; ++i) docs.push_back({a, 1023});
  for (int i = 0; i < 2; ++i) docs.push_back({a, 8191});
  for (int i = 0; i < 4; ++i) docs.push_back({b, 1535});
  docs.push_back({b, 16380});
  for (size_t i = 0; i < docs.size(); ++i) {
    std::vector<uint32_t> t(docs[i].second);
    for (size_t j = 0; j < t.size(); ++j) t[j] = tok(i, j);
    uint64_t bytes = i == 0 ? 20000 : 4ull * t.size();
    EXPECT_TRUE(w->add(t, 1000 + i, i + 1, 0, docs[i].first, bytes).is_ok());
  }
  nlohmann::json m;
  m["files"] = {{{"path", "hand"}}};
  m["tokenizer"] = {{"vocab_size", 60003}, {"bos_id", 1}, {"eos_id", 2}};
  EXPECT_TRUE(w->finish(m).is_ok());
  return dir;
}

MixConfig base_config(StrategyPtr s, uint64_t tokens, uint64_t seq_len) {
  MixConfig c;
  c.strategy = s;
  c.total_tokens = tokens;
  c.seq_len = seq_len;
  c.seed = 7;
  c.long_threshold = 4096;
  return c;
}

std::vector<uint64_t> plan_buckets(const Mixture& m, size_t d) {
  std::vector<uint64_t> v;
  for (const auto& c : m.plan.domains[d].buckets) v.push_back(c.selected);
  return v;
}

// Packs every chunk and checks, independently of the report: spans cover each chunk once in
// order; BOS where a piece starts; every document token is the store's token at the span's
// offset; and each (document, repeat) is covered exactly at the offsets of its pieces, once.
// Returns packed tokens per domain.
std::vector<uint64_t> check_packing(const DocumentStore& store, const Mixture& m) {
  auto reader = TokenReader::open(store);
  EXPECT_TRUE(reader.is_ok());
  const auto& cfg = m.plan.config;
  std::map<uint64_t, uint64_t> index_of;
  for (uint64_t i = 0; i < store.num_docs(); ++i) index_of[store.doc(i).id_hash] = i;
  std::map<std::pair<uint64_t, uint32_t>, std::vector<int>> covered;  // (doc, repeat) -> count per token
  std::vector<uint64_t> per_domain(store.domains().size(), 0);
  std::vector<uint32_t> toks;
  std::vector<PackedSpan> spans;
  for (uint64_t c = 0; c < m.num_chunks; ++c) {
    EXPECT_TRUE(pack_chunk(m, store, *reader, c, &toks, &spans).is_ok());
    EXPECT_EQ(toks.size(), cfg.seq_len);
    uint32_t at = 0;
    for (const auto& sp : spans) {
      EXPECT_EQ(sp.start, at) << "chunk " << c;
      EXPECT_GT(sp.end, sp.start);
      at = sp.end;
      if (sp.domain == kPadDomain) {
        for (uint32_t p = sp.start; p < sp.end; ++p) EXPECT_EQ(toks[p], cfg.pad_id);
        continue;
      }
      per_domain[sp.domain] += sp.end - sp.start;
      uint64_t di = index_of.at(sp.doc_id);
      EXPECT_EQ(store.doc(di).domain, sp.domain);
      uint32_t p = sp.start;
      if (sp.flags & kSpanStart) {
        EXPECT_EQ(toks[p], cfg.bos_id);
        ++p;
      }
      auto& cov = covered[{di, sp.flags >> 8}];
      cov.resize(store.doc(di).num_tokens, 0);
      std::vector<uint32_t> doc_tokens;  // reference path: the store's own (memory-mapped) reader
      EXPECT_TRUE(store.tokens(di, &doc_tokens).is_ok());
      uint64_t off = sp.doc_offset;
      for (; p < sp.end; ++p, ++off) {
        if (cfg.eos && (sp.flags & kSpanEnd) && p + 1 == sp.end) {
          EXPECT_EQ(toks[p], cfg.eos_id);
          break;
        }
        if (off >= cov.size()) {
          ADD_FAILURE() << "span past the document's end";
          break;
        }
        EXPECT_EQ(toks[p], doc_tokens[off]);
        ++cov[off];
      }
    }
    EXPECT_EQ(at, cfg.seq_len);
  }
  // Expected coverage from the pieces (only those inside written chunks; split mode writes all).
  std::map<std::pair<uint64_t, uint32_t>, std::vector<int>> expect;
  for (const auto& p : m.pieces) {
    if (p.pos >= m.num_chunks * cfg.seq_len) continue;
    auto& e = expect[{p.doc, std::min<uint32_t>(p.repeat, 255)}];
    e.resize(store.doc(p.doc).num_tokens, 0);
    const uint64_t end = m.num_chunks * cfg.seq_len, bos = cfg.bos ? 1 : 0;
    for (uint32_t j = p.start; j < p.start + p.len; ++j)
      if (p.pos + bos + (j - p.start) < end) ++e[j];
  }
  EXPECT_EQ(covered.size(), expect.size());
  for (const auto& [k, v] : expect) {
    auto it = covered.find(k);
    if (it == covered.end()) {
      ADD_FAILURE() << "doc " << k.first << " not packed";
      continue;
    }
    EXPECT_EQ(it->second, v) << "doc " << k.first << " repeat " << k.second;
    for (int x : v) EXPECT_LE(x, 1);
  }
  return per_domain;
}

TEST(Mixture, PerSourceUpsampleExactByHand) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  MixConfig cfg = base_config(per_source_upsample_strategy({.long_share = 0.8}), 16384 + 1000, 1024);  // rounds down to 16 chunks
  auto m = build_mixture(*store, cfg);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  // 16 x 1024 = 16384 tokens; A, B 8192 each; long llround(8192 x 0.8) = 6554, short 1638.
  EXPECT_EQ(m->plan.total, 16384u);
  EXPECT_EQ(m->num_chunks, 16u);
  EXPECT_EQ(m->plan.domains[0].target_long, 6554u);
  EXPECT_EQ(m->plan.domains[0].target_short, 1638u);
  EXPECT_EQ(plan_buckets(*m, 0), (std::vector<uint64_t>{1638, 0, 0, 6554, 0, 0, 0, 0, 0}));
  EXPECT_EQ(plan_buckets(*m, 1), (std::vector<uint64_t>{0, 1638, 0, 0, 6554, 0, 0, 0, 0}));
  EXPECT_EQ(m->plan.domains[0].max_repeat, 0u);
  // A documents: short 1023 + 613 (the second cut to cost 614), long 6553 (cost 6554) -> 8189.
  EXPECT_DOUBLE_EQ(m->plan.domains[0].epochs, 8189.0 / 22520);
  // B: short 1535 + 101, long 6553 -> 8189.
  EXPECT_DOUBLE_EQ(m->plan.domains[1].epochs, 8189.0 / 22520);
  auto per = check_packing(*store, *m);
  EXPECT_EQ(per, (std::vector<uint64_t>{8192, 8192}));
  MixReport r = mix_report(*store, *m);
  EXPECT_DOUBLE_EQ(r.after[0].long_share, 6554.0 / 8192);
  EXPECT_DOUBLE_EQ(r.after[1].long_share, 6554.0 / 8192);
  EXPECT_DOUBLE_EQ(r.after[0].token_share, 0.5);
  EXPECT_EQ(r.after[0].bucket_tokens, (std::vector<uint64_t>{1638, 0, 0, 6554, 0, 0, 0, 0, 0}));
  EXPECT_EQ(r.after[1].bucket_tokens, (std::vector<uint64_t>{0, 1638, 0, 0, 6554, 0, 0, 0, 0}));
  // Before: A has 16382 of 22520 tokens in >4K documents, B 16380.
  EXPECT_DOUBLE_EQ(r.before[0].long_share, 16382.0 / 22520);
  EXPECT_DOUBLE_EQ(r.before[1].long_share, 16380.0 / 22520);
  EXPECT_EQ(r.pad_tokens, 0u);
  auto back = report_from_json(report_json(r));  // `mix report` / `mix compare` read it back
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(report_json(*back), report_json(r));
  EXPECT_NE(report_markdown(r).find("| A | 50.00% | 50.00% | 72.7% | 80.0% |"), std::string::npos) << report_markdown(r);

  // --long-share 0.5 is below both domains' own long share (A: cost 16384 of 22528), so each keeps
  // its own: A long = llround(8192 x 16384 / 22528) = llround(5957.8) = 5958.
  cfg.strategy = per_source_upsample_strategy({.long_share = 0.5});
  m = build_mixture(*store, cfg);
  ASSERT_TRUE(m.is_ok());
  EXPECT_DOUBLE_EQ(m->plan.domains[0].long_share_target, 16384.0 / 22528);
  EXPECT_EQ(m->plan.domains[0].target_long, 5958u);
}

// A threshold that is not a whole number of K is written as the length itself in every table and
// in the figure's title (a 256-token threshold once read "longer than 0K").
TEST(MixReportText, ThresholdWrittenAsALength) {
  MixReport r;
  r.title = "t";
  r.long_threshold = 256;
  r.bucket_labels = {"all"};
  r.before = r.after = {MixSide{.name = "A", .token_share = 1, .long_share = 0.5, .tokens = 10, .bucket_tokens = {10}}};
  EXPECT_NE(report_table(r).find(">256"), std::string::npos) << report_table(r);
  EXPECT_NE(report_markdown(r).find("| >256 before | >256 after |"), std::string::npos) << report_markdown(r);
  EXPECT_NE(compare_table({r}, {"m"}).find("| store >256 | m share | m >256 |"), std::string::npos) << compare_table({r}, {"m"});
  EXPECT_EQ(long_share_title(256), "Share of each domain's tokens in documents longer than 256 tokens");
  EXPECT_EQ(long_share_title(1536), "Share of each domain's tokens in documents longer than 1.5K tokens");
  EXPECT_EQ(long_share_title(65536), "Share of each domain's tokens in documents longer than 64K tokens");
  for (const char* bad : {"0K", ">0K"}) EXPECT_EQ(report_table(r).find(bad), std::string::npos) << bad;
}

TEST(Mixture, RepeatsReportedAndNoRepeatFails) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  MixConfig cfg = base_config(per_source_upsample_strategy({.long_share = 0.9}), 65536, 1024);
  // 32768 per domain; long llround(29491.2) = 29491, short 3277.
  // A long cell costs 16384: one full epoch + 13107 more (repeat index 1).
  auto m = build_mixture(*store, cfg);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(plan_buckets(*m, 0), (std::vector<uint64_t>{3277, 0, 0, 29491, 0, 0, 0, 0, 0}));
  EXPECT_EQ(plan_buckets(*m, 1), (std::vector<uint64_t>{0, 3277, 0, 0, 29491, 0, 0, 0, 0}));
  EXPECT_EQ(m->plan.domains[0].max_repeat, 1u);
  EXPECT_EQ(m->plan.domains[1].max_repeat, 1u);
  // A long documents: 2 x 8191, then one whole again (8191) and 4914 of the other (cost 4915).
  EXPECT_DOUBLE_EQ(m->plan.domains[0].epochs_long, (16382.0 + 8191 + 4914) / 16382);
  EXPECT_EQ(check_packing(*store, *m), (std::vector<uint64_t>{32768, 32768}));
  MixReport r = mix_report(*store, *m);
  EXPECT_EQ(r.after[0].max_repeat, 1u);

  cfg.no_repeat = true;
  auto bad = build_mixture(*store, cfg);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("domain A"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("shortfall 13107"), std::string::npos) << bad.status().message();
}

TEST(Mixture, GlobalUpsampleOneRateForAllDomains) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  // keep 0.5: weights A short 6144 x 0.5 = 3072, A long 16384, B short 3072, B long 16381; the
  // budget 38909 = their sum, so long documents are taken once (rate 1), short ones at rate 0.5.
  MixConfig cfg = base_config(global_upsample_strategy({.keep_short = 0.5}), 38909, 38909);
  auto m = build_mixture(*store, cfg);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  EXPECT_EQ(plan_buckets(*m, 0), (std::vector<uint64_t>{3072, 0, 0, 16384, 0, 0, 0, 0, 0}));
  EXPECT_EQ(plan_buckets(*m, 1), (std::vector<uint64_t>{0, 3072, 0, 0, 16381, 0, 0, 0, 0}));
  EXPECT_EQ(check_packing(*store, *m), (std::vector<uint64_t>{19456, 19453}));
  EXPECT_EQ(m->plan.domains[0].max_repeat, 0u);
}

TEST(Mixture, PaperScriptSemanticsByHand) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  {
    // Keep everything, exact lengths: store order until each budget of 8192 is full.
    // A: 6 short (6144), then document 6 truncated to cost 2048. B: 4 short (6144), doc 12 -> 2048.
    MixConfig cfg = base_config(paper_script_strategy({.keep_short = 1.0, .chars_per_token = 0}), 16384, 1024);
    auto m = build_mixture(*store, cfg);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    EXPECT_EQ(plan_buckets(*m, 0), (std::vector<uint64_t>{6144, 0, 0, 2048, 0, 0, 0, 0, 0}));
    EXPECT_EQ(plan_buckets(*m, 1), (std::vector<uint64_t>{0, 6144, 0, 0, 2048, 0, 0, 0, 0}));
    std::set<uint64_t> docs;
    for (const auto& p : m->pieces) docs.insert(p.doc);
    EXPECT_EQ(docs, (std::set<uint64_t>{0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12}));
    check_packing(*store, *m);
  }
  {
    // Keep no short document; length estimated as text_bytes / 3.68: document 0 (20000 bytes ->
    // 5435) counts as long although it has 1023 tokens. A: doc 0 (1024) + doc 6 truncated to 7168.
    // B: its short docs (6140 bytes -> 1668) are dropped; doc 12 truncated to 8192.
    MixConfig cfg = base_config(paper_script_strategy({.keep_short = 0.0}), 16384, 1024);
    auto m = build_mixture(*store, cfg);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    EXPECT_EQ(plan_buckets(*m, 0), (std::vector<uint64_t>{1024, 0, 0, 7168, 0, 0, 0, 0, 0}));
    EXPECT_EQ(plan_buckets(*m, 1), (std::vector<uint64_t>{0, 0, 0, 0, 8192, 0, 0, 0, 0}));
    check_packing(*store, *m);
  }
  {
    // Repeats: 32768 per domain from long documents only. A: pass 0 takes 16384, pass 1 the same
    // again. B: 16381 + 16381 + 6 (repeat 2).
    MixConfig cfg = base_config(paper_script_strategy({.keep_short = 0.0, .chars_per_token = 0}), 65536, 1024);
    auto m = build_mixture(*store, cfg);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    EXPECT_EQ(m->plan.domains[0].max_repeat, 1u);
    EXPECT_EQ(m->plan.domains[1].max_repeat, 2u);
    EXPECT_EQ(plan_buckets(*m, 1), (std::vector<uint64_t>{0, 0, 0, 0, 32768, 0, 0, 0, 0}));
    cfg.no_repeat = true;
    auto bad = build_mixture(*store, cfg);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_NE(bad.status().message().find("domain A"), std::string::npos) << bad.status().message();
    EXPECT_NE(bad.status().message().find("shortfall 16384"), std::string::npos) << bad.status().message();
  }
}

// Naive reference for the hash-ordered strategies: per cell, sort all documents by the documented
// selection key, take whole documents while their cost fits, cut the next one to the remainder by
// trying every prefix length; count per source-length bucket.
std::vector<std::vector<uint64_t>> naive_buckets(const DocumentStore& store, const MixConfig& cfg, uint64_t cut,
                                                 const std::vector<uint64_t>& domain_targets) {
  const uint64_t o = 1;
  auto cost = [&](uint64_t n) { return n + (n + cut - 1) / cut * o; };
  std::vector<std::vector<uint64_t>> out(store.domains().size(), std::vector<uint64_t>(9, 0));
  for (size_t d = 0; d < store.domains().size(); ++d) {
    std::vector<std::pair<uint64_t, uint64_t>> keyed;
    for (uint64_t i = 0; i < store.num_docs(); ++i)
      if (store.doc(i).domain == d) keyed.push_back({mix64(store.doc(i).id_hash ^ mix64(cfg.seed ^ mix64(kMixSelectSalt))), i});
    std::sort(keyed.begin(), keyed.end());
    uint64_t left = domain_targets[d];
    for (auto [k, i] : keyed) {
      if (!left) break;
      uint64_t n = store.doc(i).num_tokens, c = cost(n);
      uint64_t b = length_bucket_of(n);
      if (c <= left) {
        out[d][b] += c;
        left -= c;
      } else {
        out[d][b] += left;  // some prefix (and piece split) costs exactly the remainder
        left = 0;
      }
    }
  }
  return out;
}

TEST(Mixture, HashOrderedStrategiesMatchNaiveReference) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  struct Case {
    StrategyPtr s;
    uint64_t cut;
    std::vector<uint64_t> targets;  // per domain
  };
  // original / cut / natural: 8192 tokens, shares 0.5 -> 4096 each.
  // upsample-domains B at 0.75: B 6144, A 2048.
  std::vector<Case> cases = {{original_strategy(), 1u << 31, {4096, 4096}},
                             {cut_strategy({.at = 4096}), 4096, {4096, 4096}},
                             {natural_strategy({.max_doc = 8192}), 8192, {4096, 4096}},
                             {upsample_domains_strategy({.domains = {"B"}, .weight = 0.75}), 1u << 31, {2048, 6144}}};
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    for (const auto& cs : cases) {
      MixConfig cfg = base_config(cs.s, 8192, 1024);
      cfg.seed = seed;
      auto m = build_mixture(*store, cfg);
      ASSERT_TRUE(m.is_ok()) << m.status().message();
      auto ref = naive_buckets(*store, cfg, cs.cut, cs.targets);
      SCOPED_TRACE(cs.s->name() + " seed " + std::to_string(seed));
      EXPECT_EQ(plan_buckets(*m, 0), ref[0]);
      EXPECT_EQ(plan_buckets(*m, 1), ref[1]);
      EXPECT_EQ(check_packing(*store, *m), cs.targets);
      for (const auto& p : m->pieces) {
        EXPECT_LE(p.len, cs.s->name() == "cut" ? 4096u : cs.s->name() == "natural" ? 8192u : 0xFFFFFFFFu);
      }
      if (cs.s->name() == "cut") {
        MixReport r = mix_report(*store, *m);
        EXPECT_EQ(r.after[1].long_share, 0.0);  // nothing above 4K survives a cut at 4K
      }
    }
  }
}

TEST(Mixture, EosNoSplitAndLastChunk) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  for (LastChunk last : {LastChunk::kDrop, LastChunk::kPad}) {
    MixConfig cfg = base_config(original_strategy(), 5000 * 4, 5000);
    cfg.eos = true;
    cfg.split = false;
    cfg.last = last;
    auto m = build_mixture(*store, cfg);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    const uint64_t L = cfg.seq_len;
    uint64_t prev_end = 0;
    for (const auto& p : m->pieces) {
      uint64_t w = p.len + 2, off = p.pos % L;
      if (w <= L) {
        EXPECT_LE(off + w, L) << "a piece that fits a chunk must not straddle one";
      }
      if (p.pos != prev_end) {  // padding only where the piece did not fit the rest of the chunk
        EXPECT_EQ(p.pos % L, 0u);
        EXPECT_GT(prev_end % L + w, L);
      }
      prev_end = p.pos + w;
    }
    ASSERT_NE(m->stream_end % L, 0u);
    EXPECT_EQ(m->num_chunks, m->stream_end / L + (last == LastChunk::kPad ? 1 : 0));
    check_packing(*store, *m);
  }
}

TEST(Mixture, ErrorsNameTheProblem) {
  auto store = DocumentStore::open(hand_store());
  ASSERT_TRUE(store.is_ok());
  MixConfig cfg = base_config(per_source_upsample_strategy(), 100, 1024);
  EXPECT_FALSE(build_mixture(*store, cfg).is_ok());  // less than one sequence
  cfg = base_config(per_source_upsample_strategy(), 4096, 1024);
  cfg.long_threshold = 100000;  // no long documents anywhere: every domain stays all short
  auto r = build_mixture(*store, cfg);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->plan.domains[0].long_share_target, 0.0);
  EXPECT_EQ(r->plan.domains[1].target_long, 0u);
  EXPECT_EQ(r->plan.domains[1].target_short, 2048u);
  cfg = base_config(global_upsample_strategy({.keep_short = 0}), 4096, 1024);  // nothing left to sample
  cfg.long_threshold = 100000;
  EXPECT_FALSE(build_mixture(*store, cfg).is_ok());
  cfg = base_config(paper_script_strategy({.keep_short = 0, .chars_per_token = 0}), 4096, 1024);
  cfg.long_threshold = 100000;  // nothing is long and nothing short is kept
  r = build_mixture(*store, cfg);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("domain A: paper-script keeps no document"), std::string::npos) << r.status().message();
  cfg = base_config(upsample_domains_strategy({.domains = {"RedPajamaBook"}}), 4096, 1024);
  r = build_mixture(*store, cfg);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("RedPajamaBook"), std::string::npos);
}

// ---- runs: threads, task split + merge, resume ------------------------------------------------

std::map<std::string, std::string> dir_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out[e.path().filename().string()] = read_all(e.path().string());
  return out;
}

std::string small_synth_store() {
  static std::string dir;
  if (!dir.empty()) return dir;
  dir = scratch_dir("synth-store");
  SynthStoreConfig sc;
  sc.out_dir = dir;
  sc.tokens = 3000000;
  sc.max_doc_tokens = 200000;
  EXPECT_TRUE(build_synth_store(sc).is_ok());
  return dir;
}

TEST(MixRun, SameBytesAcrossThreadsTasksAndResume) {
  auto store = DocumentStore::open(small_synth_store());
  ASSERT_TRUE(store.is_ok());
  MixRunConfig rc;
  rc.mix = base_config(per_source_upsample_strategy(), 400000, 4096);
  rc.mix.domain_shares = {};
  rc.shard_tokens = 40000;  // 9 chunks per shard -> 11 shards for 97 chunks
  std::string root = scratch_dir("mix-runs");
  rc.out_dir = root + "/t1";
  rc.threads = 1;
  auto s1 = run_mix(*store, rc, nullptr);
  ASSERT_TRUE(s1.is_ok()) << s1.status().message();
  EXPECT_EQ(s1->chunks, 400000u / 4096);
  ASSERT_TRUE(verify_packed_dir(rc.out_dir).is_ok()) << verify_packed_dir(rc.out_dir).message();
  auto ref = dir_files(rc.out_dir);
  EXPECT_EQ(ref.count("shard-00010.lcpk"), 1u);

  rc.out_dir = root + "/t2";
  rc.threads = 2;
  ASSERT_TRUE(run_mix(*store, rc, nullptr).is_ok());
  auto two = dir_files(rc.out_dir);
  // The manifest names no output directory, so the whole directory must be byte-identical.
  EXPECT_TRUE(two == ref);

  for (uint32_t t = 0; t < 2; ++t) {
    MixRunConfig tc = rc;
    tc.task = t;
    tc.num_tasks = 2;
    tc.out_dir = root + "/task" + std::to_string(t);
    ASSERT_TRUE(run_mix(*store, tc, nullptr).is_ok());
    ASSERT_TRUE(verify_packed_dir(tc.out_dir).is_ok()) << verify_packed_dir(tc.out_dir).message();
  }
  ASSERT_TRUE(merge_mix_tasks({root + "/task1", root + "/task0"}, root + "/merged").is_ok());
  EXPECT_TRUE(dir_files(root + "/merged") == ref);
  EXPECT_FALSE(merge_mix_tasks({root + "/task0"}, root + "/bad").is_ok());

  // Resume: a killed run left some shards, a temporary file and no manifest; a damaged shard
  // (truncated) must be rewritten. Rerunning the same command ends with the same bytes. The kill:
  // a child process runs the mix and exits hard once its 11th (last) shard is recorded in the
  // resume state, before the manifest is written.
  std::string d = root + "/killed";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    MixRunConfig kc = rc;
    kc.out_dir = d;
    auto r = run_mix(*store, kc, [](const ProgressSnapshot& p) {
      if (p.checkpoints >= 11) std::_Exit(137);
    });
    std::_Exit(r.is_ok() ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 137) << wstatus;
  ASSERT_FALSE(file_exists(d + "/manifest.json"));
  std::filesystem::remove(d + "/shard-00003.lcpk");
  std::filesystem::resize_file(d + "/shard-00007.lcpk", 100);
  ASSERT_TRUE(write_file_atomic(d + "/shard-00005.lcpk.tmp", "garbage").is_ok());
  rc.out_dir = d;
  auto again = run_mix(*store, rc, nullptr);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(again->shards_written, 2u);
  EXPECT_EQ(again->shards_reused, 9u);
  auto resumed = dir_files(d);
  resumed.erase("shard-00005.lcpk.tmp");
  EXPECT_TRUE(resumed == ref);
  // A finished directory is not overwritten by accident.
  EXPECT_FALSE(run_mix(*store, rc, nullptr).is_ok());
}

TEST(MixRun, Uint32StorePacksTheStoresTokens) {
  std::string dir = scratch_dir("synth-store-u32");
  SynthStoreConfig sc;
  sc.out_dir = dir;
  sc.tokens = 400000;
  sc.vocab_size = 128256;  // > 65536: uint32 tokens
  sc.max_doc_tokens = 50000;
  ASSERT_TRUE(build_synth_store(sc).is_ok());
  auto store = DocumentStore::open(dir);
  ASSERT_TRUE(store.is_ok());
  ASSERT_EQ(store->token_bytes(), 4u);
  for (StrategyPtr s : {natural_strategy({.max_doc = 3000}), global_upsample_strategy()}) {
    MixConfig cfg = base_config(s, 100000, 8192);
    cfg.eos = true;
    auto m = build_mixture(*store, cfg);
    ASSERT_TRUE(m.is_ok()) << m.status().message();
    auto per = check_packing(*store, *m);
    EXPECT_EQ(std::accumulate(per.begin(), per.end(), uint64_t{0}), 12u * 8192);
  }
}

TEST(MixRun, VerifyCatchesDamage) {
  auto store = DocumentStore::open(small_synth_store());
  ASSERT_TRUE(store.is_ok());
  MixRunConfig rc;
  rc.mix = base_config(cut_strategy(), 100000, 2048);
  rc.shard_tokens = 20000;
  rc.out_dir = scratch_dir("mix-verify");
  ASSERT_TRUE(run_mix(*store, rc, nullptr).is_ok());
  ASSERT_TRUE(verify_packed_dir(rc.out_dir).is_ok()) << verify_packed_dir(rc.out_dir).message();
  std::string p = rc.out_dir + "/shard-00001.lcpk";
  std::string bytes = read_all(p);
  bytes[70] ^= 1;  // a token
  ASSERT_TRUE(write_file_atomic(p, bytes).is_ok());
  Status st = verify_packed_dir(rc.out_dir);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("checksum"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace longctx
