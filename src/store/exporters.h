// Exporters from a native packed directory to other trainers' formats, byte layouts per
// docs/mixing.md "Outputs". Every export reads the mixture through the checked reader
// (for_each_packed_chunk): a shard that fails its checksum, or a token id not below the
// vocabulary, stops the export and nothing is published.
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

// Checks an exported file by its content: a Megatron index "<prefix>.idx" (structure, the .bin's
// size, every token id), an llm.c shard (header, size, every token id) or JSON-lines rows (widths,
// span coverage, every id). Token ids are checked against vocab_size when given (0: only their
// type's range). Any other file is refused with what it looks like (a packed shard, a store file,
// a Megatron .bin, ...).
Status verify_export(const std::string& path, uint64_t vocab_size = 0);

// The vocabulary size of the packed directory an export sits in (`mix --export` writes them
// there), or 0 when the file's directory holds no packed manifest.
uint64_t vocab_size_beside(const std::string& path);

}  // namespace longctx
