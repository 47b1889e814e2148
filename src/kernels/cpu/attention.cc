#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/vec.h"

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
//
// Tiles of kTileQ = 64 queries x kTileK = 64 keys. Two micro-kernels do all the arithmetic:
// - tile_scores: S (64 x 64) = A (rows, hd) . Bt (hd, 64) with Bt a transposed, zero-padded key
//   (or value) tile; 4 rows x kAccCols native vectors of accumulators in registers (vec.h).
// - accumulate_rows: O[i] += sum_c P(i, c) V[c] over hd-wide rows, P read with any strides so
//   the same kernel does P.V, dS.K, dS^T.Q and P^T.dO; 4 rows x kAccCols native vectors of
//   accumulators in registers, across hd in steps.
static_assert(kTileK % kNVec == 0, "score rows are whole native vectors");

namespace {

void load_transposed(float* kt, const float* k, const AttnShape& s, int b, int g, int j0, int nc) {
  for (int c = 0; c < nc; c++) {
    const float* kj = kvrow(k, s, b, j0 + c, g);
    for (int d = 0; d < s.hd; d++) kt[d * kTileK + c] = kj[d];
  }
  for (int c = nc; c < kTileK; c++)
    for (int d = 0; d < s.hd; d++) kt[d * kTileK + c] = 0.0f;
}

// S[r][0..64) = sum_d A[r][d] Bt[d][0..64) for r < nrows (rounded up to 4: A has the rows).
// Register tiles of 4 rows x kAccCols native vectors (vec.h); each S element is summed over d in
// order, so the blocking does not change a bit of the result.
void tile_scores(float* __restrict S, const float* __restrict A, int lda, const float* __restrict Bt,
                 int nrows, int hd) {
  constexpr int kW = kAccCols * kNVec;  // columns per register tile
  static_assert(kTileK % kW == 0, "a score row is a whole number of register tiles");
  for (int r0 = 0; r0 < nrows; r0 += 4) {
    const float* a = A + (int64_t)r0 * lda;
    for (int c0 = 0; c0 < kTileK; c0 += kW) {
      vnf acc[4][kAccCols] = {};
      for (int d = 0; d < hd; d++) {
        const float* bt = Bt + d * kTileK + c0;
        vnf bv[kAccCols];
        for (int k = 0; k < kAccCols; k++) bv[k] = vnload(bt + k * kNVec);
        for (int i = 0; i < 4; i++) {
          const float x = a[(int64_t)i * lda + d];
          for (int k = 0; k < kAccCols; k++) acc[i][k] += x * bv[k];
        }
      }
      for (int i = 0; i < 4; i++)
        for (int k = 0; k < kAccCols; k++) vnstore(S + (r0 + i) * kTileK + c0 + k * kNVec, acc[i][k]);
    }
  }
}

// O[i][0..hd) += sum_{c < ncols} P[i*prs + c*pcs] * V[c*ldv + 0..hd), i < nrows; hd a multiple of
// CB native vectors, done CB vectors at a time (4 rows x CB accumulators in registers). Each O
// element is summed over c in order, whatever CB.
template <int CB>
void accumulate_rows_vec(float* __restrict O, int64_t ldo, const float* __restrict P, int64_t prs,
                         int64_t pcs, const float* __restrict V, int64_t ldv, int nrows, int ncols, int hd) {
  for (int d0 = 0; d0 < hd; d0 += CB * kNVec) {
    int i0 = 0;
    for (; i0 + 4 <= nrows; i0 += 4) {
      vnf acc[4][CB];
      for (int i = 0; i < 4; i++)
        for (int k = 0; k < CB; k++) acc[i][k] = vnload(O + (i0 + i) * ldo + d0 + k * kNVec);
      for (int c = 0; c < ncols; c++) {
        const float* v = V + c * ldv + d0;
        vnf vv[CB];
        for (int k = 0; k < CB; k++) vv[k] = vnload(v + k * kNVec);
        for (int i = 0; i < 4; i++) {
          const float p = P[(i0 + i) * prs + c * pcs];
          for (int k = 0; k < CB; k++) acc[i][k] += p * vv[k];
        }
      }
      for (int i = 0; i < 4; i++)
        for (int k = 0; k < CB; k++) vnstore(O + (i0 + i) * ldo + d0 + k * kNVec, acc[i][k]);
    }
    for (; i0 < nrows; i0++) {
      vnf acc[CB];
      for (int k = 0; k < CB; k++) acc[k] = vnload(O + i0 * ldo + d0 + k * kNVec);
      for (int c = 0; c < ncols; c++) {
        const float p = P[i0 * prs + c * pcs];
        for (int k = 0; k < CB; k++) acc[k] += p * vnload(V + c * ldv + d0 + k * kNVec);
      }
      for (int k = 0; k < CB; k++) vnstore(O + i0 * ldo + d0 + k * kNVec, acc[k]);
    }
  }
}

void accumulate_rows(float* O, int64_t ldo, const float* P, int64_t prs, int64_t pcs, const float* V,
                     int64_t ldv, int nrows, int ncols, int hd) {
  if (hd % (kAccCols * kNVec) == 0)
    return accumulate_rows_vec<kAccCols>(O, ldo, P, prs, pcs, V, ldv, nrows, ncols, hd);
  if (hd % kNVec == 0) return accumulate_rows_vec<1>(O, ldo, P, prs, pcs, V, ldv, nrows, ncols, hd);
  for (int i = 0; i < nrows; i++)
    for (int c = 0; c < ncols; c++) {
      const float p = P[i * prs + c * pcs];
      const float* v = V + c * ldv;
      float* o = O + i * ldo;
      for (int d = 0; d < hd; d++) o[d] += p * v[d];
    }
}

// Key range [lo, hi) a query tile [i0, i1) can see; lo rounded down to a key tile.
inline void tile_key_range(const int32_t* doc_start, const AttnShape& s, int b, int i0, int i1,
                           int* lo, int* hi) {
  int l = 0;
  if (doc_start) {
    l = s.Tk;
    for (int i = i0; i < i1; i++) l = std::min(l, key_lo(doc_start, s, b, i));
  }
  *lo = (l / kTileK) * kTileK;
  *hi = (s.Tk - s.Tq) + i1;
}

// Scores of row r -> masked to -inf outside [lo, p] and beyond nc keys.
inline void mask_row(float* srow, int j0, int nc, int p, int lo) {
  const int hi = std::min(p, j0 + nc - 1);  // last visible key
  if (lo <= j0 && hi >= j0 + kTileK - 1) return;  // whole tile visible
  for (int c = 0; c < kTileK; c++) {
    const int j = j0 + c;
    if (j > hi || j < lo) srow[c] = -std::numeric_limits<float>::infinity();
  }
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
    std::vector<float> kt((size_t)hd * kTileK), qs((size_t)kTileQ * hd, 0.0f), acc((size_t)kTileQ * hd);
    std::vector<float> S((size_t)kTileQ * kTileK);
    float m[kTileQ], l[kTileQ];
    bool visible[kTileQ];
    // Each task writes only its own rows: any schedule gives the same bytes.
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < ntasks; task++) {
      // longest rows (last query tiles) first for balance
      const int qt = ntiles - 1 - (int)(task / ((int64_t)s.B * s.Hq));
      const int h = (int)(task % s.Hq), b = (int)((task / s.Hq) % s.B), g = h / group;
      const int i0 = qt * kTileQ, i1 = std::min(i0 + kTileQ, s.Tq), nr = i1 - i0;
      const int nr4 = (nr + 3) / 4 * 4;
      for (int r = 0; r < nr4; r++) {
        if (r < nr) {
          const float* qi = qrow(q, s, b, i0 + r, h);
          for (int d = 0; d < hd; d++) qs[(size_t)r * hd + d] = qi[d] * scale;
        } else {
          std::fill(qs.begin() + (size_t)r * hd, qs.begin() + (size_t)(r + 1) * hd, 0.0f);
        }
        m[r] = -std::numeric_limits<float>::infinity();
        l[r] = 0.0f;
      }
      std::fill(acc.begin(), acc.begin() + (size_t)nr * hd, 0.0f);
      int jlo, jhi;
      tile_key_range(doc_start, s, b, i0, i1, &jlo, &jhi);
      for (int j0 = jlo; j0 < jhi; j0 += kTileK) {
        const int nc = std::min(kTileK, jhi - j0);
        load_transposed(kt.data(), k, s, b, g, j0, nc);
        tile_scores(S.data(), qs.data(), hd, kt.data(), nr, hd);
        for (int r = 0; r < nr; r++) {
          float* srow = S.data() + (size_t)r * kTileK;
          const int p = off + i0 + r, lo = key_lo(doc_start, s, b, i0 + r);
          visible[r] = !(j0 > p || j0 + nc <= lo);
          if (!visible[r]) {
            std::fill(srow, srow + kTileK, 0.0f);
            continue;
          }
          mask_row(srow, j0, nc, p, lo);
          constexpr int kRowVecs = kTileK / kNVec;
          vnf x[kRowVecs];
          for (int c = 0; c < kRowVecs; c++) x[c] = vnload(srow + c * kNVec);
          float mx = m[r];
          for (int c = 0; c < kRowVecs; c++) mx = std::max(mx, hmax(x[c]));
          const float alpha = std::exp(m[r] - mx);  // first visible tile: exp(-inf) = 0
          vnf sum = {};
          for (int c = 0; c < kRowVecs; c++) {
            x[c] = vnexp(x[c] - mx);
            sum += x[c];
            vnstore(srow + c * kNVec, x[c]);
          }
          l[r] = l[r] * alpha + hsum(sum);
          m[r] = mx;
          if (alpha != 1.0f) {
            float* a = acc.data() + (size_t)r * hd;
            for (int d = 0; d < hd; d++) a[d] *= alpha;
          }
        }
        accumulate_rows(acc.data(), hd, S.data(), kTileK, 1, kvrow(v, s, b, j0, g), s.kv_stride, nr, nc, hd);
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
    std::vector<float> qs((size_t)kTileQ * hd, 0.0f), dqs((size_t)kTileQ * hd), dos((size_t)kTileQ * hd, 0.0f);
    std::vector<float> P((size_t)kTileQ * kTileK), dS((size_t)kTileQ * kTileK);
    float D[kTileQ], L[kTileQ];
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < ntasks; task++) {
      const int h = (int)(task % s.Hq), b = (int)(task / s.Hq), g = h / group;
      float* dkb = dkh.data() + ((size_t)b * s.Hq + h) * s.Tk * hd;
      float* dvb = dvh.data() + ((size_t)b * s.Hq + h) * s.Tk * hd;
      for (int i0 = 0; i0 < s.Tq; i0 += kTileQ) {
        const int i1 = std::min(i0 + kTileQ, s.Tq), nr = i1 - i0, nr4 = (nr + 3) / 4 * 4;
        for (int r = 0; r < nr4; r++) {
          float* qr = qs.data() + (size_t)r * hd;
          float* dr = dos.data() + (size_t)r * hd;
          if (r >= nr) {
            std::fill(qr, qr + hd, 0.0f);
            std::fill(dr, dr + hd, 0.0f);
            continue;
          }
          const int64_t row = (int64_t)b * s.Tq + i0 + r;
          const float* qi = qrow(q, s, b, i0 + r, h);
          const float* doi = dout + row * s.o_stride + (int64_t)h * hd;
          const float* oi = out + row * s.o_stride + (int64_t)h * hd;
          float dsum = 0.0f;
          for (int d = 0; d < hd; d++) {
            qr[d] = qi[d] * scale;
            dr[d] = doi[d];
            dsum += doi[d] * oi[d];
          }
          D[r] = dsum;
          L[r] = lse[((int64_t)b * s.Hq + h) * s.Tq + i0 + r];
        }
        std::fill(dqs.begin(), dqs.begin() + (size_t)nr * hd, 0.0f);
        int jlo, jhi;
        tile_key_range(doc_start, s, b, i0, i1, &jlo, &jhi);
        for (int j0 = jlo; j0 < jhi; j0 += kTileK) {
          const int nc = std::min(kTileK, jhi - j0);
          load_transposed(kt.data(), k, s, b, g, j0, nc);
          load_transposed(vt.data(), v, s, b, g, j0, nc);
          tile_scores(P.data(), qs.data(), hd, kt.data(), nr, hd);
          tile_scores(dS.data(), dos.data(), hd, vt.data(), nr, hd);  // dP = dO . V
          for (int r = 0; r < nr; r++) {
            float* prow = P.data() + (size_t)r * kTileK;
            float* dsrow = dS.data() + (size_t)r * kTileK;
            const int p = off + i0 + r, lo = key_lo(doc_start, s, b, i0 + r);
            if (j0 > p || j0 + nc <= lo) {
              std::fill(prow, prow + kTileK, 0.0f);
              std::fill(dsrow, dsrow + kTileK, 0.0f);
              continue;
            }
            mask_row(prow, j0, nc, p, lo);
            for (int c = 0; c < kTileK; c += kNVec) {
              const vnf pc = vnexp(vnload(prow + c) - L[r]);
              vnstore(prow + c, pc);
              vnstore(dsrow + c, pc * (vnload(dsrow + c) - D[r]));  // dS = P (dP - D)
            }
          }
          // dQ += dS . K (scaled at the end); dK += dS^T . (scale q); dV += P^T . dO
          accumulate_rows(dqs.data(), hd, dS.data(), kTileK, 1, kvrow(k, s, b, j0, g), s.kv_stride, nr, nc, hd);
          accumulate_rows(dkb + (size_t)j0 * hd, hd, dS.data(), 1, kTileK, qs.data(), hd, nc, nr, hd);
          accumulate_rows(dvb + (size_t)j0 * hd, hd, P.data(), 1, kTileK, dos.data(), hd, nc, nr, hd);
        }
        for (int r = 0; r < nr; r++) {
          float* dqi = dq + ((int64_t)b * s.Tq + i0 + r) * s.q_stride + (int64_t)h * hd;
          for (int d = 0; d < hd; d++) dqi[d] += scale * dqs[(size_t)r * hd + d];
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
