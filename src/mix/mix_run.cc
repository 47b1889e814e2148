// run_mix / merge_mix_tasks (mix_run.h): shards written in parallel, one file per shard, each a
// pure function of (store, config, shard index); resume keeps complete shards.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_util.h"
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

// The output directory before any work: refused when it holds a finished mixture (unless
// --overwrite, which removes the manifest and the shards) or an unfinished one of other parameters
// (resume only continues the same mix); then the fingerprint is recorded at `params_path`.
Status prepare_out_dir(const DocumentStore& store, const MixRunConfig& rc, const std::string& params_path) {
  LONGCTX_RETURN_IF_ERROR(make_dirs(rc.out_dir));
  const std::string manifest_path = rc.out_dir + "/manifest.json";
  nlohmann::json fp = fingerprint(store, rc.mix);
  fp["task"] = {{"index", rc.task}, {"count", rc.num_tasks}};
  if (file_exists(manifest_path) && !rc.overwrite)
    return make_error(ErrorCode::kInvalidArgument, "'{}' already holds a finished mixture; pass --overwrite to replace it", rc.out_dir);
  if (file_exists(params_path) && !rc.overwrite) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json old, read_json_file(params_path));
    if (old != fp)
      return make_error(ErrorCode::kInvalidArgument, "'{}' holds an unfinished mixture with other parameters; pass --overwrite or use another --out", rc.out_dir);
  }
  if (rc.overwrite) {
    LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(manifest_path));
    for (const auto& e : std::filesystem::directory_iterator(rc.out_dir))
      if (e.path().extension() == ".lcpk") LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(e.path().string()));
  }
  return write_json_atomic(params_path, fp);
}

// A complete shard from an earlier run: header matches the expected chunk range.
bool shard_complete(const std::string& path, uint64_t first, uint64_t chunks, uint64_t seq_len, uint32_t tb) {
  if (!file_exists(path)) return false;
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
// free. Its checksum is what the mixture's manifest records as the store it read.
class StoreCheck {
 public:
  explicit StoreCheck(const DocumentStore& store)
      : dir_(store.dir()),
        result_(std::async(std::launch::async, [&store, this] { return verify_store_tokens(store, /*check_ids=*/false, &stop_); }).share()) {}
  ~StoreCheck() {
    stop_ = true;  // the future's destructor joins the thread; make it quick on an early return
  }
  // Publishes a sealed shard now if the check has passed, holds it if the check is still running.
  // Thread-safe.
  Status publish_or_hold(PackedShardWriter&& w) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!done() && held_.size() < kMaxHeld) {
        held_.push_back(std::move(w));
        return Status::ok();
      }
    }
    LONGCTX_RETURN_IF_ERROR(wait());
    return w.publish();
  }
  // Waits for the check; on success publishes the held shards and returns the checksum.
  Result<uint64_t> finish() {
    LONGCTX_RETURN_IF_ERROR(wait());
    for (auto& w : held_) LONGCTX_RETURN_IF_ERROR(w.publish());
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

  std::string dir_;
  std::atomic<bool> stop_{false};
  std::shared_future<Result<uint64_t>> result_;
  mutable std::mutex copy_mu_;
  std::mutex mu_;
  std::vector<PackedShardWriter> held_;  // sealed shards waiting for the check
};

// One shard of this task, as written (or found complete by a resumed run).
struct ShardOut {
  uint64_t first = 0, chunks = 0, pad = 0, spans = 0, sum = 0;
  bool reused = false;
};

// A shard found complete by a resumed run: its checksum, spans and padding as if written now.
Status reuse_shard(const std::string& path, ShardOut& o) {
  LONGCTX_ASSIGN_OR_RETURN(o.sum, checksum_file(path));
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

}  // namespace

