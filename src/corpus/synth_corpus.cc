#include "corpus/synth_corpus.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "core/run_dir.h"
#include "core/stream.h"
#include "corpus/sample_corpus.h"

namespace longctx {

const std::vector<SynthDomain>& slimpajama_domains() {
  static const std::vector<SynthDomain> d = {
      {"RedPajamaCommonCrawl", 0.5337, 1066, 1.1}, {"RedPajamaC4", 0.2661, 315, 1.0},
      {"RedPajamaGithub", 0.0500, 520, 1.5},       {"RedPajamaArXiv", 0.0429, 14565, 0.8},
      {"RedPajamaBook", 0.0415, 121602, 0.9},      {"RedPajamaWikipedia", 0.0340, 409, 1.2},
      {"RedPajamaStackExchange", 0.0317, 507, 1.1},
  };
  return d;
}

namespace {

// Document-count weights that give the token shares: w_d ∝ share_d / E[length_d], with
// E[length] = median * exp(sigma^2 / 2) for a log-normal.
std::vector<double> doc_weights() {
  std::vector<double> w;
  double sum = 0;
  for (const auto& d : slimpajama_domains()) {
    w.push_back(d.token_share / (d.median_tokens * std::exp(d.sigma * d.sigma / 2)));
    sum += w.back();
  }
  for (auto& x : w) x /= sum;
  return w;
}

size_t utf8_start(const std::string& s, size_t pos) {
  while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

}  // namespace

Result<SynthSummary> build_synth_corpus(const SynthConfig& cfg, const ProgressFn& progress) {
  if (cfg.size_bytes == 0) return make_error(ErrorCode::kInvalidArgument, "--size must be positive");
  // The run lifecycle (core/run_dir.h): parameters are recorded first, so a rerun with the same
  // ones resumes (a finished shard is kept when its checksum matches the one recorded when it was
  // written), one with others is refused unless --overwrite; synth.json is written last.
  const nlohmann::json params = {{"size_bytes", cfg.size_bytes}, {"seed", cfg.seed}, {"shard_bytes", cfg.shard_bytes},
                                 {"bytes_per_token", cfg.bytes_per_token}, {"pool_bytes", cfg.pool_bytes}};
  LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({cfg.out_dir, &kinds::kSynthCorpus, params, cfg.overwrite}));
  std::map<std::string, std::string> recorded;  // shard path relative to out_dir -> xxh64 hex
  if (run.start() == RunDir::Start::kResume && run.state().contains("shards"))
    for (const auto& [name, sum] : run.state()["shards"].items())
      if (sum.is_string()) recorded[name] = sum.get<std::string>();
  LONGCTX_RETURN_IF_ERROR(run.checkpoint({{"shards", recorded}}));
  std::mutex mu;  // recorded, run
  LONGCTX_ASSIGN_OR_RETURN(std::string pool, load_text_pool(cfg.dpkg_dir, cfg.pool_bytes));
  const uint64_t nshards = std::max<uint64_t>(1, (cfg.size_bytes + cfg.shard_bytes - 1) / cfg.shard_bytes);
  const auto weights = doc_weights();
  const auto& domains = slimpajama_domains();
  std::atomic<uint64_t> next{0}, done_bytes{0}, done_docs{0}, finished_threads{0};
  std::vector<Status> status(nshards);
  auto work = [&] {
    for (uint64_t s; (s = next.fetch_add(1)) < nshards;) {
      uint64_t target = std::min(cfg.shard_bytes, cfg.size_bytes - s * cfg.shard_bytes);
      std::string dir = fmt::format("{}/train/chunk{}", cfg.out_dir, 1 + s % 10);
      Status st = make_dirs(dir);
      const std::string name = fmt::format("train/chunk{}/example_train_{}.jsonl.zst", 1 + s % 10, s);
      const std::string path = cfg.out_dir + "/" + name;
      std::string want;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (auto it = recorded.find(name); it != recorded.end()) want = it->second;
      }
      if (st.is_ok() && !want.empty() && file_exists(path)) {  // resume: a shard finished earlier
        auto have = checksum_file(path);
        if (have.is_ok() && hex64(*have) == want) {
          done_bytes += target;
          continue;
        }
        std::lock_guard<std::mutex> lk(mu);
        run.note(fmt::format("{} does not match the checksum recorded when it was written; writing it again", path));
      }
      auto w = ZstdWriter::open(path + ".tmp", 1);
      if (!w.is_ok()) {
        status[s] = w.status();
        continue;
      }
      Rng rng(mix64(cfg.seed) ^ mix64(s + 1));
      uint64_t written = 0;
      std::string text;
      while (st.is_ok() && written < target) {
        double u = rng.uniform();
        size_t d = 0;
        while (d + 1 < weights.size() && u >= weights[d]) u -= weights[d++];
        double tokens = domains[d].median_tokens * std::exp(domains[d].sigma * rng.normal());
        tokens = std::clamp(tokens, 8.0, 4.0e6);
        uint64_t bytes = static_cast<uint64_t>(tokens * cfg.bytes_per_token);
        bytes = std::min<uint64_t>(bytes, target - written + 64);
        text.clear();
        while (text.size() < bytes) {
          size_t off = utf8_start(pool, rng.below(pool.size()));
          size_t take = std::min<uint64_t>(bytes - text.size(), pool.size() - off);
          size_t end = utf8_start(pool, off + take);
          text.append(pool, off, end - off);
          if (end - off == 0) break;
        }
        if (text.empty()) continue;
        nlohmann::json j = {{"text", text}, {"meta", {{"redpajama_set_name", domains[d].name}}}};
        st = (*w)->write(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
        written += text.size();
        done_bytes += text.size();
        ++done_docs;
      }
      if (st.is_ok()) st = (*w)->close();
      if (st.is_ok()) st = rename_file(path + ".tmp", path);
      auto sum = st.is_ok() ? checksum_file(path) : Result<uint64_t>(st);
      if (sum.is_ok()) {
        std::lock_guard<std::mutex> lk(mu);
        recorded[name] = hex64(*sum);
        st = run.checkpoint({{"shards", recorded}});
      }
      status[s] = sum.is_ok() ? st : sum.status();
    }
    ++finished_threads;
  };
  int threads = cfg.threads > 0 ? cfg.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool_threads;
  for (int i = 0; i < threads; ++i) pool_threads.emplace_back(work);
  ProgressThrottle throttle(progress, 4);
  while (progress && finished_threads.load() < static_cast<uint64_t>(threads)) {
    ProgressSnapshot p;
    p.phase = "synth";
    p.bytes = done_bytes.load();
    p.bytes_total = cfg.size_bytes;
    p.docs = done_docs.load();
    throttle.report(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : pool_threads) t.join();
  for (const auto& st : status) LONGCTX_RETURN_IF_ERROR(run.fail(st));
  SynthSummary sum;
  sum.shards = nshards;
  sum.documents = done_docs.load();
  sum.bytes = done_bytes.load();
  nlohmann::json m = {{"format", "SlimPajama-style JSON lines, zstd-compressed"},
                      {"size_bytes", cfg.size_bytes},
                      {"seed", cfg.seed},
                      {"shards", nshards},
                      {"shard_bytes", cfg.shard_bytes},
                      {"bytes_per_token", cfg.bytes_per_token},
                      {"domains", nlohmann::json::array()}};
  for (const auto& d : domains)
    m["domains"].push_back({{"name", d.name}, {"token_share", d.token_share}, {"median_tokens", d.median_tokens}, {"sigma", d.sigma}});
  LONGCTX_RETURN_IF_ERROR(run.fail(run.publish(m)));
  sum.notes = run.notes();
  if (progress) {
    ProgressSnapshot p;
    p.phase = "synth";
    p.bytes = p.bytes_total = cfg.size_bytes;
    p.docs = sum.documents;
    p.final = true;
    throttle.report(p, true);
  }
  return sum;
}

}  // namespace longctx
