// Forward and backward of every decoder operation, whole sequences at once (train_ops.h).
#include "train/train_ops.h"

#include <cmath>
#include <vector>

#include "base/check.h"

namespace mla::train {

template <class S> using RowArr = Eigen::Array<S, 1, Eigen::Dynamic>;  // one row, element-wise

// ---- embedding

template <class S> void embedding_forward(MatT<S>& x, const int32_t* tokens, int64_t N, CMRef<S> table) {
    x.resize(N, table.cols());
    for (int64_t r = 0; r < N; ++r) {
        MLA_CHECK(tokens[r] >= 0 && tokens[r] < table.rows());
        x.row(r) = table.row(tokens[r]);
    }
}

template <class S> void embedding_backward(MRef<S> dtable, CMRef<S> dx, const int32_t* tokens, int64_t N) {
    MLA_CHECK(dx.rows() == N && dx.cols() == dtable.cols());
    for (int64_t r = 0; r < N; ++r) dtable.row(tokens[r]) += dx.row(r);
}

// ---- linear

template <class S> void linear_forward(MatT<S>& y, CMRef<S> x, CMRef<S> W) {
    MLA_CHECK(x.cols() == W.cols());
    y.resize(x.rows(), W.rows());
    y.noalias() = x * W.transpose();
}

template <class S>
void linear_backward(MatT<S>* dx, MRef<S> dW, CMRef<S> dy, CMRef<S> x, CMRef<S> W, bool accumulate_dx) {
    MLA_CHECK(dy.rows() == x.rows() && dy.cols() == W.rows() && x.cols() == W.cols());
    MLA_CHECK(dW.rows() == W.rows() && dW.cols() == W.cols());
    dW.noalias() += dy.transpose() * x;
    if (!dx) return;
    if (accumulate_dx) {
        MLA_CHECK(dx->rows() == x.rows() && dx->cols() == x.cols());
        dx->noalias() += dy * W;
    } else {
        dx->resize(x.rows(), x.cols());
        dx->noalias() = dy * W;
    }
}

// ---- RMSNorm

template <class S> void rmsnorm_forward(MRef<S> y, VRef<S> rstd, CMRef<S> x, CVRef<S> w, double eps) {
    const int64_t N = x.rows(), n = x.cols();
    MLA_CHECK(y.rows() == N && y.cols() == n && rstd.size() == N && w.size() == n);
    for (int64_t r = 0; r < N; ++r) {
        S ss = 0;
        for (int64_t i = 0; i < n; ++i) ss += x(r, i) * x(r, i);
        const S inv = S(1) / std::sqrt(ss / static_cast<S>(n) + static_cast<S>(eps));
        rstd(r) = inv;
        for (int64_t i = 0; i < n; ++i) y(r, i) = x(r, i) * inv * w(i);
    }
}

// y_i = w_i x_i r  =>  dx_i = r (w_i dy_i - xhat_i mean_j(w_j dy_j xhat_j)), xhat = x r; dw_i += dy_i xhat_i
template <class S> void rmsnorm_backward(MRef<S> dx, VRef<S> dw, CMRef<S> dy, CMRef<S> x, CVRef<S> rstd, CVRef<S> w) {
    const int64_t N = x.rows(), n = x.cols();
    MLA_CHECK(dx.rows() == N && dx.cols() == n && dy.rows() == N && dy.cols() == n && dw.size() == n);
    for (int64_t r = 0; r < N; ++r) {
        const S inv = rstd(r);
        S dot = 0;
        for (int64_t i = 0; i < n; ++i) {
            const S xhat = x(r, i) * inv;
            dw(i) += dy(r, i) * xhat;
            dot += w(i) * dy(r, i) * xhat;
        }
        const S mean = dot / static_cast<S>(n);
        for (int64_t i = 0; i < n; ++i) dx(r, i) = inv * (w(i) * dy(r, i) - x(r, i) * inv * mean);
    }
}

// ---- RoPE (same angles as CpuBackend::rope: float inverse frequencies, double angles)

template <class S>
void rope(MRef<S> x, int64_t T, int64_t col0, int64_t heads, int64_t head_stride, int64_t dim,
          const std::vector<float>& inv_freq_list, RopeLayout layout, bool inverse) {
    MLA_CHECK(dim % 2 == 0 && T > 0 && x.rows() % T == 0 && static_cast<int64_t>(inv_freq_list.size()) == dim / 2);
    MLA_CHECK(col0 + (heads - 1) * head_stride + dim <= x.cols());
    const int64_t half = dim / 2;
    // cos, sin (T, half)
    std::vector<S> cs(static_cast<size_t>(T * half)), sn(static_cast<size_t>(T * half));
    for (int64_t i = 0; i < half; ++i) {
        const double inv_freq = static_cast<double>(inv_freq_list[static_cast<size_t>(i)]);
        for (int64_t t = 0; t < T; ++t) {
            const double angle = static_cast<double>(t) * inv_freq;
            cs[t * half + i] = static_cast<S>(std::cos(angle));
            sn[t * half + i] = static_cast<S>(inverse ? -std::sin(angle) : std::sin(angle));
        }
    }
    for (int64_t r = 0; r < x.rows(); ++r) {
        const int64_t t = r % T;
        for (int64_t h = 0; h < heads; ++h) {
            S* v = &x(r, col0 + h * head_stride);
            for (int64_t i = 0; i < half; ++i) {
                const int64_t a = layout == RopeLayout::Interleaved ? 2 * i : i;
                const int64_t b = layout == RopeLayout::Interleaved ? 2 * i + 1 : i + half;
                const S c = cs[t * half + i], s = sn[t * half + i];
                const S x0 = v[a], x1 = v[b];
                v[a] = x0 * c - x1 * s;
                v[b] = x0 * s + x1 * c;
            }
        }
    }
}

// ---- causal attention

template <class S>
void attention_forward(MatT<S>& out, MatT<S>& probs, CMRef<S> q, CMRef<S> k, CMRef<S> v, int64_t B, int64_t T,
                       int64_t H, int64_t Gk, int64_t dq, int64_t dv, double scale) {
    const int64_t N = B * T;
    MLA_CHECK(Gk > 0 && H % Gk == 0);
    MLA_CHECK(q.rows() == N && q.cols() == H * dq && k.rows() == N && k.cols() == Gk * dq);
    MLA_CHECK(v.rows() == N && v.cols() == Gk * dv);
    const int64_t group = H / Gk;
    const S sc = static_cast<S>(scale);
    out.resize(N, H * dv);
    probs.resize(B * H * T, T);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / group;
            MRef<S> P = probs.block((b * H + h) * T, 0, T, T);  // (T, T)
            P.noalias() = q.block(b * T, h * dq, T, dq) * k.block(b * T, g * dq, T, dq).transpose();
            for (int64_t i = 0; i < T; ++i) {  // softmax over the keys j <= i, zero above
                Eigen::Map<RowArr<S>> row(P.row(i).data(), i + 1);
                const S mx = sc * row.maxCoeff();  // scale > 0
                row = (sc * row - mx).exp();
                row *= S(1) / row.sum();
                P.row(i).tail(T - i - 1).setZero();
            }
            out.block(b * T, h * dv, T, dv).noalias() = P * v.block(b * T, g * dv, T, dv);
        }
}

