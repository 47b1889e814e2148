// A growable buffer of floats from a kernels::Backend, kept between calls so pages are not
// faulted in again every step; it grows only after check_allocation (model/memory.h) accepts the
// size. Sessions own their gradients, activations and KV caches through it.
#pragma once
#include <cstdint>

#include "core/status.h"
#include "kernels/backend.h"

namespace longctx::model {

class Arena {
 public:
  explicit Arena(const kernels::Backend* be = nullptr) : be_(be) {}
  Arena(Arena&& o) noexcept : be_(o.be_), p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  Arena& operator=(Arena&& o) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { release(); }
  // Ensures at least n floats (zero-filled when newly allocated); `what` names the use in errors.
  Status reserve(int64_t n, const char* what);
  float* data() const { return p_; }
  int64_t size() const { return n_; }

 private:
  void release();
  const kernels::Backend* be_;
  float* p_ = nullptr;
  int64_t n_ = 0;
};

}  // namespace longctx::model
