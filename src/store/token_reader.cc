#include "store/token_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>

namespace longctx {
namespace {

// Widens n little-endian ids of `token_bytes` bytes from `src` to out (src may alias out).
void widen(const uint8_t* src, uint64_t n, uint32_t token_bytes, uint32_t* out) {
  if (token_bytes == 4) {
    if (reinterpret_cast<const void*>(src) != out) std::memcpy(out, src, n * 4);
    return;
  }
  // From the end, so that widening in place works: uint16 i sits at byte 2i, uint32 i goes to 4i >= 2i.
  for (uint64_t i = n; i-- > 0;) out[i] = static_cast<uint32_t>(src[2 * i]) | (static_cast<uint32_t>(src[2 * i + 1]) << 8);
}

}  // namespace

// ---------------- TokenReader ----------------
Result<TokenReader> TokenReader::open(const DocumentStore& store) {
  TokenReader r;
  r.path_ = store.dir() + "/tokens.bin";
  LONGCTX_ASSIGN_OR_RETURN(uint64_t size, file_size(r.path_));
  if (size < kStoreHeaderBytes + store.num_tokens() * store.token_bytes())
    return make_error(ErrorCode::kCorrupt, "'{}' is shorter than its {} tokens", r.path_, store.num_tokens());
  int fd = ::open(r.path_.c_str(), O_RDONLY);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open '{}'", r.path_);
  r.fd_ = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  r.token_bytes_ = store.token_bytes();
  r.vocab_size_ = store.vocab_size();
  return r;
}

Status TokenReader::read(uint64_t offset, uint64_t n, uint32_t* out) const {
  // uint16 ids land in a per-thread scratch buffer and are widened forward into `out` while their
  // maximum is taken (one vectorised pass); uint32 ids are read into `out` and scanned.
  thread_local std::vector<uint8_t> scratch;
  uint8_t* raw = reinterpret_cast<uint8_t*>(out);
  if (token_bytes_ == 2) {
    scratch.resize(n * 2);
    raw = scratch.data();
  }
  uint8_t* dst = raw;
  uint64_t want = n * token_bytes_, at = kStoreHeaderBytes + offset * token_bytes_;
  while (want > 0) {
    ssize_t got = ::pread(*fd_, dst, want, static_cast<off_t>(at));
    if (got <= 0) return make_error(ErrorCode::kIo, "cannot read {} bytes at {} of '{}'", want, at, path_);
    dst += got;
    at += static_cast<uint64_t>(got);
    want -= static_cast<uint64_t>(got);
  }
  uint32_t mx = 0;
  if (token_bytes_ == 2) {
    for (uint64_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, raw + 2 * i, 2);
      out[i] = v;
      mx = v > mx ? v : mx;
    }
  } else {
    for (uint64_t i = 0; i < n; ++i) mx = out[i] > mx ? out[i] : mx;
  }
  if (vocab_size_ == 0 || mx < vocab_size_) return Status::ok();
  return check_token_ids(out, n, vocab_size_, [&](uint64_t i) { return fmt::format("'{}': token {}", path_, offset + i); });
}

// ---------------- TokenStream ----------------
Result<TokenStream> TokenStream::open(const DocumentStore& store) {
  TokenStream s;
  s.path_ = store.dir() + "/tokens.bin";
  s.f_.reset(std::fopen(s.path_.c_str(), "rb"));
  if (!s.f_.get()) return make_error(ErrorCode::kIo, "cannot open '{}'", s.path_);
  s.hash_ = std::make_unique<Xxh64Stream>();
  s.token_bytes_ = store.token_bytes();
  s.vocab_size_ = store.vocab_size();
  s.count_ = store.num_tokens();
  s.expected_ = store.manifest_checksum("tokens.bin");
  uint8_t header[kStoreHeaderBytes];
  if (std::fread(header, 1, sizeof header, s.f_.get()) != sizeof header)
    return make_error(ErrorCode::kIo, "cannot read the header of '{}'", s.path_);
  s.hash_->update(header, sizeof header);
  return s;
}

Status TokenStream::read(uint64_t n, uint32_t* out) {
  if (n > count_ - pos_)
    return make_error(ErrorCode::kInternal, "'{}': reading {} tokens at {} past its {} tokens", path_, n, pos_, count_);
  const uint64_t bytes = n * token_bytes_;
  if (std::fread(out, 1, bytes, f_.get()) != bytes)
    return make_error(ErrorCode::kIo, "cannot read {} bytes at token {} of '{}'", bytes, pos_, path_);
  hash_->update(out, bytes);
  widen(reinterpret_cast<const uint8_t*>(out), n, token_bytes_, out);
  const uint64_t at = pos_;
  pos_ += n;
  return check_token_ids(out, n, vocab_size_, [&](uint64_t i) { return fmt::format("'{}': token {}", path_, at + i); });
}

