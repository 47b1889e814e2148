// 16-float vectors through GCC/Clang vector extensions: AVX-512 registers with -march=native on
// hosts that have them, pairs of AVX2 registers (or SSE) elsewhere, no intrinsics. Used by the
// attention micro-kernels and the softmax of the classifier.
#pragma once
#include <cstdint>
#include <cstring>

namespace longctx::cpu {

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
constexpr int kVec = 16;

inline v16f vload(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void vstore(float* p, v16f v) { std::memcpy(p, &v, sizeof(v)); }
inline v16f vsplat(float x) { return v16f{} + x; }

// Vectors of the target's native width (kNVec floats: 16 with AVX-512, 8 with AVX, 4 otherwise)
// for the register-blocked micro-kernels. A 16-float vector is split by the compiler into pieces
// on targets without AVX-512, and an array of them as accumulators (4 x 4 in the attention tiles)
// then lives on the stack: measured on an AVX2 host (Zen 3), the attention kernels ran at about
// 3 GFLOP/s per core that way. The blocked kernels keep kAccCols native vectors per row in
// registers instead: 4 rows x kAccCols accumulators, plus kAccCols loaded vectors and a broadcast,
// fit the 16 registers of AVX2 (4 x 2 + 2 + 1) and the 32 of AVX-512 (4 x 4 + 4 + 1).
#if defined(__AVX512F__)
constexpr int kNVec = 16;
#elif defined(__AVX__)
constexpr int kNVec = 8;
#else
constexpr int kNVec = 4;
#endif
typedef float vnf __attribute__((vector_size(kNVec * sizeof(float))));
typedef int32_t vni __attribute__((vector_size(kNVec * sizeof(int32_t))));
constexpr int kAccCols = kNVec == 16 ? 4 : 2;

inline vnf vnload(const float* p) {
  vnf v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void vnstore(float* p, vnf v) { std::memcpy(p, &v, sizeof(v)); }

// exp(x) for x <= 88.7; x < -87.3 (and -inf) gives 0. Range reduction x = n ln2 + r, |r| <= ln2/2,
// degree-6 Taylor polynomial: relative error ~2e-7 (about 2 ulp), enough for softmax weights.
// F: a float vector type, I: the int32 vector type of the same width.
template <typename F, typename I>
inline F vexp_any(F x) {
  const F lo = F{} + -87.3f, hi = F{} + 88.7f;
  const F xc = x < lo ? lo : (x > hi ? hi : x);
  const F magic = F{} + 0x1.8p23f;  // adding it rounds to an integer held in the low bits
  const F t = xc * 1.44269504088896341f + magic;
  const F n = t - magic;
  const F r = xc - n * 0.693359375f - n * -2.12194440e-4f;  // ln2 split in two parts
  F p = F{} + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const I bits = ((I)t - (I)magic + 127) << 23;
  const F res = p * (F)bits;
  return x < lo ? F{} : res;
}
inline v16f vexp(v16f x) { return vexp_any<v16f, v16i>(x); }
inline vnf vnexp(vnf x) { return vexp_any<vnf, vni>(x); }

// Horizontal sum (lanes in order) and maximum of a vector of either width.
template <typename F>
inline float hsum(F v) {
  constexpr int n = sizeof(F) / sizeof(float);
  float s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}
template <typename F>
inline float hmax(F v) {
  constexpr int n = sizeof(F) / sizeof(float);
  float m = v[0];
  for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
  return m;
}

}  // namespace longctx::cpu