// Per (b, h): dP = dO V^T; dV += P^T dO; dS = scale * P * (dP - rowsum(P * dP)); dQ = dS K; dK += dS^T Q
template <class S>
void attention_backward(MatT<S>& dq_out, MatT<S>& dk_out, MatT<S>& dv_out, CMRef<S> dout, CMRef<S> probs, CMRef<S> q,
                        CMRef<S> k, CMRef<S> v, int64_t B, int64_t T, int64_t H, int64_t Gk, int64_t dq, int64_t dv,
                        double scale) {
    const int64_t N = B * T, group = H / Gk;
    MLA_CHECK(dout.rows() == N && dout.cols() == H * dv && probs.rows() == B * H * T && probs.cols() == T);
    const S sc = static_cast<S>(scale);
    dq_out.setZero(N, H * dq);
    dk_out.setZero(N, Gk * dq);
    dv_out.setZero(N, Gk * dv);
    MatT<S> dP(T, T);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / group;
            const CMRef<S> P = probs.block((b * H + h) * T, 0, T, T);  // (T, T)
            const CMRef<S> dO = dout.block(b * T, h * dv, T, dv);     // (T, dv)
            dP.noalias() = dO * v.block(b * T, g * dv, T, dv).transpose();
            dv_out.block(b * T, g * dv, T, dv).noalias() += P.transpose() * dO;
            for (int64_t i = 0; i < T; ++i) {
                const Eigen::Map<const RowArr<S>> p(P.row(i).data(), i + 1);
                Eigen::Map<RowArr<S>> d(dP.row(i).data(), i + 1);
                const S dot = (p * d).sum();
                d = sc * p * (d - dot);
                dP.row(i).tail(T - i - 1).setZero();
            }
            dq_out.block(b * T, h * dq, T, dq).noalias() = dP * k.block(b * T, g * dq, T, dq);
            dk_out.block(b * T, g * dq, T, dq).noalias() += dP.transpose() * q.block(b * T, h * dq, T, dq);
        }
}