Result<uint64_t> TokenStream::finish() {
  if (pos_ != count_)
    return make_error(ErrorCode::kInternal, "'{}': checksum asked after {} of {} tokens", path_, pos_, count_);
  // Bytes past the last token (the file grew since it was opened) belong to the checksum too.
  buf_.resize(1 << 16);
  size_t got;
  while ((got = std::fread(buf_.data(), 1, buf_.size(), f_.get())) > 0) hash_->update(buf_.data(), got);
  if (std::ferror(f_.get())) return make_error(ErrorCode::kIo, "cannot read '{}'", path_);
  const uint64_t sum = hash_->digest();
  if (!expected_.empty() && hex64(sum) != expected_)
    return make_error(ErrorCode::kCorrupt, "'{}': checksum {} does not match the manifest's {}; the store is damaged", path_,
                      hex64(sum), expected_);
  return sum;
}

namespace {

// Largest id among n little-endian ids of `width` bytes at p (a loop the compiler vectorises).
template <typename T>
uint32_t max_id(const uint8_t* p, uint64_t n) {
  T mx = 0;
  for (uint64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    mx = v > mx ? v : mx;
  }
  return mx;
}

}  // namespace

// Windows of 8 MB mapped one at a time (MAP_POPULATE: one fault per window; unmapped after use, so
// resident memory stays one window whatever the store's size; no copy, which costs as much as the
// hash on a machine with little memory bandwidth): each window is hashed, then its ids are
// scanned for their maximum, and only a window whose maximum is out of range is searched for the
// first bad id. Windows start at multiples of 8 MB and the header is 32 bytes, so no id straddles
// two windows.
Result<uint64_t> verify_store_tokens(const DocumentStore& store, bool check_ids, const std::atomic<bool>* stop) {
  const std::string path = store.dir() + "/tokens.bin";
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open '{}'", path);
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
  struct stat st;
  if (::fstat(fd, &st) != 0) return make_error(ErrorCode::kIo, "cannot stat '{}'", path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint32_t tb = store.token_bytes();
  const uint64_t vocab = check_ids ? store.vocab_size() : 0, end = std::min<uint64_t>(size, kStoreHeaderBytes + store.num_tokens() * tb);
  constexpr uint64_t kWindow = 8 << 20;
  Xxh64Stream hash;
  for (uint64_t at = 0; at < size; at += kWindow) {
    if (stop && stop->load()) return make_error(ErrorCode::kInternal, "'{}': check stopped", path);
    const uint64_t n = std::min(kWindow, size - at);
    void* m = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, static_cast<off_t>(at));
    if (m == MAP_FAILED) return make_error(ErrorCode::kIo, "cannot map {} bytes at {} of '{}'", n, at, path);
    std::unique_ptr<void, std::function<void(void*)>> unmap(m, [n](void* p) { ::munmap(p, n); });
    const uint8_t* data = static_cast<const uint8_t*>(m);
    hash.update(data, n);
    // The token ids of this window: bytes [max(at, header), min(at + n, end)).
    const uint64_t a = std::max<uint64_t>(at, kStoreHeaderBytes), b = std::min<uint64_t>(at + n, end);
    if (vocab == 0 || b <= a) continue;
    const uint8_t* p = data + (a - at);
    const uint64_t count = (b - a) / tb;
    if ((tb == 2 ? max_id<uint16_t>(p, count) : max_id<uint32_t>(p, count)) < vocab) continue;
    std::vector<uint32_t> ids(count);
    for (uint64_t i = 0; i < count; ++i) ids[i] = tb == 2 ? max_id<uint16_t>(p + 2 * i, 1) : max_id<uint32_t>(p + 4 * i, 1);
    const uint64_t first = (a - kStoreHeaderBytes) / tb;
    Status bad = check_token_ids(ids.data(), count, vocab, [&](uint64_t i) { return fmt::format("'{}': token {}", path, first + i); });
    return bad.is_ok() ? make_error(ErrorCode::kInternal, "'{}': the id above the vocabulary was not found again", path) : bad;
  }
  const uint64_t sum = hash.digest();
  const std::string want = store.manifest_checksum("tokens.bin");
  if (!want.empty() && hex64(sum) != want)
    return make_error(ErrorCode::kCorrupt, "'{}': checksum {} does not match the manifest's {}; the store is damaged", path, hex64(sum), want);
  return sum;
}

}  // namespace longctx
