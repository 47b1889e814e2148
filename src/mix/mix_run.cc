// run_mix / merge_mix_tasks (mixture.h): shards written in parallel, one file per shard, each a
// pure function of (store, config, shard index); resume keeps complete shards.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_util.h"
#include "mix/mixture.h"
#include "store/packed_shards.h"
#include "store/document_store.h"

namespace longctx {

namespace {

// Identifies a mix: the store's checksums and the configuration (not the task split).
nlohmann::json fingerprint(const DocumentStore& store, const MixConfig& c) {
  return {{"store_checksums", store.manifest().value("checksums", nlohmann::json::object())}, {"mix", mix_config_json(c)}};
}

// A complete shard from an earlier run: header matches the expected chunk range.
bool shard_complete(const std::string& path, uint64_t first, uint64_t chunks, uint64_t seq_len, uint32_t tb) {
  if (!file_exists(path)) return false;
  auto s = PackedShard::open(path);
  if (!s.is_ok()) return false;
  const auto& h = s->header();
  return h.first_chunk == first && h.num_chunks == chunks && h.seq_len == seq_len && h.token_bytes == tb;
}

}  // namespace

Result<MixRunSummary> run_mix(const DocumentStore& store, const MixRunConfig& rc, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (rc.num_tasks == 0 || rc.task >= rc.num_tasks)
    return make_error(ErrorCode::kInvalidArgument, "--task {}/{}: expected 0 <= i < N", rc.task, rc.num_tasks);
  LONGCTX_RETURN_IF_ERROR(make_dirs(rc.out_dir));
  const std::string manifest_path = rc.out_dir + "/manifest.json", params_path = rc.out_dir + "/mix-params.json";
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
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(params_path, fp));

