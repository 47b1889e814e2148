// Reading a store's token array (tokens.bin, docs/store.md), checked as it is read: every id
// against the vocabulary (the manifest's tokenizer.vocab_size), and, where the whole file is read
// front to back, its xxh64 against the manifest.
//  - TokenReader: runs at any offset with pread (thread-safe), for packing, which reads the pieces
//    of a mixture in shuffled order. Not a memory map, so the process's resident memory stays
//    independent of the store's size (the page cache holds the file).
//  - TokenStream: the whole array front to back (merge, verify, the integrity pass of `mix`),
//    hashing the file as it goes; finish() compares the checksum with the manifest.
#pragma once
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/hash.h"
#include "core/status.h"
#include "store/document_store.h"

namespace longctx {

class TokenReader {
 public:
  static Result<TokenReader> open(const DocumentStore& store);
  // Writes tokens [offset, offset + n) of the store's token array, widened, to out[0, n); fails
  // naming the position of the first id that is not below the vocabulary size.
  Status read(uint64_t offset, uint64_t n, uint32_t* out) const;

 private:
  std::shared_ptr<int> fd_;
  std::string path_;
  uint32_t token_bytes_ = 2;
  uint64_t vocab_size_ = 0;  // 0: unknown (no check beyond the token width)
};

class TokenStream {
 public:
  static Result<TokenStream> open(const DocumentStore& store);
  // The next n tokens of the array, widened, into out[0, n); ids checked as in TokenReader.
  Status read(uint64_t n, uint32_t* out);
  uint64_t position() const { return pos_; }  // tokens read so far
  // After the last token: the file's xxh64; an error when the manifest records another one.
  Result<uint64_t> finish();

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f_;
  std::string path_, expected_;  // expected_: the manifest's checksum (hex), "" if none
  std::unique_ptr<Xxh64Stream> hash_;
  std::vector<uint8_t> buf_;
  uint32_t token_bytes_ = 2;
  uint64_t vocab_size_ = 0, pos_ = 0, count_ = 0;
};

// One pass over tokens.bin: the checksum against the manifest and (check_ids) every id against
// the vocabulary. Returns the checksum (what `mix` records as the store it read; mix leaves the ids
// to its TokenReader, which checks every id it takes). When `stop` is given and becomes true
// (another thread's work failed), returns early with an error.
Result<uint64_t> verify_store_tokens(const DocumentStore& store, bool check_ids = true, const std::atomic<bool>* stop = nullptr);

// Checks ids[0, n) against vocab_size (0: no check); `where(i)` names position i in the message.
template <typename Where>
Status check_token_ids(const uint32_t* ids, uint64_t n, uint64_t vocab_size, Where&& where) {
  if (vocab_size == 0) return Status::ok();
  uint32_t mx = 0;
  for (uint64_t i = 0; i < n; ++i) mx = ids[i] > mx ? ids[i] : mx;  // branch-free scan; locate only on failure
  if (mx < vocab_size) return Status::ok();
  for (uint64_t i = 0; i < n; ++i)
    if (ids[i] >= vocab_size)
      return make_error(ErrorCode::kCorrupt, "{}: token id {} is not below the vocabulary size {}", where(i), ids[i], vocab_size);
  return Status::ok();
}

}  // namespace longctx
