// manifest.json of a packed directory (docs/mixing.md "Outputs"): written last by `mix` and
// `mix merge`, read by verify, export, inspect and `mix report`. One typed struct with a JSON
// round trip (packed_manifest_json(parse_packed_manifest(j)) == j for every manifest we write),
// so that no reader or writer spells the keys itself.
//
// {"format": {"name": "longctx-packed", "version": 1, "seq_len": L, "token_bytes": 2|4},
//  "domains": [...], "vocab_size": V,
//  "store": {"dir": "...", "checksums": {"tokens.bin": "<xxh64>", "docs.bin": "<xxh64>"}},
//  "mix": {...}, "task": {"index": i, "count": N, "chunks_total": C, "shards_total": S},
//  "counts": {"chunks": c, "tokens": t, "pad_tokens": p},
//  "shards": [{"file": "shard-00000.lcpk", "first_chunk": 0, "chunks": n, "spans": s, "xxh64": "..."}],
//  "plan": {...}, "report": {...}}
// "store" checksums are those of the files as the mixture read them (computed while mixing), not
// copies of the store's manifest. "mix", "plan" and "report" belong to the producer (src/mix) and
// pass through unchanged. "store", "task", "counts" and a shard's "spans" may be absent (hand-made
// directories); everything else is required.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace longctx {

struct PackedShardEntry {
  std::string file;           // file name inside the directory
  uint64_t first_chunk = 0;   // global index of its first chunk
  uint64_t chunks = 0;
  std::optional<uint64_t> spans;
  std::string xxh64;          // hex xxh64 of the whole file
};

struct PackedSource {
  std::string dir;
  std::map<std::string, std::string> checksums;  // file name -> hex xxh64
};

struct PackedTask {
  uint64_t index = 0, count = 1;
  uint64_t chunks_total = 0, shards_total = 0;  // of the whole mixture (all tasks)
};

struct PackedCounts {
  uint64_t chunks = 0, tokens = 0, pad_tokens = 0;
};

struct PackedManifest {
  uint32_t version = 1;
  uint64_t seq_len = 0;
  uint32_t token_bytes = 2;
  std::vector<std::string> domains;
  uint64_t vocab_size = 0;  // 0: unknown (token ids are then checked against the width only)
  std::optional<PackedSource> store;
  std::optional<PackedTask> task;
  std::optional<PackedCounts> counts;
  std::vector<PackedShardEntry> shards;  // in chunk order
  nlohmann::json mix, plan, report;      // null: absent
};

inline constexpr const char* kPackedFormatName = "longctx-packed";

nlohmann::json packed_manifest_json(const PackedManifest& m);
// `where` names the file in messages. Checks the format name and the types of every field.
Result<PackedManifest> parse_packed_manifest(const nlohmann::json& j, const std::string& where);
// <dir>/manifest.json; a directory holding another kind of output (a document store) is named.
Result<PackedManifest> read_packed_manifest(const std::string& dir);
Status write_packed_manifest(const std::string& dir, const PackedManifest& m);

}  // namespace longctx
