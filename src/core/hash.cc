#include "core/hash.h"

#include <cmath>
#include <fmt/format.h>
#include <xxhash.h>

namespace longctx {

uint64_t xxh64_bytes(const void* data, size_t size, uint64_t seed) { return XXH64(data, size, seed); }

Xxh64Stream::Xxh64Stream(uint64_t seed) : state_(XXH64_createState()) {
  XXH64_reset(static_cast<XXH64_state_t*>(state_), seed);
}
Xxh64Stream::~Xxh64Stream() { XXH64_freeState(static_cast<XXH64_state_t*>(state_)); }
void Xxh64Stream::update(const void* data, size_t size) {
  XXH64_update(static_cast<XXH64_state_t*>(state_), data, size);
}
uint64_t Xxh64Stream::digest() const { return XXH64_digest(static_cast<XXH64_state_t*>(state_)); }

double Rng::normal() {
  double u1 = uniform(), u2 = uniform();
  if (u1 < 1e-300) u1 = 1e-300;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::string hex64(uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace longctx
