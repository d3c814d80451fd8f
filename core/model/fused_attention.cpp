// The fused decode-attention kernel (fused_attention.h). Two register-blocked micro-kernels
// written with Eigen's packet math (AVX-512, AVX2 or SSE, whatever the build targets):
//   score_tile  S (HT x RT)  = Q (HT x d) K (RT x d)^T   HT heads against RT cache rows
//   value_tile  A (HT x CT*L) += P (HT x nb) V (nb x CT*L) HT heads, CT packets of columns
// and, between them, the online softmax of each head over the block.
#include "model/fused_attention.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "base/check.h"

namespace mla {

namespace {

using Packet = Eigen::internal::packet_traits<float>::type;  // NOLINT
constexpr int kLanes = Eigen::internal::packet_traits<float>::size;
#if defined(__AVX512F__)
constexpr int kRowTile = 4, kColTile = 4;  // 16 accumulators of 32 registers
#else
constexpr int kRowTile = 3, kColTile = 3;  // 12 accumulators of 16 registers
#endif
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// S[h*ldS + r] (+)= sum_i Q[h*ldq + i] K[r*ldk + i], h < HT, r < RT
template <int HT, int RT>
void score_tile(float* S, int64_t ldS, const float* Q, int64_t ldq, const float* K, int64_t ldk, int64_t d,
                bool accumulate) {
    using namespace Eigen::internal;
    Packet acc[HT][RT];
    for (int h = 0; h < HT; ++h)
        for (int r = 0; r < RT; ++r) acc[h][r] = pset1<Packet>(0.0f);
    int64_t i = 0;
    for (; i + kLanes <= d; i += kLanes) {
        Packet kv[RT];
        for (int r = 0; r < RT; ++r) kv[r] = ploadu<Packet>(K + r * ldk + i);
        for (int h = 0; h < HT; ++h) {
            const Packet qv = ploadu<Packet>(Q + h * ldq + i);
            for (int r = 0; r < RT; ++r) acc[h][r] = pmadd(qv, kv[r], acc[h][r]);
        }
    }
    for (int h = 0; h < HT; ++h)
        for (int r = 0; r < RT; ++r) {
            float s = predux(acc[h][r]);
            for (int64_t t = i; t < d; ++t) s += Q[h * ldq + t] * K[r * ldk + t];
            float& dst = S[h * ldS + r];
            dst = accumulate ? dst + s : s;
        }
}

template <int HT>
void score_rows(float* S, int64_t ldS, const float* Q, int64_t ldq, const float* K, int64_t ldk, int64_t d,
                int64_t nb, bool accumulate) {
    int64_t r = 0;
    for (; r + kRowTile <= nb; r += kRowTile) score_tile<HT, kRowTile>(S + r, ldS, Q, ldq, K + r * ldk, ldk, d, accumulate);
    for (; r < nb; ++r) score_tile<HT, 1>(S + r, ldS, Q, ldq, K + r * ldk, ldk, d, accumulate);
}

// S (heads x nb) (+)= Q (heads x d) K (nb x d)^T
void scores_block(float* S, int64_t ldS, const float* Q, int64_t ldq, int64_t heads, const float* K, int64_t ldk,
                  int64_t d, int64_t nb, bool accumulate) {
    int64_t h = 0;
    for (; h + 4 <= heads; h += 4) score_rows<4>(S + h * ldS, ldS, Q + h * ldq, ldq, K, ldk, d, nb, accumulate);
    switch (heads - h) {
        case 3: score_rows<3>(S + h * ldS, ldS, Q + h * ldq, ldq, K, ldk, d, nb, accumulate); break;
        case 2: score_rows<2>(S + h * ldS, ldS, Q + h * ldq, ldq, K, ldk, d, nb, accumulate); break;
        case 1: score_rows<1>(S + h * ldS, ldS, Q + h * ldq, ldq, K, ldk, d, nb, accumulate); break;
        default: break;
    }
}

// A[h*lda + c*L + (0..L-1)] += sum_j P[h*ldp + j] V[j*ldv + c*L + (0..L-1)], h < HT, c < CT
template <int HT, int CT>
void value_tile(float* A, int64_t lda, const float* P, int64_t ldp, const float* V, int64_t ldv, int64_t nb) {
    using namespace Eigen::internal;
    Packet acc[HT][CT];
    for (int h = 0; h < HT; ++h)
        for (int c = 0; c < CT; ++c) acc[h][c] = ploadu<Packet>(A + h * lda + c * kLanes);
    for (int64_t j = 0; j < nb; ++j) {
        Packet vv[CT];
        for (int c = 0; c < CT; ++c) vv[c] = ploadu<Packet>(V + j * ldv + c * kLanes);
        for (int h = 0; h < HT; ++h) {
            const Packet p = pset1<Packet>(P[h * ldp + j]);
            for (int c = 0; c < CT; ++c) acc[h][c] = pmadd(p, vv[c], acc[h][c]);
        }
    }
    for (int h = 0; h < HT; ++h)
        for (int c = 0; c < CT; ++c) pstoreu(A + h * lda + c * kLanes, acc[h][c]);
}

template <int HT>
void value_cols(float* A, int64_t lda, const float* P, int64_t ldp, const float* V, int64_t ldv, int64_t dv, int64_t nb) {
    int64_t c = 0;
    for (; c + kColTile * kLanes <= dv; c += kColTile * kLanes) value_tile<HT, kColTile>(A + c, lda, P, ldp, V + c, ldv, nb);
    for (; c + kLanes <= dv; c += kLanes) value_tile<HT, 1>(A + c, lda, P, ldp, V + c, ldv, nb);
    for (; c < dv; ++c)  // columns past the last whole packet
        for (int h = 0; h < HT; ++h) {
            float s = A[h * lda + c];
            for (int64_t j = 0; j < nb; ++j) s += P[h * ldp + j] * V[j * ldv + c];
            A[h * lda + c] = s;
        }
}

// A (heads x dv) += P (heads x nb) V (nb x dv)
void values_block(float* A, int64_t lda, const float* P, int64_t ldp, int64_t heads, const float* V, int64_t ldv,
                  int64_t dv, int64_t nb) {
    int64_t h = 0;
    for (; h + 4 <= heads; h += 4) value_cols<4>(A + h * lda, lda, P + h * ldp, ldp, V, ldv, dv, nb);
    switch (heads - h) {
        case 3: value_cols<3>(A + h * lda, lda, P + h * ldp, ldp, V, ldv, dv, nb); break;
        case 2: value_cols<2>(A + h * lda, lda, P + h * ldp, ldp, V, ldv, dv, nb); break;
        case 1: value_cols<1>(A + h * lda, lda, P + h * ldp, ldp, V, ldv, dv, nb); break;
        default: break;
    }
}

// Rows [j0, j0 + nb) of group g as float32: the cache itself when it is float32, else
// widened into `tile` (nb x dim, contiguous). Returns the pointer and its row stride.
const float* block_rows(const KvRaw& o, int64_t g, int64_t j0, int64_t nb, float* tile, int64_t& ld) {
    if (o.dim == 0) {  // no columns (a converted model that keeps every pair as RoPE has no nope key)
        ld = 0;
        return tile;
    }
    const int64_t first = o.first + j0 * o.row_stride + g * o.head_stride;
    if (o.dtype == CacheDtype::F32) {
        ld = o.row_stride;
        return static_cast<const float*>(o.base) + first;
    }
    for (int64_t r = 0; r < nb; ++r) decode_elements(tile + r * o.dim, o.base, o.dtype, first + r * o.row_stride, o.dim);
    ld = o.dim;
    return tile;
}

// Prefetches rows [j0, j0 + n) of every group of an operand, one request per 64-byte line.
void prefetch_rows(const KvRaw& o, int64_t j0, int64_t n, int64_t groups) {
    if (o.dim == 0) return;
    const int64_t es = cache_dtype_bytes(o.dtype);
    const char* base = static_cast<const char*>(o.base);
    for (int64_t r = 0; r < n; ++r)
        for (int64_t g = 0; g < groups; ++g) {
            const char* row = base + (o.first + (j0 + r) * o.row_stride + g * o.head_stride) * es;
            for (int64_t b = 0; b < o.dim * es; b += 64) __builtin_prefetch(row + b);
        }
}

bool latent_row(const FusedArgs& a) {  // V is the first columns of K's own row (MLA's latent)
    return a.k.group == a.H && a.v.group == a.H && a.v.base == a.k.base && a.v.first == a.k.first &&
           a.v.row_stride == a.k.row_stride && a.v.dtype == a.k.dtype && a.v.dim <= a.k.dim;
}

// One thread's range [t0, t1): m, l, acc of every head over those rows.
void attend_range(const FusedArgs& a, int64_t t0, int64_t t1, int64_t B, FusedScratch::Part& p) {
    const int64_t H = a.H, dv = a.v.dim;
    const int64_t maxd = std::max({a.k.dim, a.k2.dim, a.v.dim});
    p.s.resize(static_cast<size_t>(H * B));
    p.tile.resize(static_cast<size_t>(2 * B * maxd));
    p.m.assign(static_cast<size_t>(H), kNegInf);
    p.l.assign(static_cast<size_t>(H), 0.0f);
    p.acc.assign(static_cast<size_t>(H * dv), 0.0f);
    float* S = p.s.data();
    float* ktile = p.tile.data();
    float* vtile = p.tile.data() + B * maxd;
    const int64_t Gk = H / a.k.group, Gv = H / a.v.group;
    // MLA's latent: V is the first C columns of the same rows as K; widen them once.
    const bool v_in_k = latent_row(a);
    for (int64_t j0 = t0; j0 < t1; j0 += B) {
        const int64_t nb = std::min(B, t1 - j0);
        // Ask for the next block's rows now: the first head tile would otherwise wait on them.
        if (j0 + B < t1) {
            prefetch_rows(a.k, j0 + B, std::min(B, t1 - j0 - B), Gk);
            if (!v_in_k) prefetch_rows(a.v, j0 + B, std::min(B, t1 - j0 - B), Gv);
        }
        int64_t ldk = 0;
        const float* K = nullptr;
        for (int64_t g = 0; g < Gk; ++g) {
            K = block_rows(a.k, g, j0, nb, ktile, ldk);
            scores_block(S + g * a.k.group * B, B, a.q + g * a.k.group * a.q_stride, a.q_stride, a.k.group, K, ldk,
                         a.k.dim, nb, false);
        }
        if (a.k2.dim > 0) {
            for (int64_t g = 0; g < H / a.k2.group; ++g) {
                int64_t ld2 = 0;
                const float* K2 = block_rows(a.k2, g, j0, nb, vtile, ld2);
                scores_block(S + g * a.k2.group * B, B, a.q + g * a.k2.group * a.q_stride + a.k.dim, a.q_stride,
                             a.k2.group, K2, ld2, a.k2.dim, nb, true);
            }
        }
        if (a.scores)
            for (int64_t h = 0; h < H; ++h) std::copy(S + h * B, S + h * B + nb, a.scores + h * a.T + j0);
        // online softmax: rescale what was accumulated to the new running max
        for (int64_t h = 0; h < H; ++h) {
            Eigen::Map<Eigen::ArrayXf> row(S + h * B, nb);
            row *= a.scale;
            const float mb = row.maxCoeff();
            const float mn = std::max(p.m[h], mb);
            if (mn == kNegInf) {  // every key so far masked: no weight
                row.setZero();
                continue;
            }
            const float corr = std::exp(p.m[h] - mn);  // 0 for the first block (m = -inf)
            row = (row - mn).exp();
            p.l[h] = p.l[h] * corr + row.sum();
            if (corr != 1.0f) Eigen::Map<Eigen::ArrayXf>(p.acc.data() + h * dv, dv) *= corr;
            p.m[h] = mn;
        }
        for (int64_t g = 0; g < Gv; ++g) {
            int64_t ldv = 0;
            const float* V = v_in_k ? K : block_rows(a.v, g, j0, nb, vtile, ldv);
            if (v_in_k) ldv = ldk;
            values_block(p.acc.data() + g * a.v.group * dv, dv, S + g * a.v.group * B, B, a.v.group, V, ldv, dv, nb);
        }
    }
}

}  // namespace

int64_t fused_block_rows(int64_t group_floats, int64_t all_floats) {
    // Measured on DeepSeek-V2-Lite's block at 16k tokens, 2 threads (Xeon, 2 MB L2): MHA's 16
    // KV heads in blocks of 96 rows (1.5 MB a block) ran at 53-58% of the read bandwidth, in
    // blocks of 16-32 rows (256-512 KB) at 66-73%; the one latent group was the same from 24
    // to 96 rows and slower at 16.
    const int64_t rows = std::min(24576 / std::max<int64_t>(1, group_floats), 114688 / std::max<int64_t>(1, all_floats));
    return std::clamp<int64_t>(rows / 4 * 4, 8, 256);
}


void fused_attention(const FusedArgs& a, int threads, FusedScratch& scratch) {
    MLA_CHECK(a.H > 0 && a.T >= 0 && a.k.group > 0 && a.v.group > 0 && a.H % a.k.group == 0 && a.H % a.v.group == 0);
    MLA_CHECK(a.k2.dim == 0 || (a.k2.group > 0 && a.H % a.k2.group == 0));
    const int64_t H = a.H, T = a.T, dv = a.v.dim;
    const bool shared = latent_row(a);
    const int64_t Gk = H / a.k.group, Gv = H / a.v.group, Gk2 = a.k2.dim > 0 ? H / a.k2.group : 0;
    const int64_t B = fused_block_rows(a.k.dim + a.k2.dim + (shared ? 0 : dv),
                                       a.k.dim * Gk + a.k2.dim * Gk2 + (shared ? 0 : dv * Gv));
    // Threads only when each gets enough rows to pay for waking it (about 64 KB of cache).
    const int64_t row_bytes = (a.k.dim * cache_dtype_bytes(a.k.dtype) * (H / a.k.group) +
                               dv * cache_dtype_bytes(a.v.dtype) * (H / a.v.group));
    const int64_t useful = std::max<int64_t>(1, T * row_bytes / 65536);
    const int nt = static_cast<int>(std::clamp<int64_t>(useful, 1, std::max(1, threads)));
    if (static_cast<int>(scratch.parts.size()) < nt) scratch.parts.resize(static_cast<size_t>(nt));
    auto range = [&](int t, int64_t& t0, int64_t& t1) {
        t0 = T * t / nt;
        t1 = T * (t + 1) / nt;
    };
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        {
            for (int t = omp_get_thread_num(); t < nt; t += omp_get_num_threads()) {  // fewer threads than asked: each takes more ranges
                int64_t t0, t1;
                range(t, t0, t1);
                attend_range(a, t0, t1, B, scratch.parts[t]);
            }
        }
    } else
#endif
    {
        for (int t = 0; t < nt; ++t) {
            int64_t t0, t1;
            range(t, t0, t1);
            attend_range(a, t0, t1, B, scratch.parts[t]);
        }
    }
    // merge the ranges
    for (int64_t h = 0; h < H; ++h) {
        float M = kNegInf;
        for (int t = 0; t < nt; ++t) M = std::max(M, scratch.parts[t].m[h]);
        float* o = a.out + h * a.out_stride;
        std::fill(o, o + dv, 0.0f);
        if (M == kNegInf) continue;  // no keys, or all masked: zeros like softmax's empty row
        float l = 0;
        for (int t = 0; t < nt; ++t) {
            const FusedScratch::Part& p = scratch.parts[t];
            if (p.m[h] == kNegInf) continue;
            const float w = std::exp(p.m[h] - M);
            l += w * p.l[h];
            const float* acc = p.acc.data() + h * dv;
            for (int64_t i = 0; i < dv; ++i) o[i] += w * acc[i];
        }
        const float inv = 1.0f / l;
        for (int64_t i = 0; i < dv; ++i) o[i] *= inv;
    }
}

}  // namespace mla
