#include "model/cpu_backend.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "base/check.h"
#include "model/tensor.h"

namespace mla {

namespace {
using Stride = Eigen::OuterStride<>;
using SMap = Eigen::Map<Mat, 0, Stride>;              // row-major matrix with a row stride
using CSMap = Eigen::Map<const Mat, 0, Stride>;
// f(lo, hi) over [0, n) in `nt` contiguous parts (one per thread), in parallel.
template <class F>
void parallel_parts(int64_t n, int nt, F f) {
#ifdef _OPENMP
    if (nt > 1) {
#pragma omp parallel num_threads(nt)
        f(n * omp_get_thread_num() / omp_get_num_threads(), n * (omp_get_thread_num() + 1) / omp_get_num_threads());
        return;
    }
#endif
    (void)nt;
    f(int64_t{0}, n);
}
}  // namespace

CpuBackend::CpuBackend(int threads) {
    if (threads > 0) Eigen::setNbThreads(threads);
    threads_ = std::max(1, Eigen::nbThreads());
}

namespace {
// Products smaller than this (multiply-adds) run on one thread: waking the others costs more.
constexpr int64_t kThreadedWork = int64_t{1} << 17;

// f(lo, hi) over [0, n) in `nt` contiguous parts, aligned to 16 rows, in parallel.
template <class F>
void parallel_rows(int64_t n, int nt, F f) {
#ifdef _OPENMP
    if (nt > 1 && n >= 32) {
#pragma omp parallel num_threads(nt)
        {
            const int t = omp_get_thread_num(), T = omp_get_num_threads();
            const int64_t lo = (n * t / T) / 16 * 16, hi = t + 1 == T ? n : (n * (t + 1) / T) / 16 * 16;
            if (hi > lo) f(lo, hi);
        }
        return;
    }
#endif
    (void)nt;
    f(int64_t{0}, n);
}
}  // namespace

std::string CpuBackend::device() const {
    std::string s = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION) + ", " + std::to_string(Eigen::nbThreads()) + " thread(s), " +
                    Eigen::SimdInstructionSetsInUse();
    return s;
}

Buf CpuBackend::create(int64_t n, const float* init) {
    MLA_CHECK(n >= 0);
    int id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        id = static_cast<int>(bufs_.size());
        bufs_.emplace_back();
    }
    bufs_[id] = Storage{};
    bufs_[id].own.assign(static_cast<size_t>(n), 0.0f);
    if (init && n > 0) std::memcpy(bufs_[id].own.data(), init, static_cast<size_t>(n) * sizeof(float));
    return Buf{id, n};
}

Buf CpuBackend::create_const(int64_t n, const float* data) {
    MLA_CHECK(n >= 0 && (data || n == 0));
    Buf b = create(0);
    bufs_[b.id].borrowed = data;
    bufs_[b.id].borrowed_n = n;
    b.size = n;
    return b;
}

void CpuBackend::resize(Buf& b, int64_t n) {
    MLA_CHECK(b.id >= 0 && b.id < static_cast<int>(bufs_.size()) && n >= 0 && !bufs_[b.id].borrowed);
    bufs_[b.id].own.resize(static_cast<size_t>(n), 0.0f);
    b.size = n;
}

void CpuBackend::release(Buf& b) {
    if (b.id < 0) return;
    MLA_CHECK(b.id < static_cast<int>(bufs_.size()));
    bufs_[b.id] = Storage{};
    free_.push_back(b.id);
    b = Buf{};
}

float* CpuBackend::ptr(View v, int64_t n) {
    MLA_CHECK(v.buf.id >= 0 && v.buf.id < static_cast<int>(bufs_.size()));
    auto& b = bufs_[v.buf.id];
    MLA_CHECK(v.off >= 0 && n >= 0 && v.off + n <= static_cast<int64_t>(b.size()));
    return b.data() + v.off;
}

void CpuBackend::write(View dst, const float* src, int64_t n) {
    if (n > 0) std::memcpy(ptr(dst, n), src, static_cast<size_t>(n) * sizeof(float));
}

void CpuBackend::read(View src, float* dst, int64_t n) {
    if (n > 0) std::memcpy(dst, ptr(src, n), static_cast<size_t>(n) * sizeof(float));
}

