// Native packed shards (docs/mixing.md "Outputs"): the training mixture as
// fixed-length chunks, each with the document spans it holds, memory-mappable by our trainer.
//
// A packed directory holds shard-NNNNN.lcpk files and manifest.json (written last). One shard,
// all integers little-endian:
//   0   magic "LCTXPAK1" (8 bytes)
//   8   u32 version (1)
//   12  u32 token_bytes (2: uint16 ids, 4: uint32 ids)
//   16  u64 seq_len            tokens per chunk
//   24  u64 num_chunks
//   32  u64 num_spans
//   40  u64 first_chunk        global index of this shard's first chunk
//   48  u64 reserved (0) x 2
//   64  tokens: num_chunks x seq_len ids
//   ..  u64[num_chunks + 1] span_index: chunk c's spans are spans[span_index[c], span_index[c+1])
//   ..  PackedSpan[num_spans] (24 bytes each)
// Invariants checked by every reader (PackedShard::open, ShardReader): the spans of a chunk are in
// order, non-empty, and cover [0, seq_len) exactly once; domains index the manifest's domain table
// (or kPadDomain for padding); token ids are below the manifest's vocabulary size; the file's
// xxh64 is the manifest's.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/status.h"
#include "store/packed_manifest.h"

namespace longctx {

inline constexpr char kPackedMagic[8] = {'L', 'C', 'T', 'X', 'P', 'A', 'K', '1'};
inline constexpr uint32_t kPackedVersion = 1;
inline constexpr size_t kPackedHeaderBytes = 64;
inline constexpr uint16_t kPadDomain = 0xFFFF;

// Span flags.
inline constexpr uint16_t kSpanStart = 1;   // the span starts a piece (its BOS token, when enabled)
inline constexpr uint16_t kSpanEnd = 2;     // the span ends the piece (its EOS when enabled)
// bits 8..15: repeat index of the document (0 = first use; capped at 255)

// One document piece inside one chunk: tokens [start, end) of the chunk.
struct PackedSpan {
  uint64_t doc_id;      // DocRecord::id_hash of the source document (0 for padding)
  uint32_t start, end;  // positions in the chunk, end exclusive
  uint32_t doc_offset;  // token offset in the source document of the first document token of the span
  uint16_t domain;      // index into the manifest's "domains", kPadDomain for padding
  uint16_t flags;
};
static_assert(sizeof(PackedSpan) == 24);

struct PackedShardHeader {
  char magic[8];
  uint32_t version;
  uint32_t token_bytes;
  uint64_t seq_len;
  uint64_t num_chunks;
  uint64_t num_spans;
  uint64_t first_chunk;
  uint64_t reserved[2];
};
static_assert(sizeof(PackedShardHeader) == kPackedHeaderBytes);

std::string packed_shard_name(uint64_t shard_index);  // "shard-00007.lcpk"
// Overwrites `size` bytes at `offset` of an existing file (headers fixed after streaming the body).
Status write_at(const std::string& path, uint64_t offset, const void* data, size_t size);

// Writes one shard: tokens are appended chunk by chunk to the file while spans stay in memory
// (24 bytes per span); finish() appends the span index and spans, fixes the header and publishes
// the file atomically. The xxh64 of the whole file is returned by finish().
class PackedShardWriter {
 public:
  static Result<PackedShardWriter> create(const std::string& path, uint32_t token_bytes, uint64_t seq_len,
                                          uint64_t first_chunk);
  PackedShardWriter() = default;
  PackedShardWriter(PackedShardWriter&&) noexcept = default;
  PackedShardWriter& operator=(PackedShardWriter&&) noexcept = default;
  // tokens: (seq_len); spans: the chunk's spans in order.
  Status add_chunk(std::span<const uint32_t> tokens, std::span<const PackedSpan> spans);
  // seal() completes the file under its temporary name (span tables, header, fsync) and returns
  // its xxh64; publish() then renames it into place (a sealed writer destroyed unpublished removes
  // its file). finish() does both.
  Result<uint64_t> seal();
  Status publish();
  Result<uint64_t> finish();

