// The backend interface: the forward step (model.cpp) is written once against it.
// The CPU backend (cpu_backend.cpp, Eigen) is the reference; the GL backend (app/gl/)
// implements the same calls with one compute shader per operation.
//
// Memory: a Buf is a float32 array owned by the backend (host memory or a GPU buffer).
// A View is a Buf plus an element offset. Matrices are row-major, weights (out, in)
// like PyTorch's nn.Linear. Every operation is enqueued in order; read() waits for
// all earlier operations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/cache_dtype.h"
#include "model/config.h"

namespace mla {

struct Buf {
    int id = -1;        // backend's handle; -1 = none
    int64_t size = 0;   // elements
};

struct View {
    Buf buf;
    int64_t off = 0;    // elements
    View at(int64_t delta) const { return View{buf, off + delta}; }
};
inline View view(const Buf& b, int64_t off = 0) { return View{b, off}; }

// A cache-like operand of attend(): element (j, g, i) of a (T, groups, dim) tensor is at
// v.off + j*row_stride + g*head_stride + i, counted in elements of `dtype` (a bf16 operand's
// element e is the 16 bits at byte 2 e of the buffer); query head h reads group h / group.
struct KvOperand {
    View v;
    int64_t row_stride = 0, head_stride = 0, dim = 0, group = 1;
    CacheDtype dtype = CacheDtype::F32;
};

// One decode step's attention for all heads:
//   att_scores_hj = q_h[0, k.dim) . k_{j, h/k.group} + q_h[k.dim, k.dim + k2.dim) . k2_{j, h/k2.group}
//   att_probs_h   = softmax(scale * att_scores_h)
//   out_h         = sum_j att_probs_hj v_{j, h/v.group}
// k2.dim = 0: no second key part (recompute MLA scores its rebuilt K_nope and the cached
// k_rope, two tensors). `scores` (H, T), when given, receives att_scores for the trace.
struct AttendArgs {
    int64_t H = 0, T = 0;
    View q;
    int64_t q_stride = 0;
    KvOperand k, k2, v;
    View out;
    int64_t out_stride = 0;
    float scale = 1;
    View scores{};  // buf.id -1: not wanted
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;    // "cpu" or "gpu"
    virtual std::string device() const = 0;  // e.g. "Eigen 3.4 (2 threads, AVX2)" or GL_RENDERER

    // ---- memory
    virtual Buf create(int64_t n, const float* init = nullptr) = 0;  // zeros when init is null
    // A buffer that is only read (weights), holding data's n elements: a copy on the GPU; on
    // the CPU the caller's memory itself, which must outlive the buffer and stay unchanged
    // (the decoder keeps its shared_ptr<const Weights>), so weights are not held twice.
    virtual Buf create_const(int64_t n, const float* data) { return create(n, data); }
    virtual void resize(Buf& b, int64_t n) = 0;  // keeps the first min(old, n) elements; new ones are zero
    virtual void release(Buf& b) = 0;
    virtual void write(View dst, const float* src, int64_t n) = 0;
    virtual void read(View src, float* dst, int64_t n) = 0;          // waits for the queue
    virtual void copy(View dst, View src, int64_t n) = 0;            // dst[i] = src[i]
    // dst[r*dst_stride + c] = src[r*src_stride + c] for r < rows, c < cols (src_stride 0 repeats one row).
    // Source and destination rows must not overlap.
    virtual void copy_rows(View dst, int64_t dst_stride, View src, int64_t src_stride, int64_t rows,
                           int64_t cols) = 0;
    virtual void finish() {}                                         // wait for the queue
    // Cache rows in a stored dtype (offsets and strides of `dst`/`src` count its elements):
    // store_rows rounds float32 rows to d (nearest even), load_rows widens them back.
    virtual void store_rows(View dst, CacheDtype d, int64_t dst_stride, View src, int64_t src_stride, int64_t rows,
                            int64_t cols) = 0;
    virtual void load_rows(View dst, int64_t dst_stride, View src, CacheDtype d, int64_t src_stride, int64_t rows,
                           int64_t cols) = 0;

    // ---- operations (output first, then inputs, then weights)