void CpuBackend::copy(View dst, View src, int64_t n) {
    if (n > 0) std::memmove(ptr(dst, n), ptr(src, n), static_cast<size_t>(n) * sizeof(float));
}

void CpuBackend::copy_rows(View dst, int64_t dst_stride, View src, int64_t src_stride, int64_t rows, int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    float* d = ptr(dst, (rows - 1) * dst_stride + cols);
    const float* s = ptr(src, (rows - 1) * src_stride + cols);
    for (int64_t r = 0; r < rows; ++r) std::memmove(d + r * dst_stride, s + r * src_stride, cols * sizeof(float));
}

void* CpuBackend::typed_base(View v, CacheDtype d, int64_t first, int64_t n) {
    MLA_CHECK(v.buf.id >= 0 && v.buf.id < static_cast<int>(bufs_.size()));
    auto& b = bufs_[v.buf.id];
    MLA_CHECK(first >= 0 && n >= 0 &&
              (first + n) * cache_dtype_bytes(d) <= static_cast<int64_t>(b.size()) * static_cast<int64_t>(sizeof(float)));
    return b.data();
}

void CpuBackend::store_rows(View dst, CacheDtype d, int64_t dst_stride, View src, int64_t src_stride, int64_t rows,
                            int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    void* base = typed_base(dst, d, dst.off, (rows - 1) * dst_stride + cols);
    const float* s = ptr(src, (rows - 1) * src_stride + cols);
    for (int64_t r = 0; r < rows; ++r) encode_elements(base, d, dst.off + r * dst_stride, s + r * src_stride, cols);
}

void CpuBackend::load_rows(View dst, int64_t dst_stride, View src, CacheDtype d, int64_t src_stride, int64_t rows,
                           int64_t cols) {
    if (rows <= 0 || cols <= 0) return;
    const void* base = typed_base(src, d, src.off, (rows - 1) * src_stride + cols);
    float* o = ptr(dst, (rows - 1) * dst_stride + cols);
    for (int64_t r = 0; r < rows; ++r) decode_elements(o + r * dst_stride, base, d, src.off + r * src_stride, cols);
}

namespace {
// One past the last element an operand's kernel reads.
int64_t operand_extent(const KvOperand& o, int64_t H, int64_t T) {
    if (T == 0 || o.dim == 0) return 0;
    return (T - 1) * o.row_stride + (H / o.group - 1) * o.head_stride + o.dim;
}
}  // namespace

void CpuBackend::attend(const AttendArgs& a) {
    MLA_CHECK(a.H > 0 && a.T >= 0);
    FusedArgs f;
    f.H = a.H;
    f.T = a.T;
    f.q = ptr(a.q, (a.H - 1) * a.q_stride + a.k.dim + a.k2.dim);
    f.q_stride = a.q_stride;
    auto raw = [&](const KvOperand& o) {
        KvRaw r;
        r.first = o.v.off;
        r.row_stride = o.row_stride;
        r.head_stride = o.head_stride;
        r.dim = o.dim;
        r.group = o.group;
        r.dtype = o.dtype;
        if (o.dim > 0) r.base = typed_base(o.v, o.dtype, o.v.off, operand_extent(o, a.H, a.T));
        return r;
    };
    f.k = raw(a.k);
    f.k2 = raw(a.k2);
    f.v = raw(a.v);
    f.out = ptr(a.out, (a.H - 1) * a.out_stride + a.v.dim);
    f.out_stride = a.out_stride;
    f.scale = a.scale;
    f.scores = a.scores.buf.id >= 0 ? ptr(a.scores, a.H * a.T) : nullptr;
    fused_attention(f, threads_, fused_);
}

// x (D) = table[token]
void CpuBackend::embed(View x, View table, int64_t token, int64_t D) {
    std::memcpy(ptr(x, D), ptr(table.at(token * D), D), D * sizeof(float));
}

// y (N) = W (N, K) x (K); rows split across the threads when the product is large (Eigen's
// matrix-vector product runs on one thread).
void CpuBackend::matvec(View y, View x, View W, int64_t N, int64_t K, bool accumulate) {
    float* ys = ptr(y, N);
    const float* ws = ptr(W, N * K);
    const float* xs = ptr(x, K);
    parallel_rows(N, N * K >= kThreadedWork ? threads_ : 1, [&](int64_t lo, int64_t hi) {
        VecMap yv(ys + lo, hi - lo);
        CMatMap w(ws + lo * K, hi - lo, K);
        CVecMap xv(xs, K);
        if (accumulate) yv.noalias() += w * xv;
        else yv.noalias() = w * xv;
    });
}

