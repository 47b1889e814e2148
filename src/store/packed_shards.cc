#include "store/packed_shards.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_util.h"
#include "store/document_store.h"

namespace longctx {

Status write_at(const std::string& path, uint64_t offset, const void* data, size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open '{}' to update its header", path);
  ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
  int rc = ::close(fd);
  if (n != static_cast<ssize_t>(size) || rc != 0) return make_error(ErrorCode::kIo, "cannot write {} bytes at {} of '{}'", size, offset, path);
  return Status::ok();
}

std::string packed_shard_name(uint64_t shard_index) { return fmt::format("shard-{:05d}.lcpk", shard_index); }

Result<PackedShardWriter> PackedShardWriter::create(const std::string& path, uint32_t token_bytes, uint64_t seq_len,
                                                    uint64_t first_chunk) {
  if (token_bytes != 2 && token_bytes != 4)
    return make_error(ErrorCode::kInvalidArgument, "packed shard '{}': token_bytes must be 2 or 4, got {}", path, token_bytes);
  if (seq_len == 0 || seq_len > 0xFFFFFFFFull)
    return make_error(ErrorCode::kInvalidArgument, "packed shard '{}': seq_len {} out of range", path, seq_len);
  PackedShardWriter w;
  LONGCTX_ASSIGN_OR_RETURN(w.w_, AtomicWriter::open(path));
  w.token_bytes_ = token_bytes;
  w.seq_len_ = seq_len;
  w.first_chunk_ = first_chunk;
  PackedShardHeader h{};  // placeholder; fixed in finish()
  LONGCTX_RETURN_IF_ERROR(w.w_.write(&h, sizeof h));
  return w;
}

Status PackedShardWriter::add_chunk(std::span<const uint32_t> tokens, std::span<const PackedSpan> spans) {
  if (tokens.size() != seq_len_)
    return make_error(ErrorCode::kInternal, "packed chunk has {} tokens, expected seq_len {}", tokens.size(), seq_len_);
  buf_.resize(tokens.size() * token_bytes_);
  if (token_bytes_ == 4) {
    std::memcpy(buf_.data(), tokens.data(), buf_.size());
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] > 0xFFFF) return make_error(ErrorCode::kInvalidArgument, "token id {} does not fit uint16", tokens[i]);
      uint16_t v = static_cast<uint16_t>(tokens[i]);
      std::memcpy(buf_.data() + 2 * i, &v, 2);
    }
  }
  LONGCTX_RETURN_IF_ERROR(w_.write(buf_.data(), buf_.size()));
  spans_.insert(spans_.end(), spans.begin(), spans.end());
  span_index_.push_back(spans_.size());
  ++chunks_;
  return Status::ok();
}

Result<uint64_t> PackedShardWriter::finish() {
  LONGCTX_RETURN_IF_ERROR(w_.write(span_index_.data(), span_index_.size() * sizeof(uint64_t)));
  LONGCTX_RETURN_IF_ERROR(w_.write(spans_.data(), spans_.size() * sizeof(PackedSpan)));
  LONGCTX_RETURN_IF_ERROR(w_.file().flush());
  std::string tmp = w_.file().path();
  {
    PackedShardHeader h{};
    std::memcpy(h.magic, kPackedMagic, 8);
    h.version = kPackedVersion;
    h.token_bytes = token_bytes_;
    h.seq_len = seq_len_;
    h.num_chunks = chunks_;
    h.num_spans = spans_.size();
    h.first_chunk = first_chunk_;
    LONGCTX_RETURN_IF_ERROR(write_at(tmp, 0, &h, sizeof h));
  }
  LONGCTX_ASSIGN_OR_RETURN(uint64_t sum, checksum_file(tmp));
  LONGCTX_RETURN_IF_ERROR(w_.file().sync());
  LONGCTX_RETURN_IF_ERROR(w_.commit());
  return sum;
}

