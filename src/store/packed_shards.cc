#include "store/packed_shards.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "core/hash.h"
#include "core/json_util.h"
#include "store/document_store.h"
#include "store/token_reader.h"

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
  LONGCTX_ASSIGN_OR_RETURN(uint64_t sum, seal());
  LONGCTX_RETURN_IF_ERROR(publish());
  return sum;
}

Status PackedShardWriter::publish() { return w_.commit(); }

Result<uint64_t> PackedShardWriter::seal() {
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
  // Span positions are u32, so a chunk holds 1 .. 2^32 - 1 tokens.
  if (s.h_.seq_len == 0 || s.h_.seq_len > 0xFFFFFFFFull)
    return make_error(ErrorCode::kCorrupt, "'{}': seq_len {}, expected 1 .. 4294967295", path, s.h_.seq_len);
  // Checked arithmetic: a hostile header must not wrap the implied size around to the file's size.
  uint64_t tok_bytes = 0, index_bytes = 0, span_bytes = 0, expect = 0;
  const bool wraps = __builtin_mul_overflow(s.h_.num_chunks, s.h_.seq_len, &tok_bytes) ||
                     __builtin_mul_overflow(tok_bytes, uint64_t{s.h_.token_bytes}, &tok_bytes) ||
                     __builtin_add_overflow(s.h_.num_chunks, uint64_t{1}, &index_bytes) ||
                     __builtin_mul_overflow(index_bytes, uint64_t{8}, &index_bytes) ||
                     __builtin_mul_overflow(s.h_.num_spans, uint64_t{sizeof(PackedSpan)}, &span_bytes) ||
                     __builtin_add_overflow(tok_bytes, uint64_t{kPackedHeaderBytes}, &expect) ||
                     __builtin_add_overflow(expect, index_bytes, &expect) ||
                     __builtin_add_overflow(expect, span_bytes, &expect);
  if (wraps || expect != s.map_.size())
    return make_error(ErrorCode::kCorrupt, "'{}': {} bytes, which does not match the header ({} chunks x {} tokens, {} spans)", path,
                      s.map_.size(), s.h_.num_chunks, s.h_.seq_len, s.h_.num_spans);
  s.tokens_ = s.map_.data() + kPackedHeaderBytes;
  // The span index starts at 64 + tok_bytes, a multiple of 2 but maybe not of 8: read via memcpy.
  s.index_ = reinterpret_cast<const uint64_t*>(s.tokens_ + tok_bytes);
  s.spans_ = reinterpret_cast<const PackedSpan*>(s.tokens_ + tok_bytes + (s.h_.num_chunks + 1) * 8);
  LONGCTX_RETURN_IF_ERROR(s.check_span_table());
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

Status PackedShard::check_span_table() const {
  uint64_t prev;
  std::memcpy(&prev, index_, 8);
  if (prev != 0) return make_error(ErrorCode::kCorrupt, "'{}': span_index[0] = {}, expected 0", path_, prev);
  for (uint64_t c = 0; c < h_.num_chunks; ++c) {
    uint64_t next;
    std::memcpy(&next, index_ + c + 1, 8);
    if (next < prev || next > h_.num_spans)
      return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span_index {} -> {} out of order or past {} spans", path_, c, prev, next, h_.num_spans);
    prev = next;
    uint64_t pos = 0;
    for (const PackedSpan& sp : chunk_spans(c)) {
      if (sp.start != pos || sp.end <= sp.start)
        return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span [{}, {}) expected to start at {} and be non-empty", path_, c, sp.start, sp.end, pos);
      pos = sp.end;
    }
    if (pos != h_.seq_len)
      return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: spans cover [0, {}), expected [0, {})", path_, c, pos, h_.seq_len);
  }
  if (prev != h_.num_spans)
    return make_error(ErrorCode::kCorrupt, "'{}': span_index ends at {}, header says {} spans", path_, prev, h_.num_spans);
  return Status::ok();
}

Status PackedShard::check(size_t num_domains) const {
  for (uint64_t c = 0; c < h_.num_chunks; ++c)
    for (const PackedSpan& sp : chunk_spans(c))
      if (sp.domain != kPadDomain && sp.domain >= num_domains)
        return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span domain {} >= {} domains", path_, c, sp.domain, num_domains);
  return Status::ok();
}

// ---------------- ShardReader ----------------
Result<ShardReader> ShardReader::open(const std::string& path, const ShardExpectation& e) {
  ShardReader r;
  LONGCTX_ASSIGN_OR_RETURN(r.shard_, PackedShard::open(path));
  r.e_ = e;
  const auto& h = r.shard_.header();
  if (h.seq_len != e.seq_len || h.token_bytes != e.token_bytes)
    return make_error(ErrorCode::kCorrupt, "'{}': seq_len {} / token_bytes {}, manifest says {} / {}", path, h.seq_len, h.token_bytes, e.seq_len, e.token_bytes);
  if (h.first_chunk != e.first_chunk)
    return make_error(ErrorCode::kCorrupt, "'{}': first chunk {}, expected {} (shards must be contiguous)", path, h.first_chunk, e.first_chunk);
  if (h.num_chunks != e.chunks)
    return make_error(ErrorCode::kCorrupt, "'{}': {} chunks, manifest says {}", path, h.num_chunks, e.chunks);
  r.hash_ = std::make_unique<Xxh64Stream>();
  r.hash_->update(r.shard_.bytes().data(), kPackedHeaderBytes);
  return r;
}

Status ShardReader::next(std::vector<uint32_t>* tokens, std::span<const PackedSpan>* spans) {
  if (done()) return make_error(ErrorCode::kInternal, "'{}': read past its {} chunks", shard_.path(), shard_.num_chunks());
  const uint64_t c = next_++;
  const uint64_t bytes = shard_.seq_len() * shard_.header().token_bytes;
  hash_->update(shard_.bytes().data() + kPackedHeaderBytes + c * bytes, bytes);
  *spans = shard_.chunk_spans(c);
  for (const PackedSpan& sp : *spans)
    if (sp.domain != kPadDomain && sp.domain >= e_.num_domains)
      return make_error(ErrorCode::kCorrupt, "'{}': chunk {}: span domain {} >= {} domains", shard_.path(), c, sp.domain, e_.num_domains);
  shard_.chunk_tokens(c, tokens);
  return check_token_ids(tokens->data(), tokens->size(), e_.vocab_size, [&](uint64_t i) {
    return fmt::format("'{}': chunk {} position {}", shard_.path(), c, i);
  });
}

Status ShardReader::finish() {
  if (!done()) return make_error(ErrorCode::kInternal, "'{}': checksum asked after {} of {} chunks", shard_.path(), next_, shard_.num_chunks());
  const auto all = shard_.bytes();
  const uint64_t end = shard_.tokens_end();
  hash_->update(all.data() + end, all.size() - end);
  const uint64_t sum = hash_->digest();
  if (!e_.xxh64.empty() && hex64(sum) != e_.xxh64)
    return make_error(ErrorCode::kCorrupt, "'{}': checksum {} differs from the manifest's {}", shard_.path(), hex64(sum), e_.xxh64);
  return Status::ok();
}

// ---------------- packed directories ----------------
Result<PackedDataset> open_packed_dir(const std::string& dir) {
  PackedDataset d;
  d.dir = dir;
  LONGCTX_ASSIGN_OR_RETURN(d.manifest, read_packed_manifest(dir));
  d.seq_len = d.manifest.seq_len;
  d.token_bytes = d.manifest.token_bytes;
  d.domains = d.manifest.domains;
  for (const auto& s : d.manifest.shards) {
    d.shard_files.push_back(dir + "/" + s.file);
    d.num_chunks += s.chunks;
  }
  return d;
}

Status for_each_packed_chunk(const PackedDataset& d, const PackedChunkFn& fn) {
  const auto& shards = d.manifest.shards;
  // A --task output starts at its first shard's chunk; a full or merged mix at 0.
  uint64_t chunk = shards.empty() ? 0 : shards[0].first_chunk;
  std::vector<uint32_t> tokens;
  std::span<const PackedSpan> spans;
  for (size_t i = 0; i < shards.size(); ++i) {
    ShardExpectation e{shards[i].xxh64, d.seq_len, d.token_bytes, chunk, shards[i].chunks, d.domains.size(), d.manifest.vocab_size};
    LONGCTX_ASSIGN_OR_RETURN(ShardReader r, ShardReader::open(d.shard_files[i], e));
    while (!r.done()) {
      LONGCTX_RETURN_IF_ERROR(r.next(&tokens, &spans));
      LONGCTX_RETURN_IF_ERROR(fn(chunk++, tokens, spans));
    }
    LONGCTX_RETURN_IF_ERROR(r.finish());
  }
  return Status::ok();
}

Status verify_packed_dir(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(PackedDataset d, open_packed_dir(dir));
  uint64_t chunks = 0, pad = 0;
  LONGCTX_RETURN_IF_ERROR(for_each_packed_chunk(d, [&](uint64_t, std::span<const uint32_t>, std::span<const PackedSpan> spans) {
    ++chunks;
    for (const auto& sp : spans)
      if (sp.domain == kPadDomain) pad += sp.end - sp.start;
    return Status::ok();
  }));
  const uint64_t tokens = chunks * d.seq_len;
  const auto& c = d.manifest.counts;
  if (c && (c->chunks != chunks || c->tokens != tokens || c->pad_tokens != pad))
    return make_error(ErrorCode::kCorrupt, "'{}': shards hold {} chunks, {} tokens, {} padding; the manifest counts say {}, {}, {}", dir,
                      chunks, tokens, pad, c->chunks, c->tokens, c->pad_tokens);
  return Status::ok();
}

}  // namespace longctx
