#include "store/packed_manifest.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/file_io.h"
#include "core/json_util.h"
#include "core/run_dir.h"

namespace longctx {

nlohmann::json packed_manifest_json(const PackedManifest& m) {
  nlohmann::json j;
  j["format"] = {{"name", kPackedFormatName}, {"version", m.version}, {"seq_len", m.seq_len}, {"token_bytes", m.token_bytes}};
  j["domains"] = m.domains;
  j["vocab_size"] = m.vocab_size;
  if (m.store) j["store"] = {{"dir", m.store->dir}, {"checksums", m.store->checksums}};
  if (!m.mix.is_null()) j["mix"] = m.mix;
  if (m.task)
    j["task"] = {{"index", m.task->index}, {"count", m.task->count}, {"chunks_total", m.task->chunks_total},
                 {"shards_total", m.task->shards_total}};
  if (m.counts) j["counts"] = {{"chunks", m.counts->chunks}, {"tokens", m.counts->tokens}, {"pad_tokens", m.counts->pad_tokens}};
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& s : m.shards) {
    nlohmann::json e = {{"file", s.file}, {"first_chunk", s.first_chunk}, {"chunks", s.chunks}, {"xxh64", s.xxh64}};
    if (s.spans) e["spans"] = *s.spans;
    shards.push_back(std::move(e));
  }
  j["shards"] = std::move(shards);
  if (!m.plan.is_null()) j["plan"] = m.plan;
  if (!m.report.is_null()) j["report"] = m.report;
  return j;
}

namespace {

// A non-negative integer. Parsed text gives such numbers the unsigned type, but a manifest built in
// memory (nlohmann::json from C++ ints, as tests and tools do) holds them as signed ones.
bool is_count(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

// One entry of "shards", checked before any field is taken: a file name is a plain name inside the
// directory, never a path that leads out of it (a manifest could otherwise make verify read
// /dev/zero for ever), and every number is a non-negative integer.
Status check_shard_entry(const std::string& where, size_t k, const nlohmann::json& s) {
  auto bad = [&](const std::string& what) {
    return make_error(ErrorCode::kCorrupt, "'{}': shards[{}]: {}, found {}", where, k, what, s.dump());
  };
  if (!s.is_object()) return bad("expected an object");
  auto f = s.find("file");
  if (f == s.end() || !f->is_string()) return bad("expected a string \"file\"");
  const std::string name = f->get<std::string>();
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
    return bad("\"file\" must be a plain file name inside the directory");
  for (const char* key : {"chunks", "first_chunk", "spans"}) {
    auto it = s.find(key);
    if ((it == s.end() && std::string(key) == "chunks") || (it != s.end() && !is_count(*it)))
      return bad(fmt::format("expected a non-negative integer \"{}\"", key));
  }
  if (auto it = s.find("xxh64"); it != s.end() && !it->is_string()) return bad("\"xxh64\" must be a hex string");
  return Status::ok();
}

// "counts": an object of non-negative integers.
Status check_counts(const std::string& where, const nlohmann::json& c) {
  bool ok = c.is_object();
  for (const char* key : {"chunks", "tokens", "pad_tokens"}) ok = ok && (!c.contains(key) || is_count(c.at(key)));
  if (!ok) return make_error(ErrorCode::kCorrupt, "'{}': \"counts\" must be an object of non-negative integers, found {}", where, c.dump());
  return Status::ok();
}

}  // namespace

Result<PackedManifest> parse_packed_manifest(const nlohmann::json& j, const std::string& where) {
  PackedManifest m;
  try {
    const auto& f = j.at("format");
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string())
      return make_error(ErrorCode::kCorrupt, "'{}': \"format\" must be an object with a string \"name\" ({}), found {}",
                        where, kPackedFormatName, f.dump());
    const std::string name = f["name"].get<std::string>();
    if (name != kPackedFormatName)
      return make_error(ErrorCode::kCorrupt, "'{}': format '{}', expected {}", where, name, kPackedFormatName);
    m.version = f.value("version", uint32_t{1});
    m.seq_len = f.at("seq_len").get<uint64_t>();
    m.token_bytes = f.at("token_bytes").get<uint32_t>();
    m.domains = j.at("domains").get<std::vector<std::string>>();
    m.vocab_size = j.value("vocab_size", uint64_t{0});
    if (j.contains("store"))
      m.store = PackedSource{j.at("store").value("dir", std::string()),
                             j.at("store").value("checksums", std::map<std::string, std::string>())};
    if (j.contains("mix")) m.mix = j.at("mix");
    if (j.contains("task")) {
      const auto& t = j.at("task");
      m.task = PackedTask{t.value("index", uint64_t{0}), t.value("count", uint64_t{1}), t.value("chunks_total", uint64_t{0}),
                          t.value("shards_total", uint64_t{0})};
    }
    if (j.contains("counts")) {
      const auto& c = j.at("counts");
      LONGCTX_RETURN_IF_ERROR(check_counts(where, c));
      m.counts = PackedCounts{c.value("chunks", uint64_t{0}), c.value("tokens", uint64_t{0}), c.value("pad_tokens", uint64_t{0})};
    }
    for (const auto& s : j.at("shards")) {
      LONGCTX_RETURN_IF_ERROR(check_shard_entry(where, m.shards.size(), s));
      PackedShardEntry e{s.at("file").get<std::string>(), s.value("first_chunk", uint64_t{0}), s.at("chunks").get<uint64_t>(),
                         std::nullopt, s.value("xxh64", std::string())};
      if (s.contains("spans")) e.spans = s.at("spans").get<uint64_t>();
      m.shards.push_back(std::move(e));
    }
    if (j.contains("plan")) m.plan = j.at("plan");
    if (j.contains("report")) m.report = j.at("report");
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}': {}", where, e.what());
  }
  if (m.token_bytes != 2 && m.token_bytes != 4)
    return make_error(ErrorCode::kCorrupt, "'{}': token_bytes {}, expected 2 or 4", where, m.token_bytes);
  return m;
}

Result<PackedManifest> read_packed_manifest(const std::string& dir) {
  const std::string path = dir + "/manifest.json";
  if (!file_exists(path)) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".lcpk" || e.path().filename() == "resume.json")
        return make_error(ErrorCode::kCorrupt, "'{}' is an unfinished mixture ({})", dir, describe_unfinished_run(dir));
    return make_error(ErrorCode::kNotFound, "'{}' is not a packed mixture: no manifest.json", dir);
  }
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json j, read_json_file(path));
  // Sniffed before the full parse, so every type is checked here too ("name": 1 must not throw).
  const bool store = j.is_object() && j.contains("format") && j["format"].is_object() &&
                     j["format"].contains("name") && j["format"]["name"].is_string() &&
                     j["format"]["name"].get_ref<const std::string&>() == "longctx-document-store";
  if (store)
    return make_error(ErrorCode::kInvalidArgument, "'{}' is a document store, not a packed mixture (check it with `longctx store verify`)", dir);
  return parse_packed_manifest(j, path);
}

Status write_packed_manifest(const std::string& dir, const PackedManifest& m) {
  return write_json_atomic(dir + "/manifest.json", packed_manifest_json(m));
}

}  // namespace longctx