Result<PackedShard> PackedShard::open(const std::string& path) {
  PackedShard s;
  s.path_ = path;
  LONGCTX_ASSIGN_OR_RETURN(s.map_, MappedFile::open(path));
  if (s.map_.size() < kPackedHeaderBytes)
    return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, shorter than the {}-byte packed-shard header", path, s.map_.size(), kPackedHeaderBytes);
  std::memcpy(&s.h_, s.map_.data(), sizeof s.h_);
  if (std::memcmp(s.h_.magic, kPackedMagic, 8) != 0)
    return make_error(ErrorCode::kCorrupt, "'{}': bad magic, expected LCTXPAK1", path);
  if (s.h_.version != kPackedVersion)
    return make_error(ErrorCode::kCorrupt, "'{}': version {}, expected {}", path, s.h_.version, kPackedVersion);
  if (s.h_.token_bytes != 2 && s.h_.token_bytes != 4)
    return make_error(ErrorCode::kCorrupt, "'{}': token_bytes {}, expected 2 or 4", path, s.h_.token_bytes);
  // Span positions are u32, so a chunk holds 1 .. 2^32 - 1 tokens. The size implied by the header is
  // computed in 128 bits: in 64 bits a hostile header can wrap it around to the file's true size.
  if (s.h_.seq_len == 0 || s.h_.seq_len > 0xFFFFFFFFull)
    return make_error(ErrorCode::kCorrupt, "'{}': seq_len {}, expected 1 .. 4294967295", path, s.h_.seq_len);
  using u128 = __uint128_t;
  const u128 expect = u128{kPackedHeaderBytes} + u128{s.h_.num_chunks} * s.h_.seq_len * s.h_.token_bytes +
                      (u128{s.h_.num_chunks} + 1) * 8 + u128{s.h_.num_spans} * sizeof(PackedSpan);
  const uint64_t tok_bytes = s.h_.num_chunks * s.h_.seq_len * s.h_.token_bytes;  // exact when the sizes match
  if (u128{s.map_.size()} != expect)
    return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, which does not match the header ({} chunks x {} tokens, {} spans)",
                      path, s.map_.size(), s.h_.num_chunks, s.h_.seq_len, s.h_.num_spans);
  s.tokens_ = s.map_.data() + kPackedHeaderBytes;
  // The span index starts at 64 + tok_bytes, a multiple of 2 but maybe not of 8: read via memcpy.
  s.index_ = reinterpret_cast<const uint64_t*>(s.tokens_ + tok_bytes);
  s.spans_ = reinterpret_cast<const PackedSpan*>(s.tokens_ + tok_bytes + (s.h_.num_chunks + 1) * 8);
  return s;
}

void PackedShard::chunk_tokens(uint64_t c, std::vector<uint32_t>* out) const {
  out->resize(h_.seq_len);
  const uint8_t* p = tokens_ + c * h_.seq_len * h_.token_bytes;
  if (h_.token_bytes == 4) {
    std::memcpy(out->data(), p, h_.seq_len * 4);
  } else {
    for (uint64_t i = 0; i < h_.seq_len; ++i) {
      uint16_t v;
      std::memcpy(&v, p + 2 * i, 2);
      (*out)[i] = v;
    }
  }
}

std::span<const PackedSpan> PackedShard::chunk_spans(uint64_t c) const {
  uint64_t a, b;
  std::memcpy(&a, index_ + c, 8);
  std::memcpy(&b, index_ + c + 1, 8);
  return {spans_ + a, spans_ + b};
}

Status PackedShard::check(size_t num_domains) const {
  uint64_t prev;
  std::memcpy(&prev, index_, 8);
  if (prev != 0) return make_error(ErrorCode::kCorrupt, "'{}': span_index[0] = {}, expected 0", path_, prev);
  for (uint64_t c = 0; c < h_.num_chunks; ++c) {
    uint64_t next;
    std::memcpy(&next, index_ + c + 1, 8);
    if (next < prev || next > h_.num_spans)
      return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span_index {} -> {} out of order or past {} spans", path_, c, prev, next, h_.num_spans);
    prev = next;
    uint32_t pos = 0;
    for (const PackedSpan& sp : chunk_spans(c)) {
      if (sp.start != pos || sp.end <= sp.start)
        return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span [{}, {}) expected to start at {} and be non-empty", path_, c, sp.start, sp.end, pos);
      if (sp.domain != kPadDomain && sp.domain >= num_domains)
        return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span domain {} >= {} domains", path_, c, sp.domain, num_domains);
      pos = sp.end;
    }
    if (pos != h_.seq_len)
      return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: spans cover [0, {}), expected [0, {})", path_, c, pos, h_.seq_len);
  }
  if (prev != h_.num_spans)
    return make_error(ErrorCode::kCorrupt, "'{}': span_index ends at {}, header says {} spans", path_, prev, h_.num_spans);
  return Status::ok();
}

namespace {

// One entry of the manifest's "shards" (docs/formats.md "Packed directory"): the readers below may
// then take its fields without further checks. A file name is a plain name inside the directory,
// never a path that leads out of it (a manifest could otherwise make verify read /dev/zero forever).
Status check_shard_entry(const std::string& dir, size_t k, const nlohmann::json& s) {
  auto bad = [&](const std::string& what) {
    return make_error(ErrorCode::kCorrupt, "'{}/manifest.json': shards[{}]: {}, found {}", dir, k, what, s.dump());
  };
  if (!s.is_object()) return bad("expected an object");
  auto f = s.find("file");
  if (f == s.end() || !f->is_string()) return bad("expected a string \"file\"");
  const std::string name = f->get<std::string>();
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
    return bad("\"file\" must be a plain file name inside the directory");
  for (const char* key : {"chunks", "first_chunk", "spans"}) {
    auto it = s.find(key);
    if ((it == s.end() && std::string(key) == "chunks") || (it != s.end() && !it->is_number_unsigned()))
      return bad(fmt::format("expected a non-negative integer \"{}\"", key));
  }
  if (auto it = s.find("xxh64"); it != s.end() && !it->is_string()) return bad("\"xxh64\" must be a hex string");
  return Status::ok();
}

}  // namespace