Result<MixRunSummary> run_mix(const DocumentStore& store, const MixRunConfig& rc, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (rc.num_tasks == 0 || rc.task >= rc.num_tasks)
    return make_error(ErrorCode::kInvalidArgument, "--task {}/{}: expected 0 <= i < N", rc.task, rc.num_tasks);
  const std::string params_path = rc.out_dir + "/mix-params.json";
  LONGCTX_RETURN_IF_ERROR(prepare_out_dir(store, rc, params_path));

  StoreCheck check(store);
  LONGCTX_ASSIGN_OR_RETURN(const Mixture m, build_mixture(store, rc.mix));
  LONGCTX_ASSIGN_OR_RETURN(TokenReader reader, TokenReader::open(store));
  const uint64_t L = rc.mix.seq_len, C = m.num_chunks;
  const uint64_t per_shard = std::max<uint64_t>(1, rc.shard_tokens / L);
  const uint64_t S = (C + per_shard - 1) / per_shard;
  const uint64_t s0 = rc.task * S / rc.num_tasks, s1 = (rc.task + 1) * S / rc.num_tasks;
  const uint32_t tb = store.token_bytes();
  int threads = rc.threads > 0 ? rc.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<uint64_t>(threads, std::max<uint64_t>(1, s1 - s0)));

  std::vector<ShardOut> outs(s1 - s0);
  std::vector<Status> errs(threads);
  std::atomic<uint64_t> next{s0}, done_tokens{0};
  std::mutex pmu;
  ProgressThrottle throttle(progress);
  auto worker = [&](int t) {
    for (uint64_t s; (s = next.fetch_add(1)) < s1;) {
      ShardOut& o = outs[s - s0];
      o.first = s * per_shard;
      o.chunks = std::min(C, o.first + per_shard) - o.first;
      std::string path = rc.out_dir + "/" + packed_shard_name(s);
      auto run = [&]() -> Status {
        if (shard_complete(path, o.first, o.chunks, L, tb)) return reuse_shard(path, o);
        auto chunk_done = [&](uint64_t c) {
          uint64_t dt = done_tokens.fetch_add(L) + L;
          if (t == 0 || (c & 63) == 0) {
            std::lock_guard<std::mutex> lk(pmu);
            throttle.report({"mix", c + 1, dt * tb, (s1 - s0) * per_shard * L * tb, dt, 0, false});
          }
        };
        LONGCTX_ASSIGN_OR_RETURN(PackedShardWriter w, write_shard(m, store, reader, path, o, chunk_done));
        return check.publish_or_hold(std::move(w));
      };
      Status st = run();
      if (!st.is_ok()) {
        errs[t] = st;
        next = s1;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();
  for (const auto& e : errs) LONGCTX_RETURN_IF_ERROR(e);
  LONGCTX_ASSIGN_OR_RETURN(const uint64_t tokens_checksum, check.finish());  // also when every shard was reused

  MixRunSummary sum;
  for (const ShardOut& o : outs) {
    sum.chunks += o.chunks;
    (o.reused ? sum.shards_reused : sum.shards_written)++;
  }
  sum.tokens = sum.chunks * L;
  const PackedManifest man = mixture_manifest(store, rc, m, tokens_checksum, outs, s0, S);
  LONGCTX_RETURN_IF_ERROR(write_packed_manifest(rc.out_dir, man));
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(params_path));
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  throttle.report({"mix", sum.chunks, sum.tokens * tb, sum.tokens * tb, sum.tokens, 0, true}, true);
  return sum;
}

Status merge_mix_tasks(const std::vector<std::string>& inputs, const std::string& out_dir) {
  if (inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "mix merge: no inputs");
  std::vector<PackedManifest> mans;
  for (const auto& in : inputs) {
    LONGCTX_ASSIGN_OR_RETURN(PackedManifest m, read_packed_manifest(in));
    if (!m.task || !m.store) return make_error(ErrorCode::kInvalidArgument, "mix merge: '{}' is not the output of `longctx mix`", in);
    mans.push_back(std::move(m));
  }
  const PackedManifest& m0 = mans[0];
  const uint64_t n = m0.task->count;
  if (n != inputs.size())
    return make_error(ErrorCode::kInvalidArgument, "mix merge: the inputs are tasks of a {}-task mix, {} given", n, inputs.size());
  std::vector<int> seen(n, -1);
  for (size_t i = 0; i < mans.size(); ++i) {
    const PackedManifest& m = mans[i];
    if (m.mix != m0.mix || m.store->checksums != m0.store->checksums || m.task->count != n)
      return make_error(ErrorCode::kInvalidArgument, "mix merge: '{}' is from another mix (parameters or store differ from '{}')", inputs[i], inputs[0]);
    uint64_t t = m.task->index;
    if (t >= n || seen[t] >= 0) return make_error(ErrorCode::kInvalidArgument, "mix merge: task {} given twice or out of range ('{}')", t, inputs[i]);
    seen[t] = static_cast<int>(i);
  }
  LONGCTX_RETURN_IF_ERROR(make_dirs(out_dir));
  PackedManifest man = m0;
  man.shards.clear();
  uint64_t chunks = 0, pad = 0;
  for (uint64_t t = 0; t < n; ++t) {
    const PackedManifest& m = mans[seen[t]];
    const std::string& dir = inputs[seen[t]];
    for (const auto& s : m.shards) {
      if (s.first_chunk != chunks)
        return make_error(ErrorCode::kCorrupt, "mix merge: '{}/{}' starts at chunk {}, expected {}", dir, s.file, s.first_chunk, chunks);
      std::string from = dir + "/" + s.file, to = out_dir + "/" + s.file;
      std::error_code ec;
      std::filesystem::remove(to, ec);
      std::filesystem::create_hard_link(from, to, ec);
      if (ec) {
        std::filesystem::copy_file(from, to + ".tmp", std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return make_error(ErrorCode::kIo, "mix merge: copying '{}' to '{}': {}", from, to, ec.message());
        LONGCTX_RETURN_IF_ERROR(rename_file(to + ".tmp", to));
      }
      man.shards.push_back(s);
      chunks += s.chunks;
    }
    pad += m.counts ? m.counts->pad_tokens : 0;
  }
  if (chunks != m0.task->chunks_total)
    return make_error(ErrorCode::kCorrupt, "mix merge: tasks hold {} chunks, the mix has {}", chunks, m0.task->chunks_total);
  man.task = PackedTask{0, 1, chunks, man.shards.size()};
  man.counts = PackedCounts{chunks, chunks * m0.seq_len, pad};
  return write_packed_manifest(out_dir, man);
}

}  // namespace longctx