// Y (M, N) = X (M, K) W (N, K)^T
void CpuBackend::matmul(View Y, View X, View W, int64_t M, int64_t N, int64_t K, int64_t x_stride) {
    if (M == 0) return;
    MatMap y(ptr(Y, M * N), M, N);
    CSMap x(ptr(X, (M - 1) * x_stride + K), M, K, Stride(x_stride));
    CMatMap w(ptr(W, N * K), N, K);
    y.noalias() = x * w.transpose();
}

// y = x / sqrt(mean(x^2) + eps) * w
void CpuBackend::rmsnorm(View y, View x, View w, int64_t n, float eps) {
    const float* xs = ptr(x, n);
    const float* ws = ptr(w, n);
    float* ys = ptr(y, n);
    float ss = 0.0f;
    for (int64_t i = 0; i < n; ++i) ss += xs[i] * xs[i];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    for (int64_t i = 0; i < n; ++i) ys[i] = xs[i] * inv * ws[i];
}

// Pair (a, b) of a head at position pos with frequency index i rotates by angle
// pos * inv_freq[i]. Interleaved: a = 2i, b = 2i+1. Half: a = i, b = i + dim/2.
void CpuBackend::rope(View x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride, int64_t dim,
                      int64_t pos0, const std::vector<float>& inv_freq, RopeLayout layout) {
    if (rows <= 0 || heads <= 0) return;
    MLA_CHECK(dim % 2 == 0 && static_cast<int64_t>(inv_freq.size()) == dim / 2);
    float* base = ptr(x, (rows - 1) * row_stride + (heads - 1) * head_stride + dim);
    const int64_t half = dim / 2;
    const RopeTable& table = rope_.get(inv_freq, pos0 + rows);
    for (int64_t r = 0; r < rows; ++r) {
        const float* cs = table.row(pos0 + r);
        for (int64_t i = 0; i < half; ++i) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const int64_t a = layout == RopeLayout::Interleaved ? 2 * i : i;
            const int64_t b = layout == RopeLayout::Interleaved ? 2 * i + 1 : i + half;
            for (int64_t h = 0; h < heads; ++h) {
                float* v = base + r * row_stride + h * head_stride;
                const float x0 = v[a], x1 = v[b];
                v[a] = x0 * c - x1 * s;
                v[b] = x0 * s + x1 * c;
            }
        }
    }
}

// scores (H, T) (+)= q_h . k_{j, h/group}; one GEMM per KV head: Q_g (group, dim) K_g (T, dim)^T
void CpuBackend::attn_scores(View scores, View q, View k, int64_t H, int64_t T, int64_t dim, int64_t q_stride,
                             int64_t k_row_stride, int64_t k_head_stride, int64_t group, bool accumulate) {
    MLA_CHECK(group > 0 && H % group == 0);
    if (T == 0) return;
    MatMap s(ptr(scores, H * T), H, T);
    const int64_t G = H / group;
    for (int64_t g = 0; g < G; ++g) {
        CSMap qg(ptr(q.at(g * group * q_stride), (group - 1) * q_stride + dim), group, dim, Stride(q_stride));
        CSMap kg(ptr(k.at(g * k_head_stride), (T - 1) * k_row_stride + dim), T, dim, Stride(k_row_stride));
        if (group == 1) {  // one query head per KV head: a matrix-vector product, no GEMM buffers
            VecMap sg(s.row(g).data(), T);
            CVecMap qv(qg.data(), dim);
            if (accumulate) sg.noalias() += kg * qv;
            else sg.noalias() = kg * qv;
            continue;
        }
        if (accumulate) s.middleRows(g * group, group).noalias() += qg * kg.transpose();
        else s.middleRows(g * group, group).noalias() = qg * kg.transpose();
    }
}

// Row-wise softmax of scale * x; the max is subtracted first, so -inf entries give 0.
void CpuBackend::softmax(View x, int64_t R, int64_t n, float scale) {
    float* p = ptr(x, R * n);
    for (int64_t r = 0; r < R; ++r) {
        float* row = p + r * n;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < n; ++j) mx = std::max(mx, scale * row[j]);
        if (mx == -std::numeric_limits<float>::infinity()) {  // every key masked: no weight anywhere
            std::fill(row, row + n, 0.0f);
            continue;
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < n; ++j) {
            row[j] = std::exp(scale * row[j] - mx);
            sum += row[j];
        }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < n; ++j) row[j] *= inv;
    }
}

