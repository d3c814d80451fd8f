// The reference backend: plain loops and Eigen on host memory. Every other backend is
// checked against this one.
#pragma once

#include <memory>
#include <vector>

#include "model/backend.h"
#include "model/fused_attention.h"
#include "model/rope.h"

namespace mla {

class CpuBackend : public Backend {
public:
    explicit CpuBackend(int threads = 0);  // 0 = Eigen's default
    std::string name() const override { return "cpu"; }
    std::string device() const override;

    Buf create(int64_t n, const float* init = nullptr) override;
    Buf create_const(int64_t n, const float* data) override;   // the caller's memory, not a copy
    void resize(Buf& b, int64_t n) override;
    void release(Buf& b) override;
    void write(View dst, const float* src, int64_t n) override;
    void read(View src, float* dst, int64_t n) override;
    void copy(View dst, View src, int64_t n) override;
    void copy_rows(View dst, int64_t dst_stride, View src, int64_t src_stride, int64_t rows, int64_t cols) override;

    void store_rows(View dst, CacheDtype d, int64_t dst_stride, View src, int64_t src_stride, int64_t rows,
                    int64_t cols) override;
    void load_rows(View dst, int64_t dst_stride, View src, CacheDtype d, int64_t src_stride, int64_t rows,
                   int64_t cols) override;
    void attend(const AttendArgs& a) override;

    void embed(View x, View table, int64_t token, int64_t D) override;
    void matvec(View y, View x, View W, int64_t N, int64_t K, bool accumulate = false) override;
    void matmul(View Y, View X, View W, int64_t M, int64_t N, int64_t K, int64_t x_stride) override;
    void rmsnorm(View y, View x, View w, int64_t n, float eps) override;
    void rope(View x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride, int64_t dim,
              int64_t pos0, const std::vector<float>& inv_freq, RopeLayout layout) override;
    void attn_scores(View scores, View q, View k, int64_t H, int64_t T, int64_t dim, int64_t q_stride,
                     int64_t k_row_stride, int64_t k_head_stride, int64_t group, bool accumulate) override;
    void softmax(View x, int64_t R, int64_t n, float scale) override;
    void attn_values(View out, View p, View v, int64_t H, int64_t T, int64_t dim, int64_t out_stride,
                     int64_t v_row_stride, int64_t v_head_stride, int64_t group) override;
    void absorb_query(View q_absorbed, View q, View kv_b, int64_t H, int64_t Dn, int64_t Dv, int64_t C,
                      int64_t q_stride, int64_t out_stride) override;
    void latent_output(View out, View o_latent, View kv_b, int64_t H, int64_t Dn, int64_t Dv, int64_t C) override;
    void swiglu(View out, View gate, View up, int64_t n) override;
    void add(View y, View x, int64_t n) override;

    // Host pointer of a view (for tests and the trace); checks that n elements fit.
    float* ptr(View v, int64_t n);
    // Base of a buffer holding elements of d, checked to hold elements [first, first + n).
    void* typed_base(View v, CacheDtype d, int64_t first, int64_t n);
    int threads() const { return threads_; }

private:
    int threads_ = 1;
    FusedScratch fused_;
    RopeTables rope_;  // (cos, sin) per position, per frequency list
    // A buffer's elements: its own, or (create_const) the caller's, read-only.
    struct Storage {
        std::vector<float> own;
        const float* borrowed = nullptr;
        int64_t borrowed_n = 0;
        float* data() { return borrowed ? const_cast<float*>(borrowed) : own.data(); }
        int64_t size() const { return borrowed ? borrowed_n : static_cast<int64_t>(own.size()); }
    };
    std::vector<Storage> bufs_;
    std::vector<int> free_;
};

}  // namespace mla
