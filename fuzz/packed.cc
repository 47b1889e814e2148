// Fuzz target: packed shards (src/store/packed_shards.h), one shard and a packed directory.
//
// Input: byte 0 holds flags, the rest is two parts cut at fuzz::kPartMarker: manifest.json and the
// bytes of shard-00000.lcpk. Flag bit 0 rewrites the manifest's first shard checksum to match the
// fuzzed shard (when the manifest has that shape), so mutations reach the checks behind it.
// The shard is opened alone (PackedShard::open + check, then every chunk read, which check()
// promises is safe), and the directory is opened and verified.
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "fuzz_util.h"
#include "store/packed_shards.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  auto parts = fuzz::split_parts({reinterpret_cast<const char*>(data) + 1, size - 1}, 2);
  std::string manifest(parts[0]);
  if (flags & 1) {
    auto j = nlohmann::json::parse(manifest, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("shards") && j["shards"].is_array() && !j["shards"].empty() &&
        j["shards"][0].is_object()) {
      j["shards"][0]["xxh64"] = hex64(xxh64(parts[1]));
      manifest = j.dump();
    }
  }
  fuzz::clear_scratch();
  fuzz::put_file("manifest.json", manifest);
  const std::string shard = fuzz::put_file("shard-00000.lcpk", parts[1]);

  auto s = PackedShard::open(shard);
  if (s.is_ok() && s->check(4).is_ok()) {
    std::vector<uint32_t> toks;
    uint64_t sum = 0;
    for (uint64_t c = 0; c < s->num_chunks() && c < 1024; ++c) {
      s->chunk_tokens(c, &toks);
      for (uint32_t t : toks) sum += t;
      for (const PackedSpan& sp : s->chunk_spans(c)) sum += sp.end - sp.start;
    }
    (void)sum;
  }
  (void)verify_packed_dir(fuzz::scratch_dir());
  return 0;
}