// out_h (dim) = sum_j p[h, j] v_{j, h/group}; one GEMM per KV head: P_g (group, T) V_g (T, dim)
void CpuBackend::attn_values(View out, View p, View v, int64_t H, int64_t T, int64_t dim, int64_t out_stride,
                             int64_t v_row_stride, int64_t v_head_stride, int64_t group) {
    MLA_CHECK(group > 0 && H % group == 0);
    CMatMap pm(ptr(p, H * T), H, T);
    const int64_t G = H / group;
    for (int64_t g = 0; g < G; ++g) {
        SMap og(ptr(out.at(g * group * out_stride), (group - 1) * out_stride + dim), group, dim, Stride(out_stride));
        if (T == 0) {
            og.setZero();
            continue;
        }
        CSMap vg(ptr(v.at(g * v_head_stride), (T - 1) * v_row_stride + dim), T, dim, Stride(v_row_stride));
        if (group == 1) {  // out_g = V_g^T p_g
            VecMap ov(og.data(), dim);
            ov.noalias() = vg.transpose() * pm.row(g).transpose();
            continue;
        }
        og.noalias() = pm.middleRows(g * group, group) * vg;
    }
}

// q_absorbed_h (C) = W_UK,h^T q_nope_h; W_UK,h = kv_b rows [h (Dn+Dv), h (Dn+Dv) + Dn); heads across threads
void CpuBackend::absorb_query(View q_absorbed, View q, View kv_b, int64_t H, int64_t Dn, int64_t Dv, int64_t C,
                              int64_t q_stride, int64_t out_stride) {
    const float* w = ptr(kv_b, H * (Dn + Dv) * C);
    const float* qs = ptr(q, (H - 1) * q_stride + Dn);
    float* qa_all = ptr(q_absorbed, (H - 1) * out_stride + C);
    const int nt = H * Dn * C >= kThreadedWork ? std::min<int>(threads_, static_cast<int>(H)) : 1;
    auto heads = [&](int64_t lo, int64_t hi) {
        for (int64_t h = lo; h < hi; ++h) {
            CMatMap wuk(w + h * (Dn + Dv) * C, Dn, C);
            CVecMap qn(qs + h * q_stride, Dn);
            VecMap qa(qa_all + h * out_stride, C);
            qa.noalias() = wuk.transpose() * qn;
        }
    };
    parallel_parts(H, nt, heads);
}

// out_h (Dv) = W_UV,h o_latent_h (C); W_UV,h = kv_b rows [h (Dn+Dv) + Dn, (h+1) (Dn+Dv)); heads across threads
void CpuBackend::latent_output(View out, View o_latent, View kv_b, int64_t H, int64_t Dn, int64_t Dv, int64_t C) {
    const float* w = ptr(kv_b, H * (Dn + Dv) * C);
    const float* ol_all = ptr(o_latent, H * C);
    float* out_all = ptr(out, H * Dv);
    const int nt = H * Dv * C >= kThreadedWork ? std::min<int>(threads_, static_cast<int>(H)) : 1;
    auto heads = [&](int64_t lo, int64_t hi) {
        for (int64_t h = lo; h < hi; ++h) {
            CMatMap wuv(w + (h * (Dn + Dv) + Dn) * C, Dv, C);
            CVecMap ol(ol_all + h * C, C);
            VecMap o(out_all + h * Dv, Dv);
            o.noalias() = wuv * ol;
        }
    };
    parallel_parts(H, nt, heads);
}

// out = silu(gate) * up, silu(g) = g / (1 + exp(-g))
void CpuBackend::swiglu(View out, View gate, View up, int64_t n) {
    const float* g = ptr(gate, n);
    const float* u = ptr(up, n);
    float* o = ptr(out, n);
    for (int64_t i = 0; i < n; ++i) o[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}

void CpuBackend::add(View y, View x, int64_t n) {
    float* ys = ptr(y, n);
    const float* xs = ptr(x, n);
    for (int64_t i = 0; i < n; ++i) ys[i] += xs[i];
}

}  // namespace mla
