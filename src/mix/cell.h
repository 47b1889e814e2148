// Cells of a mixture plan (docs/mixing.md "Budgets, exactly"). A plan sets one packed-token target
// per cell and the selection fills every cell from its own documents. A cell is one domain; a
// strategy that sets targets by document length (per-source-upsample, global-upsample) splits each
// domain into short documents and long ones (more than long_threshold tokens). For the other
// strategies the whole domain is the short cell and the long cell stays empty, so one table
// layout serves every strategy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace longctx {

enum class LengthClass : uint8_t {
  kShort = 0,  // documents of at most long_threshold tokens, or the whole domain when not split
  kLong = 1,   // documents of more than long_threshold tokens
};

struct Cell {
  uint16_t domain = 0;
  LengthClass length = LengthClass::kShort;

  // d < 65,536 (a store's domain ids are 16-bit); size_t so that loops over domains need no casts.
  static Cell whole(size_t d) { return {static_cast<uint16_t>(d), LengthClass::kShort}; }
  static Cell short_of(size_t d) { return {static_cast<uint16_t>(d), LengthClass::kShort}; }
  static Cell long_of(size_t d) { return {static_cast<uint16_t>(d), LengthClass::kLong}; }
  bool is_long() const { return length == LengthClass::kLong; }
  // Position in a CellTable: domain-major, short before long. The order matters where targets are
  // split by largest remainder over cells (ties go to the lower index).
  size_t index() const { return 2 * size_t{domain} + static_cast<size_t>(length); }
  static Cell at(size_t index) { return {static_cast<uint16_t>(index / 2), static_cast<LengthClass>(index % 2)}; }
};

// One value per cell of a store with `domains` domains, in Cell::index() order.
template <typename T>
class CellTable {
 public:
  CellTable() = default;
  explicit CellTable(size_t domains, T init = T{}) : v_(2 * domains, init) {}
  T& operator[](Cell c) { return v_[c.index()]; }
  const T& operator[](Cell c) const { return v_[c.index()]; }
  size_t num_cells() const { return v_.size(); }
  size_t num_domains() const { return v_.size() / 2; }
  // Both classes of domain d together.
  T domain_total(size_t d) const { return v_[2 * d] + v_[2 * d + 1]; }
  const std::vector<T>& values() const { return v_; }
  std::vector<T>& values() { return v_; }

 private:
  std::vector<T> v_;
};

}  // namespace longctx
