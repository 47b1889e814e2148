// run_mix / merge_mix_tasks (mix_run.h): shards written in parallel, one file per shard, each a
// pure function of (store, config, shard index). The output directory follows the run lifecycle
// (core/run_dir.h): kind "mixture", lock, fingerprint, resume state = the checksum of every shard
// published so far, manifest written last. Resume keeps a finished shard only when its checksum
// still matches the one recorded when it was published.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_util.h"
#include "core/run_dir.h"
#include "mix/mix_run.h"
#include "mix/packing.h"
#include "mix/report.h"
#include "store/document_store.h"
#include "store/packed_manifest.h"
#include "store/packed_shards.h"
#include "store/token_reader.h"

namespace longctx {

namespace {

// Identifies a mix: the store's checksums and the configuration (not the task split).
nlohmann::json fingerprint(const DocumentStore& store, const MixConfig& c) {
  return {{"store_checksums", store.manifest().value("checksums", nlohmann::json::object())}, {"mix", mix_config_json(c)}};
}

// A complete shard from an earlier run: header matches the expected chunk range.
bool shard_complete(const std::string& path, uint64_t first, uint64_t chunks, uint64_t seq_len, uint32_t tb) {
  if (path_type(path) != PathType::kRegular) return false;
  auto s = PackedShard::open(path);
  if (!s.is_ok()) return false;
  const auto& h = s->header();
  return h.first_chunk == first && h.num_chunks == chunks && h.seq_len == seq_len && h.token_bytes == tb;
}

// The store's tokens.bin read once in full by a thread of its own (checksum against the store's
// manifest; the ids the mixture takes are checked by its TokenReader) while the mixture is planned
// and packed. No shard is published before the check has passed: a shard finished earlier is held
// under its temporary name (up to kMaxHeld; then its worker waits) and published when the check
// ends, so a damaged store leaves no shard behind and the check costs no time when a core is
// free. Its checksum is what the mixture's manifest records as the store it read. Each shard, once
// published, is reported to `published` (the resume state records it then, never before).
class StoreCheck {
 public:
  // A shard written and sealed under its temporary name, with its file name and xxh64.
  struct Sealed {
    PackedShardWriter writer;
    std::string name;
    uint64_t sum = 0;
  };
  using PublishedFn = std::function<Status(const std::string& name, uint64_t sum)>;

  StoreCheck(const DocumentStore& store, PublishedFn published)
      : dir_(store.dir()),
        published_(std::move(published)),
        result_(std::async(std::launch::async, [&store, this] { return verify_store_tokens(store, /*check_ids=*/false, &stop_); }).share()) {}
  ~StoreCheck() {
    stop_ = true;  // the future's destructor joins the thread; make it quick on an early return
  }
  // Publishes a sealed shard now if the check has passed, holds it if the check is still running.
  // Thread-safe.
  Status publish_or_hold(Sealed&& s) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!done() && held_.size() < kMaxHeld) {
        held_.push_back(std::move(s));
        return Status::ok();
      }
    }
    LONGCTX_RETURN_IF_ERROR(wait());
    return publish(s);
  }
  // Waits for the check; on success publishes the held shards and returns the checksum.
  Result<uint64_t> finish() {
    LONGCTX_RETURN_IF_ERROR(wait());
    for (auto& s : held_) LONGCTX_RETURN_IF_ERROR(publish(s));
    held_.clear();
    return copy().get().value();
  }

 private:
  static constexpr size_t kMaxHeld = 64;
  // get() on one shared_future object is not thread-safe: each call works on its own copy.
  std::shared_future<Result<uint64_t>> copy() const {
    std::lock_guard<std::mutex> lk(copy_mu_);
    return result_;
  }
  bool done() const { return copy().wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
  Status wait() const { return copy().get().status().with_context(fmt::format("cannot mix the store '{}'", dir_)); }
  Status publish(Sealed& s) {
    LONGCTX_RETURN_IF_ERROR(s.writer.publish());
    return published_(s.name, s.sum);
  }

  std::string dir_;
  PublishedFn published_;
  std::atomic<bool> stop_{false};
  std::shared_future<Result<uint64_t>> result_;
  mutable std::mutex copy_mu_;
  std::mutex mu_;
  std::vector<Sealed> held_;  // sealed shards waiting for the check
};

