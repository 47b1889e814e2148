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

// exp(x) for x <= 88.7; x < -87.3 (and -inf) gives 0. Range reduction x = n ln2 + r, |r| <= ln2/2,
// degree-6 Taylor polynomial: relative error ~2e-7 (about 2 ulp), enough for softmax weights.
inline v16f vexp(v16f x) {
  const v16f lo = vsplat(-87.3f), hi = vsplat(88.7f);
  const v16f xc = x < lo ? lo : (x > hi ? hi : x);
  const v16f magic = vsplat(0x1.8p23f);  // adding it rounds to an integer held in the low bits
  const v16f t = xc * 1.44269504088896341f + magic;
  const v16f n = t - magic;
  const v16f r = xc - n * 0.693359375f - n * -2.12194440e-4f;  // ln2 split in two parts
  v16f p = vsplat(1.0f / 720);
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const v16i bits = ((v16i)t - (v16i)magic + 127) << 23;
  const v16f res = p * (v16f)bits;
  return x < lo ? vsplat(0.0f) : res;
}

inline float hsum(v16f v) {
  float s = 0;
  for (int i = 0; i < kVec; i++) s += v[i];
  return s;
}
inline float hmax(v16f v) {
  float m = v[0];
  for (int i = 1; i < kVec; i++) m = v[i] > m ? v[i] : m;
  return m;
}

}  // namespace longctx::cpu
