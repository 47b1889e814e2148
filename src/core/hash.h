// Hashing. xxHash64 is the basis of document ids and every sampling decision (docs/store.md: sampling
// decisions are a pure function of (document id, seed)), so it must never change between versions.
#pragma once
#include <cstdint>
#include <string_view>

namespace longctx {

uint64_t xxh64_bytes(const void* data, size_t size, uint64_t seed);
inline uint64_t xxh64(std::string_view s, uint64_t seed = 0) { return xxh64_bytes(s.data(), s.size(), seed); }

// Streaming xxh64 over many buffers (checksums of whole files).
class Xxh64Stream {
 public:
  explicit Xxh64Stream(uint64_t seed = 0);
  ~Xxh64Stream();
  Xxh64Stream(const Xxh64Stream&) = delete;
  Xxh64Stream& operator=(const Xxh64Stream&) = delete;
  void update(const void* data, size_t size);
  uint64_t digest() const;

 private:
  void* state_;
};

// SplitMix64 finaliser: a cheap bijective mixer of 64-bit values.
constexpr uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A uniform double in [0,1) that is a pure function of (key, seed, salt).
inline double unit_hash(uint64_t key, uint64_t seed, uint64_t salt = 0) {
  return static_cast<double>(mix64(key ^ mix64(seed ^ mix64(salt))) >> 11) * 0x1.0p-53;
}

// Deterministic PRNG (SplitMix64 stream) for seeded shuffles and synthetic data.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() { return mix64(s_++); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  double normal();  // Box-Muller

 private:
  uint64_t s_;
};

std::string hex64(uint64_t v);

}  // namespace longctx