// The resume state of a mix (RunDir::checkpoint after every published shard):
// {"shards": {"shard-00003.lcpk": "<xxh64 hex>", ...}}. Thread-safe.
class ShardLedger {
 public:
  explicit ShardLedger(RunDir& run) : run_(run) {
    if (run.start() == RunDir::Start::kResume && run.state().contains("shards") && run.state()["shards"].is_object())
      for (const auto& [name, sum] : run.state()["shards"].items())
        if (sum.is_string()) recorded_[name] = sum.get<std::string>();
  }
  // Whether the shard at `path` is the one this run (or the interrupted one) published: its
  // checksum (*sum) matches the recorded one. A mismatch is noted; the caller writes it again.
  Result<bool> intact(const std::string& name, const std::string& path, uint64_t* sum) {
    std::string want;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (auto it = recorded_.find(name); it != recorded_.end()) want = it->second;
    }
    if (want.empty()) return false;
    LONGCTX_ASSIGN_OR_RETURN(*sum, checksum_file(path));
    if (hex64(*sum) == want) return true;
    std::lock_guard<std::mutex> lk(mu_);
    run_.note(fmt::format("{} does not match the checksum recorded when it was written ({}, now {}); writing it again",
                          path, want, hex64(*sum)));
    return false;
  }
  // Records a published shard; returns how many checkpoints this run has saved.
  Result<uint64_t> record(const std::string& name, uint64_t sum) {
    std::lock_guard<std::mutex> lk(mu_);
    recorded_[name] = hex64(sum);
    LONGCTX_RETURN_IF_ERROR(run_.checkpoint({{"shards", recorded_}}));
    return ++checkpoints_;
  }

 private:
  RunDir& run_;
  std::mutex mu_;  // recorded_, run_ (checkpoints, notes)
  std::map<std::string, std::string> recorded_;
  uint64_t checkpoints_ = 0;
};

// One shard of this task, as written (or found complete by a resumed run).
struct ShardOut {
  uint64_t first = 0, chunks = 0, pad = 0, spans = 0, sum = 0;
  bool reused = false;
};

// A shard a resumed run keeps (its checksum `sum` matched): spans and padding as if written now.
Status reuse_shard(const std::string& path, uint64_t sum, ShardOut& o) {
  o.sum = sum;
  LONGCTX_ASSIGN_OR_RETURN(PackedShard sh, PackedShard::open(path));
  for (uint64_t c = 0; c < sh.num_chunks(); ++c)
    for (const auto& sp : sh.chunk_spans(c)) {
      ++o.spans;
      if (sp.domain == kPadDomain) o.pad += sp.end - sp.start;
    }
  o.reused = true;
  return Status::ok();
}

// Packs chunks [o.first, o.first + o.chunks) into a new shard at `path`, sealed but not yet
// published (StoreCheck decides when); chunk_done(c) after each chunk (progress).
Result<PackedShardWriter> write_shard(const Mixture& m, const DocumentStore& store, const TokenReader& reader, const std::string& path,
                                      ShardOut& o, const std::function<void(uint64_t)>& chunk_done) {
  const uint64_t L = m.plan.config.seq_len;
  std::vector<uint32_t> toks;
  std::vector<PackedSpan> spans;
  LONGCTX_ASSIGN_OR_RETURN(PackedShardWriter w, PackedShardWriter::create(path, store.token_bytes(), L, o.first));
  for (uint64_t c = o.first; c < o.first + o.chunks; ++c) {
    LONGCTX_RETURN_IF_ERROR(pack_chunk(m, store, reader, c, &toks, &spans));
    for (const auto& sp : spans)
      if (sp.domain == kPadDomain) o.pad += sp.end - sp.start;
    o.spans += spans.size();
    LONGCTX_RETURN_IF_ERROR(w.add_chunk(toks, spans));
    chunk_done(c);
  }
  LONGCTX_ASSIGN_OR_RETURN(o.sum, w.seal());
  return w;
}

