#include "model/arena.h"

#include "model/memory.h"

namespace longctx::model {

Arena& Arena::operator=(Arena&& o) noexcept {
  if (this != &o) {
    release();
    be_ = o.be_, p_ = o.p_, n_ = o.n_;
    o.p_ = nullptr, o.n_ = 0;
  }
  return *this;
}

void Arena::release() {
  if (p_) be_->free_floats(p_);
  p_ = nullptr, n_ = 0;
}

Status Arena::reserve(int64_t n, const char* what) {
  if (n <= n_) return Status::ok();
  LONGCTX_RETURN_IF_ERROR(check_allocation(sat_mul(n, (int64_t)sizeof(float)), what));
  release();
  p_ = be_->alloc_floats(n);
  if (!p_)
    return make_error(ErrorCode::kInvalidArgument, "{}: could not allocate {} floats", what, n);
  n_ = n;
  return Status::ok();
}

}  // namespace longctx::model