Result<PackedDataset> open_packed_dir(const std::string& dir) {
  PackedDataset d;
  d.dir = dir;
  LONGCTX_ASSIGN_OR_RETURN(d.manifest, read_json_file(dir + "/manifest.json"));
  try {
    const auto& f = d.manifest.at("format");
    if (f.at("name").get<std::string>() != "longctx-packed")
      return make_error(ErrorCode::kCorrupt, "'{}/manifest.json': format '{}', expected longctx-packed", dir, f.at("name").get<std::string>());
    d.seq_len = f.at("seq_len").get<uint64_t>();
    d.token_bytes = f.at("token_bytes").get<uint32_t>();
    d.domains = d.manifest.at("domains").get<std::vector<std::string>>();
    size_t k = 0;
    for (const auto& s : d.manifest.at("shards")) {
      LONGCTX_RETURN_IF_ERROR(check_shard_entry(dir, k++, s));
      d.shard_files.push_back(dir + "/" + s.at("file").get<std::string>());
      d.num_chunks += s.at("chunks").get<uint64_t>();
    }
    if (auto c = d.manifest.find("counts"); c != d.manifest.end()) {
      bool ok = c->is_object();
      for (const char* key : {"chunks", "tokens", "pad_tokens"})
        ok = ok && (!c->contains(key) || (*c)[key].is_number_unsigned());
      if (!ok)
        return make_error(ErrorCode::kCorrupt, "'{}/manifest.json': \"counts\" must be an object of non-negative integers, found {}",
                          dir, c->dump());
    }
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}/manifest.json': {}", dir, e.what());
  }
  return d;
}

Status verify_packed_dir(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(PackedDataset d, open_packed_dir(dir));
  const auto& shards = d.manifest["shards"];
  // A --task output starts at its first shard's chunk; a full or merged mix at 0.
  const uint64_t first = shards.empty() ? 0 : shards[0].value("first_chunk", uint64_t{0});
  uint64_t chunk = first, tokens = 0, pad = 0;
  for (size_t i = 0; i < d.shard_files.size(); ++i) {
    const std::string& path = d.shard_files[i];
    LONGCTX_ASSIGN_OR_RETURN(uint64_t sum, checksum_file(path));
    std::string want = shards[i].value("xxh64", "");
    if (hex64(sum) != want)
      return make_error(ErrorCode::kCorrupt, "'{}': checksum {} differs from the manifest's {}", path, hex64(sum), want);
    LONGCTX_ASSIGN_OR_RETURN(PackedShard s, PackedShard::open(path));
    const auto& h = s.header();
    if (h.seq_len != d.seq_len || h.token_bytes != d.token_bytes)
      return make_error(ErrorCode::kCorrupt, "'{}': seq_len {} / token_bytes {}, manifest says {} / {}", path, h.seq_len, h.token_bytes, d.seq_len, d.token_bytes);
    if (h.first_chunk != chunk)
      return make_error(ErrorCode::kCorrupt, "'{}': first chunk {}, expected {} (shards must be contiguous)", path, h.first_chunk, chunk);
    if (h.num_chunks != shards[i].value("chunks", uint64_t{0}))
      return make_error(ErrorCode::kCorrupt, "'{}': {} chunks, manifest says {}", path, h.num_chunks, shards[i].value("chunks", uint64_t{0}));
    LONGCTX_RETURN_IF_ERROR(s.check(d.domains.size()));
    for (uint64_t c = 0; c < s.num_chunks(); ++c)
      for (const auto& sp : s.chunk_spans(c))
        if (sp.domain == kPadDomain) pad += sp.end - sp.start;
    chunk += h.num_chunks;
    tokens += h.num_chunks * h.seq_len;
  }
  const auto& counts = d.manifest.value("counts", nlohmann::json::object());
  const uint64_t chunks = chunk - first;
  if (counts.value("chunks", chunks) != chunks || counts.value("tokens", tokens) != tokens || counts.value("pad_tokens", pad) != pad)
    return make_error(ErrorCode::kCorrupt, "'{}': shards hold {} chunks, {} tokens, {} padding; manifest counts say {}", dir, chunks, tokens, pad, counts.dump());
  return Status::ok();
}

}  // namespace longctx