// The manifest of this task's directory (store/packed_manifest.h): shards s0.. of S in all.
PackedManifest mixture_manifest(const DocumentStore& store, const MixRunConfig& rc, const Mixture& m, uint64_t tokens_checksum,
                                const std::vector<ShardOut>& outs, uint64_t s0, uint64_t S) {
  PackedManifest man;
  PackedCounts counts;
  for (size_t i = 0; i < outs.size(); ++i) {
    const ShardOut& o = outs[i];
    man.shards.push_back({packed_shard_name(s0 + i), o.first, o.chunks, o.spans, hex64(o.sum)});
    counts.chunks += o.chunks;
    counts.pad_tokens += o.pad;
  }
  counts.tokens = counts.chunks * rc.mix.seq_len;
  man.version = kPackedVersion;
  man.seq_len = rc.mix.seq_len;
  man.token_bytes = store.token_bytes();
  man.domains = store.domains();
  man.vocab_size = store.vocab_size();
  man.store = PackedSource{store.dir(), {{"tokens.bin", hex64(tokens_checksum)}, {"docs.bin", hex64(store.docs_checksum())}}};
  man.mix = mix_config_json(rc.mix);
  man.task = PackedTask{rc.task, rc.num_tasks, m.num_chunks, S};
  man.counts = counts;
  man.plan = plan_json(m.plan);
  man.report = report_json(mix_report(store, m));
  return man;
}

// A task's shard into the merged directory: a hard link (no copy) where the file system allows,
// else a copy published under a temporary name. The merged directory was emptied of shards by the
// run lifecycle, so nothing is replaced here.
Status link_or_copy(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::create_hard_link(from, to, ec);
  if (!ec) return Status::ok();
  LONGCTX_ASSIGN_OR_RETURN(MappedFile src, MappedFile::open(from));
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(to));
  LONGCTX_RETURN_IF_ERROR(w.write(src.data(), src.size()));
  return w.commit();
}

// The same command already finished (killed after its manifest appeared): report it.
Result<MixRunSummary> summary_of_finished_mix(const RunDir& run) {
  LONGCTX_ASSIGN_OR_RETURN(PackedManifest m, read_packed_manifest(run.dir()));
  MixRunSummary sum;
  for (const auto& s : m.shards) sum.chunks += s.chunks;
  sum.tokens = sum.chunks * m.seq_len;
  sum.shards_reused = m.shards.size();
  sum.notes = run.notes();
  return sum;
}

// This task's share of the mixture's shards: [s0, s1) of S, per_shard chunks each.
struct ShardRange {
  uint64_t per_shard = 0, S = 0, s0 = 0, s1 = 0;
};
ShardRange shard_range(const Mixture& m, const MixRunConfig& rc) {
  ShardRange r;
  r.per_shard = std::max<uint64_t>(1, rc.shard_tokens / rc.mix.seq_len);
  r.S = (m.num_chunks + r.per_shard - 1) / r.per_shard;
  r.s0 = rc.task * r.S / rc.num_tasks;
  r.s1 = (rc.task + 1) * r.S / rc.num_tasks;
  return r;
}

