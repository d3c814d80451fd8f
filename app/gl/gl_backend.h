// The GPU backend: the Backend interface (core/model/backend.h) on OpenGL 4.3 compute shaders.
//
// Every Buf is a shader storage buffer; every operation is one dispatch of the shader
// named after it (shaders/<op>.comp), followed by a storage barrier. Nothing is read back
// between operations: read() is the only wait. Semantics are those of CpuBackend
// (core/model/cpu_backend.cpp), the reference the tests hold this backend to.
//
// Needs a GL 4.3 context current on the calling thread for its whole life (the window's,
// or the hidden one of gl::ensure_context()); every call must come from that thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/backend.h"
#include "model/rope.h"

namespace mla::gl {

// Compiles and links one compute shader; throws std::runtime_error with the file name
// and the compiler's (or linker's) log, which names the line. Returns the program name.
unsigned compile_compute(const std::string& file, const char* source);

class GlBackend : public Backend {
public:
    // Makes sure a context exists (ensure_context) and compiles every shader.
    // Throws mla::InputError when no GL 4.3 context can be had (the message says why),
    // std::runtime_error when a shader fails to compile.
    GlBackend();
    ~GlBackend() override;
    GlBackend(const GlBackend&) = delete;
    GlBackend& operator=(const GlBackend&) = delete;

    std::string name() const override { return "gpu"; }
    std::string device() const override;  // GL_RENDERER, OpenGL GL_VERSION

    Buf create(int64_t n, const float* init = nullptr) override;
    void resize(Buf& b, int64_t n) override;
    void release(Buf& b) override;
    void write(View dst, const float* src, int64_t n) override;
    void read(View src, float* dst, int64_t n) override;
    void copy(View dst, View src, int64_t n) override;
    void copy_rows(View dst, int64_t dst_stride, View src, int64_t src_stride, int64_t rows, int64_t cols) override;
    void finish() override;
    void store_rows(View dst, CacheDtype d, int64_t dst_stride, View src, int64_t src_stride, int64_t rows,
                    int64_t cols) override;
    void load_rows(View dst, int64_t dst_stride, View src, CacheDtype d, int64_t src_stride, int64_t rows,
                   int64_t cols) override;
    void attend(const AttendArgs& a) override;
    int64_t dispatch_count() const override { return dispatches_; }

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

    int64_t dispatches() const { return dispatches_; }  // compute dispatches so far
    int64_t readbacks() const { return readbacks_; }    // read() calls so far (each one waits for the GPU)
    int64_t live_buffers() const;                        // created and not released

private:
    enum Op { kCopy, kCopyRows, kEmbed, kMatvec, kMatmul, kRmsnorm, kRope, kAttnScores, kSoftmax, kAttnValues,
              kAbsorbQuery, kLatentOutput, kSwiglu, kAdd, kStoreRows, kLoadRows, kAttend, kAttendMerge, kOpCount };
    struct Program {
        const char* file = nullptr;
        unsigned name = 0;
        std::unordered_map<std::string, int> uniforms;
    };
    struct Entry {
        unsigned name = 0;  // GL buffer name, 0 = free slot
        int64_t size = 0;   // elements
    };
    struct RopeTable {
        unsigned name = 0;
        int64_t positions = 0;  // rows held: positions 0..positions-1
    };

    Program& use(Op op);
    void uniform(Op op, const char* name, int64_t value);  // as uint; checks the range
    void uniform_f(Op op, const char* name, float value);
    // Binds elements [v.off, v.off + n) of v's buffer to `slot` (a range starting at an
    // aligned offset) and returns v's element offset inside the bound range.
    int64_t bind(int slot, View v, int64_t n);
    int64_t bind_name(int slot, unsigned buffer, int64_t off, int64_t n);
    // Binds the words holding elements [v.off, v.off + n) of dtype d; returns v.off's element
    // index inside the bound range (in units of d).
    int64_t bind_typed(int slot, View v, CacheDtype d, int64_t n);
    unsigned partials(int64_t n);  // attend's per-block results, at least n floats
    void dispatch(int64_t groups_x, int64_t groups_y = 1);  // 1D counts above 65535 fold into y
    void dispatch_linear(int64_t groups);
    void barrier_for_buffer_api();
    const Entry& entry(const Buf& b) const;
    void check_view(View v, int64_t n) const;
    unsigned new_buffer(int64_t n, const float* init, bool zero);
    unsigned scratch(int64_t n);  // a staging buffer of at least n elements
    const RopeTable& rope_table(const std::vector<float>& inv_freq, int64_t positions);

    Program programs_[kOpCount];
    std::vector<Entry> bufs_;
    std::vector<int> free_;
    unsigned scratch_ = 0;
    int64_t scratch_size_ = 0;
    unsigned partials_ = 0;
    int64_t partials_size_ = 0;
    std::map<std::vector<float>, RopeTable> rope_tables_;  // by frequency list: on the GPU
    RopeTables rope_host_;                                            // the same tables on the host
    int64_t align_ = 1;            // GL_SHADER_STORAGE_BUFFER_OFFSET_ALIGNMENT, in elements
    int64_t max_block_ = 0;        // GL_MAX_SHADER_STORAGE_BLOCK_SIZE, in elements
    bool shader_writes_pending_ = false;
    int64_t dispatches_ = 0;
    int64_t readbacks_ = 0;
    std::string device_;
};

}  // namespace mla::gl
