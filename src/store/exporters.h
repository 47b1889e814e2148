// Exporters from a native packed directory to other trainers' formats (issue 3 item 4), byte
// layouts per /work/shared/spec/formats.md:
//  - Megatron-LM / NeMo indexed dataset (prefix.bin + prefix.idx): one sequence per document piece
//    (BOS + tokens [+ EOS]) in the mixture's order, padding left out (Megatron packs by itself);
//    dtype uint16 (code 8) when vocab_size < 65,500, else int32 (code 4);
//  - llm.c token shards: 1,024-byte header (magic 20240520 v1 for uint16, 20240801 v7 for uint32)
//    + the token stream without padding, at most max_tokens_per_file (< 2^31) tokens per file;
//  - the paper's rows as JSON lines: one row per chunk, {"input_ids": [...], "source":
//    [{"source": domain, "start": s, "end": e}, ...]} (padding spans name "<pad>").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/packed_shards.h"

namespace longctx {

struct ExportSummary {
  std::vector<std::string> files;
  uint64_t sequences = 0, tokens = 0;
};

inline constexpr int32_t kLlmcMagicU16 = 20240520, kLlmcVersionU16 = 1;
inline constexpr int32_t kLlmcMagicU32 = 20240801, kLlmcVersionU32 = 7;

// vocab_size 0: taken from the manifest ("vocab_size"), else from token_bytes (2 -> uint16).
Result<ExportSummary> export_megatron(const PackedDataset& d, const std::string& out_prefix, uint64_t vocab_size = 0);
// Files "<out_prefix>_000000.bin", ...
Result<ExportSummary> export_llmc(const PackedDataset& d, const std::string& out_prefix,
                                  uint64_t max_tokens_per_file = (1ull << 31) - 1);
Result<ExportSummary> export_jsonl(const PackedDataset& d, const std::string& out_path);

// Checks an exported file set by its format: "<prefix>.idx" (+ .bin), an llm.c shard, or JSON lines
// rows. Recognised from the path: ends with .idx -> Megatron; .jsonl -> rows; otherwise llm.c.
Status verify_export(const std::string& path);

}  // namespace longctx
