// Small open-addressing hash tables for the encoders' hot paths (std::unordered_map allocates per
// node and chases pointers; these are flat arrays probed linearly). Internal to src/tokenizer.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"

namespace longctx::tok_detail {

// Hash of a short byte string: 8 bytes at a time through mix64 (SplitMix64 finaliser).
inline uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix64(h ^ w);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = mix64(h ^ w ^ (uint64_t{n} << 59));
  }
  return h;
}

// uint64 key -> uint64 value. Key ~0 is reserved as the empty marker.
class U64Map {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  U64Map() { rehash(16); }
  void insert(uint64_t key, uint64_t value) {
    if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
    size_t i = slot(key);
    if (keys_[i] == kEmpty) ++size_;
    keys_[i] = key;
    values_[i] = value;
  }
  // Returns a pointer to the value or nullptr.
  const uint64_t* find(uint64_t key) const {
    size_t i = slot(key);
    return keys_[i] == kEmpty ? nullptr : &values_[i];
  }
  size_t size() const { return size_; }

 private:
  size_t slot(uint64_t key) const {
    size_t mask = keys_.size() - 1;
    size_t i = mix64(key) & mask;
    while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask;
    return i;
  }
  void rehash(size_t cap) {
    std::vector<uint64_t> k(cap, kEmpty), v(cap, 0);
    k.swap(keys_);
    v.swap(values_);
    size_ = 0;
    for (size_t i = 0; i < k.size(); ++i)
      if (k[i] != kEmpty) insert(k[i], v[i]);
  }
  std::vector<uint64_t> keys_, values_;
  size_t size_ = 0;
};

// Token string -> id over strings owned elsewhere (a flat table of 64-bit hashes; every hit is
// confirmed by comparing the strings, so a hash collision costs a probe, never a wrong id).
class TokenIndex {
 public:
  void reserve(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n + 2) cap <<= 1;
    slots_.assign(cap, Slot{});
  }
  // False when `s` is already present (its id unchanged).
  bool insert(std::string_view s, uint32_t id) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const uint64_t h = hash_bytes(s.data(), s.size());
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (!slot.used) {
        slot = Slot{h, s, id, true};
        ++size_;
        return true;
      }
      if (slot.hash == h && slot.key == s) return false;
    }
  }
  // The id of s, or -1.
  int64_t find(std::string_view s) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash_bytes(s.data(), s.size());
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (!slot.used) return -1;
      if (slot.hash == h && slot.key == s) return slot.id;
    }
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::string_view key;
    uint32_t id = 0;
    bool used = false;
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    reserve(old.empty() ? 8 : old.size());
    size_ = 0;
    for (const Slot& s : old)
      if (s.used) insert(s.key, s.id);
  }
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

// Byte string -> list of uint32 ids, append-only, with its own arenas (the segment cache).
class StringIdsCache {
 public:
  explicit StringIdsCache(size_t capacity_pow2 = 1 << 16) { reset(capacity_pow2); }
  void reset(size_t capacity_pow2) {
    slots_.assign(capacity_pow2, Slot{});
    keys_.clear();
    ids_.clear();
    size_ = 0;
  }
  // On a hit sets *ids/*n to the stored ids.
  bool find(std::string_view key, uint64_t h, const uint32_t** ids, uint32_t* n) const {
    size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key_len == 0) return false;
      if (s.hash == h && s.key_len == key.size() && std::memcmp(keys_.data() + s.key_off, key.data(), key.size()) == 0) {
        *ids = ids_.data() + s.ids_off;
        *n = s.ids_len;
        return true;
      }
    }
  }
  void insert(std::string_view key, uint64_t h, const uint32_t* ids, uint32_t n) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].key_len != 0) i = (i + 1) & mask;
    slots_[i] = Slot{h, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()),
                     static_cast<uint32_t>(ids_.size()), n};
    keys_.append(key);
    ids_.insert(ids_.end(), ids, ids + n);
    ++size_;
  }
  size_t size() const { return size_; }
  size_t bytes() const { return keys_.size() + ids_.size() * 4 + slots_.size() * sizeof(Slot); }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_off = 0, key_len = 0, ids_off = 0, ids_len = 0;
  };
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key_len == 0) continue;
      size_t i = s.hash & mask;
      while (slots_[i].key_len != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<uint32_t> ids_;
  size_t size_ = 0;
};

}  // namespace longctx::tok_detail
