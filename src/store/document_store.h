// The document store (docs/store.md): the tokenized corpus every later stage reads.
// A store is a directory:
//   tokens.bin     32-byte header + every document's tokens, concatenated (uint16 or uint32)
//   docs.bin       32-byte header + one 40-byte DocRecord per document, in corpus order
//   manifest.json  inputs, tokenizer checksum, domain table, counts, dropped records by reason
// Both binary files start with a magic and a version that readers check.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/status.h"

namespace longctx {

inline constexpr char kTokensMagic[8] = {'L', 'C', 'T', 'X', 'T', 'O', 'K', '1'};
inline constexpr char kDocsMagic[8] = {'L', 'C', 'T', 'X', 'D', 'O', 'C', '1'};
inline constexpr uint32_t kStoreVersion = 1;
inline constexpr size_t kStoreHeaderBytes = 32;

// Header of tokens.bin and docs.bin (32 bytes, little-endian):
//   0 magic[8] | 8 u32 version | 12 u32 item_bytes (2|4 for tokens, 40 for docs) | 16 u64 count | 24 u64 reserved(0)
struct StoreHeader {
  char magic[8];
  uint32_t version;
  uint32_t item_bytes;
  uint64_t count;
  uint64_t reserved;
};
static_assert(sizeof(StoreHeader) == kStoreHeaderBytes);

// One document (40 bytes). token_offset counts tokens from the start of the token array.
struct DocRecord {
  uint64_t token_offset;
  uint64_t id_hash;     // xxh64("<relative path>:<record>")
  uint64_t record;      // 1-based line number in a JSON-lines file, 1 for a .txt file
  uint32_t num_tokens;
  uint32_t file_index;  // index into manifest "files"
  uint16_t domain;      // index into manifest "domains"
  uint16_t flags;       // reserved, 0
  uint32_t text_bytes;  // UTF-8 bytes of the source text (min(bytes, 2^32-1))
};
static_assert(sizeof(DocRecord) == 40);

// Token width chosen by vocabulary size.
inline uint32_t token_bytes_for_vocab(uint64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

// Read-only view of a store (memory-mapped). open() reads the whole document table (docs.bin),
// checking its structure and its checksum as it goes, so every reader may then index documents
// without checks; token data is checked by the readers in store/token_reader.h as they read it.
class DocumentStore {
 public:
  static Result<DocumentStore> open(const std::string& dir);
  const std::string& dir() const { return dir_; }
  size_t num_docs() const { return docs_.size(); }
  uint64_t num_tokens() const { return num_tokens_; }
  uint32_t token_bytes() const { return token_bytes_; }
  std::span<const DocRecord> docs() const { return docs_; }
  const DocRecord& doc(size_t i) const { return docs_[i]; }
  // Copies the tokens of document i into *out (widened to uint32), each checked against the
  // vocabulary. (Random access through the map; streaming readers are in store/token_reader.h.)
  Status tokens(size_t i, std::vector<uint32_t>* out) const;
  const std::vector<std::string>& domains() const { return domains_; }
  const std::vector<std::string>& files() const { return files_; }
  const nlohmann::json& manifest() const { return manifest_; }
  // The manifest's tokenizer.vocab_size: every token id must be below it (0: not recorded).
  uint64_t vocab_size() const { return vocab_size_; }
  // The manifest's checksum of one of the data files ("tokens.bin", "docs.bin"), "" if none.
  std::string manifest_checksum(const std::string& file) const;
  // xxh64 of docs.bin, computed by open() as it read the document table (and checked there
  // against the manifest).
  uint64_t docs_checksum() const { return docs_checksum_; }
  // Everything open() checks plus, in one pass over tokens.bin, its checksum and every token id
  // against the vocabulary, and the manifest's counts.
  Status verify() const;

 private:
  Status check_document_table();

  std::string dir_;
  MappedFile tok_map_, doc_map_;
  std::span<const DocRecord> docs_;
  const uint8_t* tokens_ = nullptr;
  uint64_t num_tokens_ = 0;
  uint32_t token_bytes_ = 2;
  uint64_t vocab_size_ = 0, docs_checksum_ = 0;
  std::vector<std::string> domains_, files_;
  nlohmann::json manifest_;
};

// What a resumed StoreWriter continues from: the partial files' lengths (in items) and the xxh64
// of each file's bytes up to there (its placeholder header included), recorded at a checkpoint.
struct StorePrefix {
  uint64_t num_tokens = 0, num_docs = 0;
  uint64_t tokens_xxh64 = 0, docs_xxh64 = 0;
};

// Streaming writer used by tokenization and merge. Writes tokens.bin/docs.bin under temporary
// names ("<name>.partial"), so a crash never leaves a store that looks complete. It hashes every
// byte it writes, so a checkpoint can record the checksum of what is on disk (prefix()) and a
// resumed writer can check the partial files before it continues; finalize() checks the whole
// files once more while it computes the manifest's checksums.
class StoreWriter {
 public:
  static Result<StoreWriter> create(const std::string& dir, uint32_t token_bytes);
  // Reopens existing .partial files truncated to `prefix` after checking their checksums up to
  // there; kCorrupt when a file is shorter or its bytes differ (the caller starts over).
  static Result<StoreWriter> resume(const std::string& dir, uint32_t token_bytes, const StorePrefix& prefix);
  StoreWriter() = default;
  StoreWriter(StoreWriter&&) noexcept = default;
  StoreWriter& operator=(StoreWriter&&) noexcept = default;

  // Domain ids are assigned in order of first appearance (at most 65,536 domains).
  Result<uint16_t> checked_domain_id(const std::string& name);
  uint16_t domain_id(const std::string& name);  // for callers with few, known domains (tests)
  Status add(std::span<const uint32_t> tokens, uint64_t id_hash, uint64_t record, uint32_t file_index,
             uint16_t domain, uint64_t text_bytes);
  Status sync();  // flush + fsync both partial files (before a resume checkpoint is recorded)
  StorePrefix prefix() const;  // lengths and checksums of everything added so far
  uint64_t num_tokens() const { return num_tokens_; }
  uint64_t num_docs() const { return num_docs_; }
  const std::vector<std::string>& domains() const { return domains_; }
  void set_domains(std::vector<std::string> d) { domains_ = std::move(d); }
  // Closes the partial files, fixes their headers and returns `manifest` with "format", "counts",
  // "domains" and "checksums" filled in, ready to publish (RunDir::publish). kCorrupt when a file's
  // bytes on disk are not the bytes written.
  Result<nlohmann::json> finalize(nlohmann::json manifest);
  // finalize() + manifest-last publish into the directory, for writers without a run lifecycle.
  Status finish(nlohmann::json manifest);

 private:
  std::string dir_;
  uint32_t token_bytes_ = 2;
  FileWriter tok_, doc_;
  std::unique_ptr<Xxh64Stream> tok_hash_, doc_hash_;  // of every byte written to each file
  uint64_t num_tokens_ = 0, num_docs_ = 0;
  std::vector<std::string> domains_;
  std::unordered_map<std::string, uint16_t> domain_index_;
  std::vector<uint16_t> buf16_;
};

// Publishing a store is: manifest.json.partial written, data files renamed from .partial, then
// manifest.json.partial renamed to manifest.json. If a run died in between, this finishes the
// renames (the data was complete) and returns true; returns false when there was nothing to do.
Result<bool> complete_interrupted_publish(const std::string& dir);

// Joins stores (task outputs) in the given order into one: domain tables are united in order of
// first appearance, file tables concatenated, dropped-record counts summed. The result equals a
// single run over the union of the inputs when the stores are the `--task i/N` outputs in order.
// The output follows the run lifecycle (core/run_dir.h): only a document store is replaced, and
// only with `overwrite`.
Status merge_stores(const std::vector<std::string>& inputs, const std::string& out_dir, bool overwrite = false);

}  // namespace longctx