  LONGCTX_ASSIGN_OR_RETURN(Mixture m, build_mixture(store, rc.mix));
  LONGCTX_ASSIGN_OR_RETURN(TokenReader reader, TokenReader::open(store));
  const uint64_t L = rc.mix.seq_len, C = m.num_chunks;
  const uint64_t per_shard = std::max<uint64_t>(1, rc.shard_tokens / L);
  const uint64_t S = (C + per_shard - 1) / per_shard;
  const uint64_t s0 = rc.task * S / rc.num_tasks, s1 = (rc.task + 1) * S / rc.num_tasks;
  const uint32_t tb = store.token_bytes();
  int threads = rc.threads > 0 ? rc.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<uint64_t>(threads, std::max<uint64_t>(1, s1 - s0)));

  struct ShardOut {
    uint64_t first = 0, chunks = 0, pad = 0, spans = 0, sum = 0;
    bool reused = false;
  };
  std::vector<ShardOut> outs(s1 - s0);
  std::vector<Status> errs(threads);
  std::atomic<uint64_t> next{s0}, done_tokens{0};
  std::mutex pmu;
  ProgressThrottle throttle(progress);
  auto worker = [&](int t) {
    std::vector<uint32_t> toks;
    std::vector<PackedSpan> spans;
    for (uint64_t s; (s = next.fetch_add(1)) < s1;) {
      ShardOut& o = outs[s - s0];
      o.first = s * per_shard;
      o.chunks = std::min(C, o.first + per_shard) - o.first;
      std::string path = rc.out_dir + "/" + packed_shard_name(s);
      auto run = [&]() -> Status {
        if (shard_complete(path, o.first, o.chunks, L, tb)) {
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
        LONGCTX_ASSIGN_OR_RETURN(PackedShardWriter w, PackedShardWriter::create(path, tb, L, o.first));
        for (uint64_t c = o.first; c < o.first + o.chunks; ++c) {
          LONGCTX_RETURN_IF_ERROR(pack_chunk(m, store, reader, c, &toks, &spans));
          for (const auto& sp : spans)
            if (sp.domain == kPadDomain) o.pad += sp.end - sp.start;
          o.spans += spans.size();
          LONGCTX_RETURN_IF_ERROR(w.add_chunk(toks, spans));
          uint64_t dt = done_tokens.fetch_add(L) + L;
          if (t == 0 || (c & 63) == 0) {
            std::lock_guard<std::mutex> lk(pmu);
            throttle.report({"mix", c + 1, dt * tb, (s1 - s0) * per_shard * L * tb, dt, 0, false});
          }
        }
        LONGCTX_ASSIGN_OR_RETURN(o.sum, w.finish());
        return Status::ok();
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

  MixRunSummary sum;
  nlohmann::json shards = nlohmann::json::array();
  uint64_t pad = 0;
  for (uint64_t s = s0; s < s1; ++s) {
    const ShardOut& o = outs[s - s0];
    shards.push_back({{"file", packed_shard_name(s)}, {"first_chunk", o.first}, {"chunks", o.chunks}, {"spans", o.spans}, {"xxh64", hex64(o.sum)}});
    sum.chunks += o.chunks;
    pad += o.pad;
    (o.reused ? sum.shards_reused : sum.shards_written)++;
  }
  sum.tokens = sum.chunks * L;
  nlohmann::json man;
  man["format"] = {{"name", "longctx-packed"}, {"version", kPackedVersion}, {"seq_len", L}, {"token_bytes", tb}};
  man["domains"] = store.domains();
  man["vocab_size"] = store.manifest().value("tokenizer", nlohmann::json::object()).value("vocab_size", uint64_t{0});
  man["store"] = {{"dir", store.dir()}, {"checksums", store.manifest().value("checksums", nlohmann::json::object())}};
  man["mix"] = mix_config_json(rc.mix);
  man["task"] = {{"index", rc.task}, {"count", rc.num_tasks}, {"chunks_total", C}, {"shards_total", S}};
  man["counts"] = {{"chunks", sum.chunks}, {"tokens", sum.tokens}, {"pad_tokens", pad}};
  man["shards"] = shards;
  man["plan"] = plan_json(m.plan);
  man["report"] = report_json(mix_report(store, m));
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(manifest_path, man));
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(params_path));
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  throttle.report({"mix", sum.chunks, sum.tokens * tb, sum.tokens * tb, sum.tokens, 0, true}, true);
  return sum;
}

Status merge_mix_tasks(const std::vector<std::string>& inputs, const std::string& out_dir) {
  if (inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "mix merge: no inputs");
  std::vector<nlohmann::json> mans;
  for (const auto& in : inputs) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(in + "/manifest.json"));
    mans.push_back(std::move(j));
  }
  const auto& m0 = mans[0];
  const uint64_t n = m0["task"].value("count", uint64_t{0});
  if (n != inputs.size())
    return make_error(ErrorCode::kInvalidArgument, "mix merge: the inputs are tasks of a {}-task mix, {} given", n, inputs.size());
  std::vector<int> seen(n, -1);
  for (size_t i = 0; i < mans.size(); ++i) {
    const auto& m = mans[i];
    if (m["mix"] != m0["mix"] || m["store"]["checksums"] != m0["store"]["checksums"] || m["task"].value("count", uint64_t{0}) != n)
      return make_error(ErrorCode::kInvalidArgument, "mix merge: '{}' is from another mix (parameters or store differ from '{}')", inputs[i], inputs[0]);
    uint64_t t = m["task"].value("index", uint64_t{0});
    if (t >= n || seen[t] >= 0) return make_error(ErrorCode::kInvalidArgument, "mix merge: task {} given twice or out of range ('{}')", t, inputs[i]);
    seen[t] = static_cast<int>(i);
  }
  LONGCTX_RETURN_IF_ERROR(make_dirs(out_dir));
  nlohmann::json shards = nlohmann::json::array();
  uint64_t chunks = 0, pad = 0;
  for (uint64_t t = 0; t < n; ++t) {
    const auto& m = mans[seen[t]];
    const std::string& dir = inputs[seen[t]];
    for (const auto& s : m["shards"]) {
      if (s["first_chunk"].get<uint64_t>() != chunks)
        return make_error(ErrorCode::kCorrupt, "mix merge: '{}/{}' starts at chunk {}, expected {}", dir, s["file"].get<std::string>(), s["first_chunk"].get<uint64_t>(), chunks);
      std::string from = dir + "/" + s["file"].get<std::string>(), to = out_dir + "/" + s["file"].get<std::string>();
      std::error_code ec;
      std::filesystem::remove(to, ec);
      std::filesystem::create_hard_link(from, to, ec);
      if (ec) {
        std::filesystem::copy_file(from, to + ".tmp", std::filesystem::copy_options::overwrite_existing, ec);
        if (ec) return make_error(ErrorCode::kIo, "mix merge: copying '{}' to '{}': {}", from, to, ec.message());
        LONGCTX_RETURN_IF_ERROR(rename_file(to + ".tmp", to));
      }
      shards.push_back(s);
      chunks += s["chunks"].get<uint64_t>();
    }
    pad += m["counts"].value("pad_tokens", uint64_t{0});
  }
  if (chunks != m0["task"].value("chunks_total", uint64_t{0}))
    return make_error(ErrorCode::kCorrupt, "mix merge: tasks hold {} chunks, the mix has {}", chunks, m0["task"].value("chunks_total", uint64_t{0}));
  nlohmann::json man = m0;
  man["task"] = {{"index", 0}, {"count", 1}, {"chunks_total", chunks}, {"shards_total", shards.size()}};
  man["counts"] = {{"chunks", chunks}, {"tokens", chunks * m0["format"]["seq_len"].get<uint64_t>()}, {"pad_tokens", pad}};
  man["shards"] = shards;
  return write_json_atomic(out_dir + "/manifest.json", man);
}

}  // namespace longctx