// Plans, writes (or reuses) this task's shards on a pool of threads, then publishes the manifest.
Result<MixRunSummary> write_mix(const DocumentStore& store, const MixRunConfig& rc, RunDir& run, const ProgressFn& progress) {
  ProgressThrottle throttle(progress);
  std::mutex pmu;  // throttle
  std::atomic<uint64_t> done_tokens{0};
  const uint64_t L = rc.mix.seq_len;
  const uint32_t tb = store.token_bytes();
  ShardLedger ledger(run);
  // Declared after the ledger: its thread is joined before the ledger goes.
  StoreCheck check(store, [&](const std::string& name, uint64_t sum) -> Status {
    LONGCTX_ASSIGN_OR_RETURN(const uint64_t checkpoints, ledger.record(name, sum));
    ProgressSnapshot p{"mix", done_tokens / L, done_tokens * tb, 0, done_tokens};
    p.checkpoints = checkpoints;
    std::lock_guard<std::mutex> lk(pmu);
    throttle.report(p, /*force=*/true);
    return Status::ok();
  });
  LONGCTX_ASSIGN_OR_RETURN(const Mixture m, build_mixture(store, rc.mix));
  LONGCTX_ASSIGN_OR_RETURN(TokenReader reader, TokenReader::open(store));
  const ShardRange r = shard_range(m, rc);
  const uint64_t total_bytes = (r.s1 - r.s0) * r.per_shard * L * tb;
  int threads = rc.threads > 0 ? rc.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<uint64_t>(threads, std::max<uint64_t>(1, r.s1 - r.s0)));

  std::vector<ShardOut> outs(r.s1 - r.s0);
  auto one_shard = [&](uint64_t s, int t) -> Status {
    ShardOut& o = outs[s - r.s0];
    o.first = s * r.per_shard;
    o.chunks = std::min(m.num_chunks, o.first + r.per_shard) - o.first;
    const std::string name = packed_shard_name(s), path = rc.out_dir + "/" + name;
    if (shard_complete(path, o.first, o.chunks, L, tb)) {
      uint64_t sum = 0;
      LONGCTX_ASSIGN_OR_RETURN(const bool intact, ledger.intact(name, path, &sum));
      if (intact) return reuse_shard(path, sum, o);
    }
    auto chunk_done = [&](uint64_t c) {
      uint64_t dt = done_tokens.fetch_add(L) + L;
      if (t == 0 || (c & 63) == 0) {
        std::lock_guard<std::mutex> lk(pmu);
        throttle.report({"mix", c + 1, dt * tb, total_bytes, dt});
      }
    };
    LONGCTX_ASSIGN_OR_RETURN(PackedShardWriter w, write_shard(m, store, reader, path, o, chunk_done));
    return check.publish_or_hold({std::move(w), name, o.sum});
  };
  std::vector<Status> errs(threads);
  std::atomic<uint64_t> next{r.s0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (uint64_t s; (s = next.fetch_add(1)) < r.s1;)
        if (errs[t] = one_shard(s, t); !errs[t].is_ok()) {
          next = r.s1;
          return;
        }
    });
  for (auto& th : pool) th.join();
  for (const auto& e : errs) LONGCTX_RETURN_IF_ERROR(e);
  LONGCTX_ASSIGN_OR_RETURN(const uint64_t tokens_checksum, check.finish());  // also when every shard was reused

  MixRunSummary sum;
  for (const ShardOut& o : outs) {
    sum.chunks += o.chunks;
    (o.reused ? sum.shards_reused : sum.shards_written)++;
  }
  sum.tokens = sum.chunks * L;
  LONGCTX_RETURN_IF_ERROR(run.publish(packed_manifest_json(mixture_manifest(store, rc, m, tokens_checksum, outs, r.s0, r.S))));
  ProgressSnapshot done{"mix", sum.chunks, sum.tokens * tb, sum.tokens * tb, sum.tokens};
  done.final = true;
  throttle.report(done, /*force=*/true);
  return sum;
}

}  // namespace

