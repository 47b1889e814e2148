#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace longctx::cpu {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline const float* qrow(const float* q, const AttnShape& s, int b, int i, int h) {
  return q + ((int64_t)b * s.Tq + i) * s.q_stride + (int64_t)h * s.hd;
}
inline const float* kvrow(const float* k, const AttnShape& s, int b, int j, int g) {
  return k + ((int64_t)b * s.Tk + j) * s.kv_stride + (int64_t)g * s.hd;
}
inline int key_lo(const int32_t* doc_start, const AttnShape& s, int b, int i) {
  return doc_start ? doc_start[(int64_t)b * s.Tq + i] : 0;
}
}  // namespace

std::vector<int32_t> doc_starts_from_lengths(const std::vector<int32_t>& lengths) {
  std::vector<int32_t> out;
  int32_t pos = 0;
  for (int32_t len : lengths) {
    for (int32_t t = 0; t < len; t++) out.push_back(pos);
    pos += len;
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// naive reference

void attention_forward_naive(float* out, float* att, const float* q, const float* k,
                             const float* v, const int32_t* doc_start, const AttnShape& s) {
  const int group = s.Hq / s.Hkv, off = s.Tk - s.Tq;
  const float scale = 1.0f / std::sqrt((float)s.hd);
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < s.B; b++)
    for (int h = 0; h < s.Hq; h++) {
      const int g = h / group;
      for (int i = 0; i < s.Tq; i++) {
        float* a = att + (((int64_t)b * s.Hq + h) * s.Tq + i) * s.Tk;
        const float* qi = qrow(q, s, b, i, h);
        const int p = off + i, lo = key_lo(doc_start, s, b, i);
        float mx = kNegInf;
        for (int j = 0; j < s.Tk; j++) {
          if (j > p || j < lo) continue;
          const float* kj = kvrow(k, s, b, j, g);
          float dot = 0.0f;
          for (int d = 0; d < s.hd; d++) dot += qi[d] * kj[d];
          a[j] = dot * scale;
          mx = std::max(mx, a[j]);
        }
        float sum = 0.0f;
        for (int j = 0; j < s.Tk; j++) {
          if (j > p || j < lo) {
            a[j] = 0.0f;
            continue;
          }
          a[j] = std::exp(a[j] - mx);
          sum += a[j];
        }
        for (int j = 0; j < s.Tk; j++) a[j] /= sum;
        float* o = out + ((int64_t)b * s.Tq + i) * s.o_stride + (int64_t)h * s.hd;
        for (int d = 0; d < s.hd; d++) o[d] = 0.0f;
        for (int j = 0; j < s.Tk; j++) {
          const float* vj = kvrow(v, s, b, j, g);
          for (int d = 0; d < s.hd; d++) o[d] += a[j] * vj[d];
        }
      }
    }
}

void attention_backward_naive(float* dq, float* dk, float* dv, const float* dout, const float* att,
                              const float* q, const float* k, const float* v, const AttnShape& s) {
  const int group = s.Hq / s.Hkv;
  const float scale = 1.0f / std::sqrt((float)s.hd);
  std::vector<float> datt(s.Tk);
  // serial: dk/dv are shared by the heads of a group
  for (int b = 0; b < s.B; b++)
    for (int h = 0; h < s.Hq; h++) {
      const int g = h / group;
      for (int i = 0; i < s.Tq; i++) {
        const float* a = att + (((int64_t)b * s.Hq + h) * s.Tq + i) * s.Tk;
        const float* doi = dout + ((int64_t)b * s.Tq + i) * s.o_stride + (int64_t)h * s.hd;
        const float* qi = qrow(q, s, b, i, h);
        float* dqi = dq + ((int64_t)b * s.Tq + i) * s.q_stride + (int64_t)h * s.hd;
        // out_i = sum_j a_ij v_j
        float sum_ad = 0.0f;
        for (int j = 0; j < s.Tk; j++) {
          const float* vj = kvrow(v, s, b, j, g);
          float* dvj = dv + ((int64_t)b * s.Tk + j) * s.kv_stride + (int64_t)g * s.hd;
          float d = 0.0f;
          for (int c = 0; c < s.hd; c++) {
            d += doi[c] * vj[c];
            dvj[c] += a[j] * doi[c];
          }
          datt[j] = d;
          sum_ad += a[j] * d;
        }
        // softmax backward: dpre_j = a_j (datt_j - sum_k a_k datt_k); pre = scale * q.k
        for (int j = 0; j < s.Tk; j++) {
          const float dpre = a[j] * (datt[j] - sum_ad) * scale;
          if (dpre == 0.0f) continue;
          const float* kj = kvrow(k, s, b, j, g);
          float* dkj = dk + ((int64_t)b * s.Tk + j) * s.kv_stride + (int64_t)g * s.hd;
          for (int c = 0; c < s.hd; c++) {
            dqi[c] += dpre * kj[c];
            dkj[c] += dpre * qi[c];
          }
        }
      }
    }
}

// ----------------------------------------------------------------------------------------------
// flash (tiled, online softmax)

namespace {

// Key tile [j0, j0+nc) transposed into kt (hd, kTileK), zero-padded to kTileK columns, so score
// rows are computed as axpy over a fixed-width row (vectorises without horizontal sums).
void load_transposed(float* kt, const float* k, const AttnShape& s, int b, int g, int j0, int nc) {
  for (int c = 0; c < nc; c++) {
    const float* kj = kvrow(k, s, b, j0 + c, g);
    for (int d = 0; d < s.hd; d++) kt[d * kTileK + c] = kj[d];
  }
  for (int c = nc; c < kTileK; c++)
    for (int d = 0; d < s.hd; d++) kt[d * kTileK + c] = 0.0f;
}

// srow[c] = sum_d qs[d] * kt[d][c]
inline void score_row(float* __restrict srow, const float* __restrict qs,
                      const float* __restrict kt, int hd) {
  float acc[kTileK];
#pragma omp simd
  for (int c = 0; c < kTileK; c++) acc[c] = 0.0f;
  for (int d = 0; d < hd; d++) {
    const float qd = qs[d];
    const float* kd = kt + d * kTileK;
#pragma omp simd
    for (int c = 0; c < kTileK; c++) acc[c] += qd * kd[c];
  }
#pragma omp simd
  for (int c = 0; c < kTileK; c++) srow[c] = acc[c];
}

// Key range [lo, hi) a query tile [i0, i1) can see.
inline void tile_key_range(const int32_t* doc_start, const AttnShape& s, int b, int i0, int i1,
                           int* lo, int* hi) {
  const int off = s.Tk - s.Tq;
  int l = s.Tk;
  if (doc_start) {
    for (int i = i0; i < i1; i++) l = std::min(l, key_lo(doc_start, s, b, i));
  } else {
    l = 0;
  }
  *lo = (l / kTileK) * kTileK;
  *hi = off + i1;
}

}  // namespace

void attention_forward_flash(float* out, float* lse, const float* q, const float* k,
                             const float* v, const int32_t* doc_start, const AttnShape& s) {
  const int group = s.Hq / s.Hkv, off = s.Tk - s.Tq, hd = s.hd;
  const float scale = 1.0f / std::sqrt((float)hd);
  const int ntiles = (s.Tq + kTileQ - 1) / kTileQ;
  const int64_t ntasks = (int64_t)s.B * s.Hq * ntiles;
#pragma omp parallel
  {
    std::vector<float> kt((size_t)hd * kTileK), qs((size_t)kTileQ * hd), acc((size_t)kTileQ * hd);
    std::vector<float> m(kTileQ), l(kTileQ);
    alignas(64) float srow[kTileK];
    // Largest tiles first would balance better; static interleaving keeps it deterministic and
    // simple (outputs do not depend on scheduling at all).
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < ntasks; task++) {
      const int qt = (int)(task % ntiles);
      const int h = (int)((task / ntiles) % s.Hq);
      const int b = (int)(task / ((int64_t)ntiles * s.Hq));
      const int g = h / group;
      const int i0 = qt * kTileQ, i1 = std::min(i0 + kTileQ, s.Tq), nr = i1 - i0;
      for (int r = 0; r < nr; r++) {
        const float* qi = qrow(q, s, b, i0 + r, h);
        for (int d = 0; d < hd; d++) qs[(size_t)r * hd + d] = qi[d] * scale;
        m[r] = kNegInf;
        l[r] = 0.0f;
      }
      std::fill(acc.begin(), acc.begin() + (size_t)nr * hd, 0.0f);
      int jlo, jhi;
      tile_key_range(doc_start, s, b, i0, i1, &jlo, &jhi);
      for (int j0 = jlo; j0 < jhi; j0 += kTileK) {
        const int nc = std::min(kTileK, jhi - j0);
        load_transposed(kt.data(), k, s, b, g, j0, nc);
        for (int r = 0; r < nr; r++) {
          const int p = off + i0 + r, lo = key_lo(doc_start, s, b, i0 + r);
          if (j0 > p || j0 + nc <= lo) continue;  // tile fully masked for this row
          score_row(srow, qs.data() + (size_t)r * hd, kt.data(), hd);
          float mx = m[r];
          for (int c = 0; c < kTileK; c++) {
            const int j = j0 + c;
            if (c >= nc || j > p || j < lo) srow[c] = kNegInf;
            mx = std::max(mx, srow[c]);
          }
          const float alpha = std::exp(m[r] - mx);  // m = -inf on the first visible tile: 0
          float sum = 0.0f;
          for (int c = 0; c < kTileK; c++) {
            srow[c] = std::exp(srow[c] - mx);
            sum += srow[c];
          }
          l[r] = l[r] * alpha + sum;
          m[r] = mx;
          float* a = acc.data() + (size_t)r * hd;
          if (alpha != 1.0f) {
#pragma omp simd
            for (int d = 0; d < hd; d++) a[d] *= alpha;
          }
          for (int c = 0; c < nc; c++) {
            const float pc = srow[c];
            if (pc == 0.0f) continue;
            const float* vj = kvrow(v, s, b, j0 + c, g);
#pragma omp simd
            for (int d = 0; d < hd; d++) a[d] += pc * vj[d];
          }
        }
      }
      for (int r = 0; r < nr; r++) {
        float* o = out + ((int64_t)b * s.Tq + i0 + r) * s.o_stride + (int64_t)h * hd;
        const float inv = 1.0f / l[r];
        for (int d = 0; d < hd; d++) o[d] = acc[(size_t)r * hd + d] * inv;
        if (lse) lse[((int64_t)b * s.Hq + h) * s.Tq + i0 + r] = m[r] + std::log(l[r]);
      }
    }
  }
}