    // x (D) = table[token] (V, D)
    virtual void embed(View x, View table, int64_t token, int64_t D) = 0;
    // y (N) = W (N, K) x (K); accumulate: y += W x. y must not alias x.
    virtual void matvec(View y, View x, View W, int64_t N, int64_t K, bool accumulate = false) = 0;
    // Y (M, N) = X (M, K) W (N, K)^T; row m of X starts at X[m*x_stride], rows of Y are contiguous
    virtual void matmul(View Y, View X, View W, int64_t M, int64_t N, int64_t K, int64_t x_stride) = 0;
    // y (n) = x / rms(x) * w, rms(x) = sqrt(mean(x^2) + eps); y may equal x
    virtual void rmsnorm(View y, View x, View w, int64_t n, float eps) = 0;
    // In place, rows r = 0..rows-1 at position pos0 + r, heads h = 0..heads-1:
    // rotate x[r*row_stride + h*head_stride + (0..dim-1)] by RoPE: pair i turns by the angle
    // (pos0 + r) * inv_freq[i] (dim/2 entries, Config::rope_inv_freq), pairs as `layout` says.
    virtual void rope(View x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride,
                      int64_t dim, int64_t pos0, const std::vector<float>& inv_freq, RopeLayout layout) = 0;
    // scores (H, T) (+)= q_h . k_{j, h/group}, with
    //   q_h      = q[h*q_stride + (0..dim-1)]
    //   k_{j,g}  = k[j*k_row_stride + g*k_head_stride + (0..dim-1)]
    // group = query heads per KV head (1 = MHA, H = MQA and MLA's shared latent).
    virtual void attn_scores(View scores, View q, View k, int64_t H, int64_t T, int64_t dim,
                             int64_t q_stride, int64_t k_row_stride, int64_t k_head_stride,
                             int64_t group, bool accumulate) = 0;
    // Row-wise softmax of (scale * x) over rows (R, n), in place; scale > 0. -infinity entries
    // get weight 0, and a row that is all -infinity becomes all zeros.
    virtual void softmax(View x, int64_t R, int64_t n, float scale) = 0;
    // out_h (dim) = sum_j p[h, j] v_{j, h/group}, out_h at out[h*out_stride],
    // v_{j,g} = v[j*v_row_stride + g*v_head_stride + (0..dim-1)]; p is (H, T).
    virtual void attn_values(View out, View p, View v, int64_t H, int64_t T, int64_t dim,
                             int64_t out_stride, int64_t v_row_stride, int64_t v_head_stride,
                             int64_t group) = 0;
    // Fused decode attention (AttendArgs): scores, softmax and weighted sum in one pass over
    // the cache, reading the stored dtype directly. Equal to attn_scores + softmax +
    // attn_values on the widened cache (the reference), up to float rounding.
    virtual void attend(const AttendArgs& a) = 0;
    // Dispatches (GPU) or kernel launches issued so far, for the bench; 0 = not counted.
    virtual int64_t dispatch_count() const { return 0; }
    // MLA absorption, kv_b (H*(Dn+Dv), C) holds W_UK,h (Dn, C) then W_UV,h (Dv, C) for head h.
    // q_absorbed_h (C) = W_UK,h^T q_nope_h (Dn), q_nope_h at q[h*q_stride], q_absorbed_h at
    // q_absorbed[h*out_stride] (out_stride >= C leaves room for the RoPE part after it)
    virtual void absorb_query(View q_absorbed, View q, View kv_b, int64_t H, int64_t Dn, int64_t Dv,
                              int64_t C, int64_t q_stride, int64_t out_stride) = 0;
    // out_h (Dv) = W_UV,h o_latent_h (C); out is (H, Dv), o_latent is (H, C)
    virtual void latent_output(View out, View o_latent, View kv_b, int64_t H, int64_t Dn, int64_t Dv,
                               int64_t C) = 0;
    // out (n) = silu(gate) * up
    virtual void swiglu(View out, View gate, View up, int64_t n) = 0;
    // y (n) += x (n)
    virtual void add(View y, View x, int64_t n) = 0;
};

}  // namespace mla
