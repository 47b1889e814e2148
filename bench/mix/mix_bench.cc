// Mixing benchmark and the synthetic-corpus check (docs/mixing.md "Check on a synthetic SlimPajama-shaped store"):
//  1. check table: for every strategy, plan + report on the store (no token data touched):
//     domain share and share of tokens in >4K documents, before and after;
//  2. throughput: plan + sample + shuffle + pack + write native shards (run_mix) at 1 thread and
//     at all threads, tokens/s and GB/s of shard bytes, peak anonymous memory (RssAnon, polled)
//     and peak RSS (VmHWM, includes the store's mapped pages);
//  3. baselines in the same process: the tokenizer's tokens/s on text (1 thread and all), and
//     memcpy bandwidth over the same byte count.
// Usage: bench_mix STORE_DIR WORK_DIR [--tokens 500M] [--seq-len 80K] [--tokenizer M --text F]
//        bench_mix --synth 2B WORK_DIR ...   (builds WORK_DIR/synth-store first)
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/units.h"
#include "mix/mixture.h"
#include "mix/synth_store.h"
#include "store/packed_shards.h"
#include "tokenizer/tokenizer.h"

using namespace longctx;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

uint64_t status_kb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(std::strlen(key)));
  return 0;
}

// Polls RssAnon every 20 ms while alive; peak() in MB.
struct AnonPeak {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> peak_kb{0};
  std::thread t;
  AnonPeak() {
    t = std::thread([this] {
      while (!stop) {
        uint64_t v = status_kb("RssAnon:");
        if (v > peak_kb) peak_kb = v;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  ~AnonPeak() {
    stop = true;
    t.join();
  }
  double mb() const { return peak_kb / 1024.0; }
};

int die(const Status& st) {
  fmt::print(stderr, "bench_mix: {}\n", st.message());
  return 1;
}

struct Args {
  std::string store_dir, work, synth, tokens = "500M", seq = "80K", tokenizer, text, shard_tokens = "16M";
};

// The flags; false on a usage error.
bool parse_args(int argc, char** argv, Args* a) {
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (f == "--synth") a->synth = next();
    else if (f == "--tokens") a->tokens = next();
    else if (f == "--seq-len") a->seq = next();
    else if (f == "--tokenizer") a->tokenizer = next();
    else if (f == "--text") a->text = next();
    else if (f == "--shard-tokens") a->shard_tokens = next();
    else pos.push_back(f);
  }
  if (a->synth.empty() ? pos.size() != 2 : pos.size() != 1) return false;
  a->work = pos.back();
  if (a->synth.empty()) a->store_dir = pos[0];
  return true;
}

// --synth: builds WORK/synth-store once (reused by later runs).
Status prepare_synth_store(Args& a) {
  a.store_dir = a.work + "/synth-store";
  LONGCTX_ASSIGN_OR_RETURN(uint64_t n, parse_token_count(a.synth));
  if (file_exists(a.store_dir + "/manifest.json")) return Status::ok();
  double t0 = now();
  SynthStoreConfig sc;
  sc.out_dir = a.store_dir;
  sc.tokens = n;
  LONGCTX_RETURN_IF_ERROR(build_synth_store(sc));
  fmt::print("built synthetic store {} ({} tokens) in {:.1f}s\n", a.store_dir, n, now() - t0);
  return Status::ok();
}

// 1. The check table: every strategy's plan and report (document table only), domain share and
// share of tokens in >4K documents before and after, and the figures of the upsampling ones.
Status check_table(const DocumentStore& store, uint64_t budget, uint64_t seq, const std::string& work) {
  const std::vector<std::string> strategies = {"original", "paper-script", "per-source-upsample", "global-upsample", "upsample-domains", "cut", "natural"};
  std::vector<MixReport> reps;
  for (const auto& s : strategies) {
    MixConfig c;
    c.strategy = *make_strategy(s);
    c.total_tokens = budget;
    c.seq_len = seq;
    c.seed = 1;
    double t0 = now();
    auto m = build_mixture(store, c);
    if (!m.is_ok()) {
      fmt::print("{}: {}\n", s, m.status().message());
      reps.push_back({});
      continue;
    }
    reps.push_back(mix_report(store, *m));
    fmt::print("plan {:<20} {:>8.2f}s  pieces {:>9}  max repeat {}\n", s, now() - t0, m->pieces.size(),
               std::max_element(m->plan.domains.begin(), m->plan.domains.end(), [](auto& a, auto& b) { return a.max_repeat < b.max_repeat; })->max_repeat);
  }
  fmt::print("\n| domain | store share | store >4K |");
  for (const auto& s : strategies) fmt::print(" {} share | {} >4K |", s, s);
  fmt::print("\n| --- | ---: | ---: |");
  for (size_t i = 0; i < strategies.size(); ++i) fmt::print(" ---: | ---: |");
  fmt::print("\n");
  const MixReport* r0 = nullptr;
  for (const auto& r : reps)
    if (!r.after.empty()) r0 = &r;
  if (!r0) return make_error(ErrorCode::kInternal, "no strategy could plan a mixture of this store");
  for (size_t d = 0; d < r0->before.size(); ++d) {
    fmt::print("| {} | {:.2f}% | {:.1f}% |", r0->before[d].name, 100 * r0->before[d].token_share, 100 * r0->before[d].long_share);
    for (const auto& r : reps)
      if (r.after.empty()) fmt::print(" - | - |");
      else fmt::print(" {:.2f}% | {:.1f}% |", 100 * r.after[d].token_share, 100 * r.after[d].long_share);
    fmt::print("\n");
  }
  fmt::print("| max abs share change (pp) | | |");
  for (const auto& r : reps) {
    double mx = 0;
    for (size_t d = 0; d < r.after.size(); ++d) mx = std::max(mx, std::abs(r.after[d].token_share - r.before[d].token_share));
    fmt::print(" {:.2f} | |", 100 * mx);
  }
  fmt::print("\n\n");
  std::vector<MixReport> fig_reps;
  std::vector<std::string> fig_names;
  for (size_t i = 0; i < strategies.size(); ++i)
    if (!reps[i].after.empty() && strategies[i] != "cut" && strategies[i] != "natural") {
      fig_reps.push_back(reps[i]);
      fig_names.push_back(strategies[i]);
    }
  for (const char* ext : {".png", ".svg"}) LONGCTX_RETURN_IF_ERROR(draw_mix_figure(fig_reps, fig_names, true, work + "/strategies" + ext));
  fmt::print("figures: {0}/strategies.png, {0}/strategies-domains.png (+ .svg)\n\n", work);
  return Status::ok();
}

// 2. Throughput of run_mix (plan + sample + shuffle + pack + write) at 1 thread and all cores;
// returns the best tokens/s.
Result<double> throughput(const DocumentStore& store, uint64_t budget, uint64_t seq, const Args& a) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double best_tps = 0;
  for (int threads : {1, cores}) {
    MixRunConfig rc;
    rc.mix.strategy = per_source_upsample_strategy();
    rc.mix.total_tokens = budget;
    rc.mix.seq_len = seq;
    rc.out_dir = a.work + "/mix-t" + std::to_string(threads);
    rc.threads = threads;
    rc.overwrite = true;
    auto shard_tokens = parse_token_count(a.shard_tokens);
    rc.shard_tokens = shard_tokens.is_ok() ? *shard_tokens : 16000000;
    std::filesystem::remove_all(rc.out_dir);
    AnonPeak peak;
    double t0 = now();
    LONGCTX_ASSIGN_OR_RETURN(MixRunSummary sum, run_mix(store, rc, nullptr));
    double dt = now() - t0;
    double tps = sum.tokens / dt, gbs = sum.tokens * store.token_bytes() / dt / 1e9;
    best_tps = std::max(best_tps, tps);
    fmt::print("mix+pack+write per-source-upsample, {} thread(s): {} tokens in {:.2f}s = {:.1f}M tokens/s, {:.2f} GB/s; peak anon {:.0f} MB, peak RSS {:.0f} MB\n",
               threads, sum.tokens, dt, tps / 1e6, gbs, peak.mb(), status_kb("VmHWM:") / 1024.0);
    if (threads == cores) break;
  }
  return best_tps;
}

// Packing alone (sampling + shuffle + pack into memory, no file output), 1 thread: what the CPU
// does per token, apart from the disk.
Status pack_in_memory(const DocumentStore& store, uint64_t budget, uint64_t seq) {
  MixConfig c;
  c.strategy = per_source_upsample_strategy();
  c.total_tokens = budget;
  c.seq_len = seq;
  double t0 = now();
  LONGCTX_ASSIGN_OR_RETURN(Mixture m, build_mixture(store, c));
  LONGCTX_ASSIGN_OR_RETURN(TokenReader reader, TokenReader::open(store));
  double t1 = now();
  std::vector<uint32_t> toks;
  std::vector<PackedSpan> spans;
  uint64_t check = 0;
  for (uint64_t ch = 0; ch < m.num_chunks; ++ch) {
    LONGCTX_RETURN_IF_ERROR(pack_chunk(m, store, reader, ch, &toks, &spans));
    check += toks[ch % toks.size()] + spans.size();
  }
  double t2 = now();
  fmt::print("plan {:.2f}s + pack in memory {:.2f}s, 1 thread: {:.1f}M tokens/s ({} chunks, checksum {})\n", t1 - t0, t2 - t1,
             m.num_chunks * c.seq_len / (t2 - t1) / 1e6, m.num_chunks, check);
  return Status::ok();
}

// 3. Baselines in the same process: memcpy over the store's byte count (at most 1 GiB), and the
// tokenizer on text by lines at 1 thread and all cores (when --tokenizer and --text are given).
Status baselines(uint64_t store_bytes, const Args& a, double best_tps) {
  {
    const uint64_t bytes = std::min<uint64_t>(store_bytes, 1ull << 30);
    std::vector<uint8_t> src(bytes, 1), dst(bytes);
    double t0 = now();
    std::memcpy(dst.data(), src.data(), bytes);
    double dt = now() - t0;
    fmt::print("baseline memcpy: {:.2f} GB/s ({} bytes, 1 thread)\n", bytes / dt / 1e9, bytes);
  }
  if (a.tokenizer.empty() || a.text.empty()) return Status::ok();
  LONGCTX_ASSIGN_OR_RETURN(auto tok, load_tokenizer(a.tokenizer));
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(a.text));
  const std::string t = text.substr(0, std::min<size_t>(text.size(), 8u << 20));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int threads : {1, cores}) {
    std::atomic<uint64_t> ntok{0};
    double t0 = now();
    std::vector<std::thread> pool;
    for (int k = 0; k < threads; ++k)
      pool.emplace_back([&, k] {
        size_t part = t.size() / threads, s = k * part;
        std::vector<uint32_t> ids;
        // Encode by lines (documents) as the tokenize stage does.
        size_t p = s, e = k + 1 == threads ? t.size() : s + part;
        while (p < e) {
          size_t nl = t.find('\n', p);
          if (nl == std::string::npos || nl > e) nl = e;
          ids.clear();
          if (tok->encode(std::string_view(t).substr(p, nl - p), &ids).is_ok()) ntok += ids.size();
          p = nl + 1;
        }
      });
    for (auto& th : pool) th.join();
    double dt = now() - t0;
    fmt::print("baseline tokenizer ({}), {} thread(s): {:.2f}M tokens/s ({:.2f} MB/s of text)\n", tok->impl_name(), threads,
               ntok / dt / 1e6, t.size() / dt / 1e6);
    if (threads == cores) fmt::print("mixing vs tokenizing, both at {} threads: {:.0f}x\n", cores, best_tps / (ntok / dt));
    if (threads == cores) break;
  }
  return Status::ok();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, &a)) {
    fmt::print(stderr, "usage: bench_mix STORE WORK | --synth 2B WORK  [--tokens 500M] [--seq-len 80K] [--tokenizer M --text F]\n");
    return 2;
  }
  (void)make_dirs(a.work);
  if (!a.synth.empty())
    if (Status st = prepare_synth_store(a); !st.is_ok()) return die(st);
  auto store = DocumentStore::open(a.store_dir);
  if (!store.is_ok()) return die(store.status());
  auto budget = parse_token_count(a.tokens);
  auto seq = parse_seq_len(a.seq);
  if (!budget.is_ok() || !seq.is_ok()) return die(!budget.is_ok() ? budget.status() : seq.status());
  const uint64_t store_bytes = store->num_tokens() * store->token_bytes();
  fmt::print("store {}: {} documents, {} tokens ({}), budget {} tokens, seq_len {}\n\n", a.store_dir, store->num_docs(),
             store->num_tokens(), format_bytes(static_cast<double>(store_bytes)), *budget, *seq);
  if (Status st = check_table(*store, *budget, *seq, a.work); !st.is_ok()) return die(st);
  auto best_tps = throughput(*store, *budget, *seq, a);
  if (!best_tps.is_ok()) return die(best_tps.status());
  if (Status st = pack_in_memory(*store, *budget, *seq); !st.is_ok()) return die(st);
  if (Status st = baselines(store_bytes, a, *best_tps); !st.is_ok()) return die(st);
  return 0;
}