void attention_backward_flash(float* dq, float* dk, float* dv, const float* dout, const float* out,
                              const float* lse, const float* q, const float* k, const float* v,
                              const int32_t* doc_start, const AttnShape& s) {
  const int group = s.Hq / s.Hkv, off = s.Tk - s.Tq, hd = s.hd;
  const float scale = 1.0f / std::sqrt((float)hd);
  // Per query head dK/dV (B,Hq,Tk,hd), summed over each group in head order below.
  std::vector<float> dkh((size_t)s.B * s.Hq * s.Tk * hd, 0.0f);
  std::vector<float> dvh((size_t)s.B * s.Hq * s.Tk * hd, 0.0f);
  const int64_t ntasks = (int64_t)s.B * s.Hq;
#pragma omp parallel
  {
    std::vector<float> kt((size_t)hd * kTileK), vt((size_t)hd * kTileK);
    std::vector<float> qs((size_t)kTileQ * hd), dqs((size_t)kTileQ * hd), dos((size_t)kTileQ * hd);
    std::vector<float> D(kTileQ), L(kTileQ);
    alignas(64) float prow[kTileK];
    alignas(64) float dprow[kTileK];
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < ntasks; task++) {
      const int h = (int)(task % s.Hq), b = (int)(task / s.Hq), g = h / group;
      float* dkb = dkh.data() + ((size_t)b * s.Hq + h) * s.Tk * hd;
      float* dvb = dvh.data() + ((size_t)b * s.Hq + h) * s.Tk * hd;
      for (int i0 = 0; i0 < s.Tq; i0 += kTileQ) {
        const int i1 = std::min(i0 + kTileQ, s.Tq), nr = i1 - i0;
        for (int r = 0; r < nr; r++) {
          const int64_t row = (int64_t)b * s.Tq + i0 + r;
          const float* qi = qrow(q, s, b, i0 + r, h);
          const float* doi = dout + row * s.o_stride + (int64_t)h * hd;
          const float* oi = out + row * s.o_stride + (int64_t)h * hd;
          float dsum = 0.0f;
          for (int d = 0; d < hd; d++) {
            qs[(size_t)r * hd + d] = qi[d] * scale;
            dos[(size_t)r * hd + d] = doi[d];
            dqs[(size_t)r * hd + d] = 0.0f;
            dsum += doi[d] * oi[d];
          }
          D[r] = dsum;
          L[r] = lse[((int64_t)b * s.Hq + h) * s.Tq + i0 + r];
        }
        int jlo, jhi;
        tile_key_range(doc_start, s, b, i0, i1, &jlo, &jhi);
        for (int j0 = jlo; j0 < jhi; j0 += kTileK) {
          const int nc = std::min(kTileK, jhi - j0);
          load_transposed(kt.data(), k, s, b, g, j0, nc);
          load_transposed(vt.data(), v, s, b, g, j0, nc);
          for (int r = 0; r < nr; r++) {
            const int p = off + i0 + r, lo = key_lo(doc_start, s, b, i0 + r);
            if (j0 > p || j0 + nc <= lo) continue;
            score_row(prow, qs.data() + (size_t)r * hd, kt.data(), hd);
            score_row(dprow, dos.data() + (size_t)r * hd, vt.data(), hd);  // dP = dO . V
            for (int c = 0; c < kTileK; c++) {
              const int j = j0 + c;
              const bool masked = c >= nc || j > p || j < lo;
              const float pc = masked ? 0.0f : std::exp(prow[c] - L[r]);
              prow[c] = pc;
              dprow[c] = pc * (dprow[c] - D[r]) * scale;  // dS, then d(q.k) = scale * dS
            }
            float* dqr = dqs.data() + (size_t)r * hd;
            const float* qr = qs.data() + (size_t)r * hd;  // = scale * q
            const float* dor = dos.data() + (size_t)r * hd;
            for (int c = 0; c < nc; c++) {
              const float ds = dprow[c], pc = prow[c];
              if (pc == 0.0f) continue;
              const float* kj = kvrow(k, s, b, j0 + c, g);
              float* dkj = dkb + (size_t)(j0 + c) * hd;
              float* dvj = dvb + (size_t)(j0 + c) * hd;
              const float ds_unscaled = ds / scale;  // dk += dS*scale*q = ds_unscaled*(scale*q)
#pragma omp simd
              for (int d = 0; d < hd; d++) {
                dqr[d] += ds * kj[d];
                dkj[d] += ds_unscaled * qr[d];
                dvj[d] += pc * dor[d];
              }
            }
          }
        }
        for (int r = 0; r < nr; r++) {
          float* dqi = dq + ((int64_t)b * s.Tq + i0 + r) * s.q_stride + (int64_t)h * hd;
          for (int d = 0; d < hd; d++) dqi[d] += dqs[(size_t)r * hd + d];
        }
      }
    }
  }
  // reduce per-head dK/dV over each group, in head order
#pragma omp parallel for collapse(2) schedule(static)
  for (int b = 0; b < s.B; b++)
    for (int j = 0; j < s.Tk; j++)
      for (int g = 0; g < s.Hkv; g++) {
        float* dkj = dk + ((int64_t)b * s.Tk + j) * s.kv_stride + (int64_t)g * hd;
        float* dvj = dv + ((int64_t)b * s.Tk + j) * s.kv_stride + (int64_t)g * hd;
        for (int hh = g * group; hh < (g + 1) * group; hh++) {
          const float* sk = dkh.data() + (((size_t)b * s.Hq + hh) * s.Tk + j) * hd;
          const float* sv = dvh.data() + (((size_t)b * s.Hq + hh) * s.Tk + j) * hd;
          for (int d = 0; d < hd; d++) {
            dkj[d] += sk[d];
            dvj[d] += sv[d];
          }
        }
      }
}

}  // namespace longctx::cpu