Result<MixRunSummary> run_mix(const DocumentStore& store, const MixRunConfig& rc, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (rc.num_tasks == 0 || rc.task >= rc.num_tasks)
    return make_error(ErrorCode::kInvalidArgument, "--task {}/{}: expected 0 <= i < N", rc.task, rc.num_tasks);
  nlohmann::json fp = fingerprint(store, rc.mix);
  fp["task"] = {{"index", rc.task}, {"count", rc.num_tasks}};
  LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({rc.out_dir, &kinds::kMixture, fp, rc.overwrite}));
  if (run.start() == RunDir::Start::kAlreadyDone) return summary_of_finished_mix(run);
  auto sum = write_mix(store, rc, run, progress);
  if (!sum.is_ok()) return run.fail(sum.status());
  sum->notes = run.notes();
  sum->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

Status merge_mix_tasks(const std::vector<std::string>& inputs, const std::string& out_dir, bool overwrite) {
  if (inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "mix merge: no inputs");
  std::vector<PackedManifest> mans;
  std::error_code ec;
  for (const auto& in : inputs) {
    if (std::filesystem::exists(out_dir, ec) && std::filesystem::equivalent(in, out_dir, ec))
      return make_error(ErrorCode::kInvalidArgument, "mix merge: the output '{}' is also an input", out_dir);
    LONGCTX_ASSIGN_OR_RETURN(PackedManifest m, read_packed_manifest(in));
    if (!m.task || !m.store) return make_error(ErrorCode::kInvalidArgument, "mix merge: '{}' is not the output of `longctx mix`", in);
    mans.push_back(std::move(m));
  }
  const PackedManifest& m0 = mans[0];
  const uint64_t n = m0.task->count;
  if (n != inputs.size())
    return make_error(ErrorCode::kInvalidArgument, "mix merge: the inputs are tasks of a {}-task mix, {} given", n, inputs.size());
  std::vector<int> seen(n, -1);
  nlohmann::json fp = nlohmann::json::array();  // the run's fingerprint: every input's shards
  for (size_t i = 0; i < mans.size(); ++i) {
    const PackedManifest& m = mans[i];
    if (m.mix != m0.mix || m.store->checksums != m0.store->checksums || m.task->count != n)
      return make_error(ErrorCode::kInvalidArgument, "mix merge: '{}' is from another mix (parameters or store differ from '{}')", inputs[i], inputs[0]);
    uint64_t t = m.task->index;
    if (t >= n || seen[t] >= 0) return make_error(ErrorCode::kInvalidArgument, "mix merge: task {} given twice or out of range ('{}')", t, inputs[i]);
    seen[t] = static_cast<int>(i);
    fp.push_back(packed_manifest_json(m)["shards"]);
  }
  LONGCTX_ASSIGN_OR_RETURN(RunDir run, RunDir::open({out_dir, &kinds::kMixture, fp, overwrite, /*resumable=*/false}));
  PackedManifest man = m0;
  man.shards.clear();
  uint64_t chunks = 0, pad = 0;
  for (uint64_t t = 0; t < n; ++t) {
    const PackedManifest& m = mans[seen[t]];
    const std::string& dir = inputs[seen[t]];
    for (const auto& s : m.shards) {
      if (s.first_chunk != chunks)
        return run.fail(make_error(ErrorCode::kCorrupt, "mix merge: '{}/{}' starts at chunk {}, expected {}", dir, s.file,
                                   s.first_chunk, chunks));
      LONGCTX_RETURN_IF_ERROR(run.fail(link_or_copy(dir + "/" + s.file, out_dir + "/" + s.file)));
      man.shards.push_back(s);
      chunks += s.chunks;
    }
    pad += m.counts ? m.counts->pad_tokens : 0;
  }
  if (chunks != m0.task->chunks_total)
    return run.fail(make_error(ErrorCode::kCorrupt, "mix merge: tasks hold {} chunks, the mix has {}", chunks, m0.task->chunks_total));
  man.task = PackedTask{0, 1, chunks, man.shards.size()};
  man.counts = PackedCounts{chunks, chunks * m0.seq_len, pad};
  return run.fail(run.publish(packed_manifest_json(man)));
}

}  // namespace longctx
