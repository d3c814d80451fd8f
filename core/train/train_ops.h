// Training ops: the forward and backward pass of every operation of the decoder, on whole
// sequences at once, templated on the scalar (float to train, double for gradient checks;
// both are instantiated in train_ops.cpp).
//
// Shapes follow config.h, plus:
//   B = sequences in a batch      T = tokens per sequence      N = B*T rows (row r is token
//   r % T of sequence r / T)      I, O = input, output features of a linear layer
//   dq, dv = query/key and value width of one attention head   Gk = key/value heads
//
// Conventions: output first, then inputs, then weights. A backward function takes the
// gradient of the loss with respect to the forward's output (dy) and the forward's saved
// inputs; it writes (=) the input gradients and adds (+=) into the weight gradients.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "model/config.h"

namespace mla::train {

template <class S> using MatT = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S> using VecT = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S> using MRef = Eigen::Ref<MatT<S>>;
template <class S> using CMRef = Eigen::Ref<const MatT<S>>;
template <class S> using VRef = Eigen::Ref<VecT<S>>;
template <class S> using CVRef = Eigen::Ref<const VecT<S>>;

// ---- embedding: x (N, D) = table (V, D) [tokens (N)]
template <class S> void embedding_forward(MatT<S>& x, const int32_t* tokens, int64_t N, CMRef<S> table);
// dtable (V, D) += scatter of dx (N, D) by token
template <class S> void embedding_backward(MRef<S> dtable, CMRef<S> dx, const int32_t* tokens, int64_t N);

// ---- linear: y (N, O) = x (N, I) W (O, I)^T
template <class S> void linear_forward(MatT<S>& y, CMRef<S> x, CMRef<S> W);
// dx (N, I) = dy W, or += when accumulate_dx (dx may be null); dW (O, I) += dy^T x
template <class S>
void linear_backward(MatT<S>* dx, MRef<S> dW, CMRef<S> dy, CMRef<S> x, CMRef<S> W, bool accumulate_dx);

// ---- RMSNorm per row: y (N, n) = x / rms(x) * w, rstd (N) = 1 / sqrt(mean(x^2) + eps)
template <class S> void rmsnorm_forward(MRef<S> y, VRef<S> rstd, CMRef<S> x, CVRef<S> w, double eps);
// dx (N, n) = d/dx; dw (n) += d/dw
template <class S> void rmsnorm_backward(MRef<S> dx, VRef<S> dw, CMRef<S> dy, CMRef<S> x, CVRef<S> rstd, CVRef<S> w);

// ---- RoPE, in place: row r at position r % T, heads h = 0..heads-1 at columns
// col0 + h*head_stride + (0..dim-1). Pair (a, b) with frequency index i rotates by
// pos * inv_freq[i] (Config::rope_inv_freq); Interleaved: a = 2i, b = 2i+1; Half: a = i, b = i + dim/2.
// inverse = true rotates back (the transpose), which is also the backward pass.
template <class S>
void rope(MRef<S> x, int64_t T, int64_t col0, int64_t heads, int64_t head_stride, int64_t dim,
          const std::vector<float>& inv_freq, RopeLayout layout, bool inverse);

// ---- causal attention of B sequences, query head h reads key/value head h / (H / Gk):
//   q (N, H*dq), k (N, Gk*dq), v (N, Gk*dv) -> out (N, H*dv)
//   probs (B*H*T, T): block (b*H + h) holds softmax_j(scale * q_i . k_j), j <= i, zero above
template <class S>
void attention_forward(MatT<S>& out, MatT<S>& probs, CMRef<S> q, CMRef<S> k, CMRef<S> v, int64_t B, int64_t T,
                       int64_t H, int64_t Gk, int64_t dq, int64_t dv, double scale);
template <class S>
void attention_backward(MatT<S>& dq_out, MatT<S>& dk_out, MatT<S>& dv_out, CMRef<S> dout, CMRef<S> probs, CMRef<S> q,
                        CMRef<S> k, CMRef<S> v, int64_t B, int64_t T, int64_t H, int64_t Gk, int64_t dq, int64_t dv,
                        double scale);

// ---- SwiGLU: act (N, F) = silu(gate) * up, silu(g) = g * sigmoid(g)
template <class S> void swiglu_forward(MatT<S>& act, CMRef<S> gate, CMRef<S> up);
template <class S> void swiglu_backward(MatT<S>& dgate, MatT<S>& dup, CMRef<S> dact, CMRef<S> gate, CMRef<S> up);

// ---- cross-entropy: mean over the N rows of -log softmax(logits (N, V))[target];
// when dlogits is given it is set to (softmax - onehot) / N.
template <class S> S cross_entropy(MatT<S>* dlogits, CMRef<S> logits, const int32_t* targets);

}  // namespace mla::train