 private:
  AtomicWriter w_;
  uint32_t token_bytes_ = 2;
  uint64_t seq_len_ = 0, first_chunk_ = 0, chunks_ = 0;
  std::vector<uint64_t> span_index_{0};
  std::vector<PackedSpan> spans_;
  std::vector<uint8_t> buf_;
};

// Read-only, memory-mapped view of one shard. open() checks the header against the file size and
// the span table's structure (every chunk's spans in order, non-empty, covering [0, seq_len)), so
// chunk_tokens / chunk_spans may then be called for any c < num_chunks() without reading out of
// bounds. Token ids and the checksum are checked by ShardReader as it streams.
class PackedShard {
 public:
  static Result<PackedShard> open(const std::string& path);
  const PackedShardHeader& header() const { return h_; }
  uint64_t num_chunks() const { return h_.num_chunks; }
  uint64_t seq_len() const { return h_.seq_len; }
  void chunk_tokens(uint64_t c, std::vector<uint32_t>* out) const;  // (seq_len) widened ids
  std::span<const PackedSpan> chunk_spans(uint64_t c) const;
  // Span domains of every chunk: below num_domains, or padding.
  Status check(size_t num_domains) const;
  const std::string& path() const { return path_; }
  // The whole file, as mapped (for checksums).
  std::span<const uint8_t> bytes() const { return {map_.data(), map_.size()}; }
  uint64_t tokens_end() const { return kPackedHeaderBytes + h_.num_chunks * h_.seq_len * h_.token_bytes; }

 private:
  Status check_span_table() const;

  std::string path_;
  MappedFile map_;
  PackedShardHeader h_{};
  const uint8_t* tokens_ = nullptr;
  const uint64_t* index_ = nullptr;
  const PackedSpan* spans_ = nullptr;
};

// What the reader of a shard expects of it (from its directory's manifest).
struct ShardExpectation {
  std::string xxh64;         // hex checksum of the whole file ("" when unknown: not checked)
  uint64_t seq_len = 0;
  uint32_t token_bytes = 2;
  uint64_t first_chunk = 0;
  uint64_t chunks = 0;
  size_t num_domains = 0;
  uint64_t vocab_size = 0;   // 0: unknown (ids checked against the width only)
};

// Streams one shard's chunks front to back and checks as it streams: the header against the
// expectation at open, each chunk's span domains and token ids as it is read, and the file's
// xxh64 (accumulated in file order: header, each chunk's tokens, then the span tables) in
// finish(). A consumer must call finish() before it publishes anything made from the shard.
class ShardReader {
 public:
  static Result<ShardReader> open(const std::string& path, const ShardExpectation& e);
  ShardReader() = default;
  ShardReader(ShardReader&&) noexcept = default;
  ShardReader& operator=(ShardReader&&) noexcept = default;
  uint64_t num_chunks() const { return shard_.num_chunks(); }
  bool done() const { return next_ == shard_.num_chunks(); }
  // The next chunk: its tokens (seq_len, widened) and spans.
  Status next(std::vector<uint32_t>* tokens, std::span<const PackedSpan>* spans);
  Status finish();
  const PackedShard& shard() const { return shard_; }

 private:
  PackedShard shard_;
  ShardExpectation e_;
  std::unique_ptr<Xxh64Stream> hash_;
  uint64_t next_ = 0;
};

// A packed directory: the typed manifest (store/packed_manifest.h) + shards.
struct PackedDataset {
  std::string dir;
  PackedManifest manifest;
  std::vector<std::string> domains;
  std::vector<std::string> shard_files;  // full paths, in chunk order
  uint64_t seq_len = 0, num_chunks = 0;
  uint32_t token_bytes = 2;
};
Result<PackedDataset> open_packed_dir(const std::string& dir);

// Every chunk of a packed directory, in order, through ShardReader: the manifest's checksums,
// header fields, chunk numbering contiguous across shards (a --task output starts at its first
// shard's chunk), spans and token ids against the manifest's vocabulary. fn(global chunk index,
// tokens, spans) sees a chunk only after its own checks; a shard's checksum is known only once its
// last chunk has been seen, so consumers publish nothing before this returns ok.
using PackedChunkFn = std::function<Status(uint64_t chunk, std::span<const uint32_t> tokens, std::span<const PackedSpan> spans)>;
Status for_each_packed_chunk(const PackedDataset& d, const PackedChunkFn& fn);

// One pass of for_each_packed_chunk, then the manifest's counts (chunks, tokens, padding).
Status verify_packed_dir(const std::string& dir);

}  // namespace longctx