// ---- SwiGLU

template <class S> void swiglu_forward(MatT<S>& act, CMRef<S> gate, CMRef<S> up) {
    MLA_CHECK(gate.rows() == up.rows() && gate.cols() == up.cols());
    act.resize(gate.rows(), gate.cols());
    act.array() = gate.array() / (S(1) + (-gate.array()).exp()) * up.array();
}

// d silu(g) / dg = sigmoid(g) (1 + g (1 - sigmoid(g)))
template <class S> void swiglu_backward(MatT<S>& dgate, MatT<S>& dup, CMRef<S> dact, CMRef<S> gate, CMRef<S> up) {
    const MatT<S> sig = (S(1) / (S(1) + (-gate.array()).exp())).matrix();  // (N, F)
    dup.resize(gate.rows(), gate.cols());
    dgate.resize(gate.rows(), gate.cols());
    dup.array() = dact.array() * gate.array() * sig.array();
    dgate.array() = dact.array() * up.array() * sig.array() * (S(1) + gate.array() * (S(1) - sig.array()));
}

// ---- cross-entropy

template <class S> S cross_entropy(MatT<S>* dlogits, CMRef<S> logits, const int32_t* targets) {
    const int64_t N = logits.rows(), V = logits.cols();
    MLA_CHECK(N > 0);
    if (dlogits) dlogits->resize(N, V);
    double total = 0;
    const S invN = S(1) / static_cast<S>(N);
    for (int64_t r = 0; r < N; ++r) {
        MLA_CHECK(targets[r] >= 0 && targets[r] < V);
        const S mx = logits.row(r).maxCoeff();
        const S lse = mx + std::log((logits.row(r).array() - mx).exp().sum());
        total += static_cast<double>(lse - logits(r, targets[r]));
        if (dlogits) {
            dlogits->row(r).array() = (logits.row(r).array() - lse).exp() * invN;
            (*dlogits)(r, targets[r]) -= invN;
        }
    }
    return static_cast<S>(total / static_cast<double>(N));
}

// ---- instantiations

#define MLA_TRAIN_OPS(S)                                                                                          \
    template void embedding_forward<S>(MatT<S>&, const int32_t*, int64_t, CMRef<S>);                              \
    template void embedding_backward<S>(MRef<S>, CMRef<S>, const int32_t*, int64_t);                              \
    template void linear_forward<S>(MatT<S>&, CMRef<S>, CMRef<S>);                                                \
    template void linear_backward<S>(MatT<S>*, MRef<S>, CMRef<S>, CMRef<S>, CMRef<S>, bool);                      \
    template void rmsnorm_forward<S>(MRef<S>, VRef<S>, CMRef<S>, CVRef<S>, double);                               \
    template void rmsnorm_backward<S>(MRef<S>, VRef<S>, CMRef<S>, CMRef<S>, CVRef<S>, CVRef<S>);                  \
    template void rope<S>(MRef<S>, int64_t, int64_t, int64_t, int64_t, int64_t, const std::vector<float>&, RopeLayout, bool);        \
    template void attention_forward<S>(MatT<S>&, MatT<S>&, CMRef<S>, CMRef<S>, CMRef<S>, int64_t, int64_t,        \
                                       int64_t, int64_t, int64_t, int64_t, double);                               \
    template void attention_backward<S>(MatT<S>&, MatT<S>&, MatT<S>&, CMRef<S>, CMRef<S>, CMRef<S>, CMRef<S>,     \
                                        CMRef<S>, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, double);  \
    template void swiglu_forward<S>(MatT<S>&, CMRef<S>, CMRef<S>);                                                \
    template void swiglu_backward<S>(MatT<S>&, MatT<S>&, CMRef<S>, CMRef<S>, CMRef<S>);                           \
    template S cross_entropy<S>(MatT<S>*, CMRef<S>, const int32_t*);

MLA_TRAIN_OPS(float)
MLA_TRAIN_OPS(double)

}  // namespace mla::train
