// Every GPU operation against CpuBackend on random inputs of odd sizes and offsets
// (ggml's test-backend-ops): max |gpu - cpu| / max(1, max |cpu|) <= 1e-5 over the whole
// output buffer, so writes outside the output range are caught too.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "base/rng.h"
#include "model/cpu_backend.h"
#include "support/gl_fixture.h"

using namespace mla;

namespace {

constexpr double kTol = 1e-5;

// The same buffers on both backends; run() applies one call to each.
struct Twin {
    explicit Twin(gl::GlBackend& g, uint64_t seed = 1) : gpu(g), rng(seed) { errors_before = gl::error_count(); }
    ~Twin() {
        for (Buf& b : gb) gpu.release(b);
    }
    int add(const std::vector<float>& host) {
        cb.push_back(cpu.create(static_cast<int64_t>(host.size()), host.data()));
        gb.push_back(gpu.create(static_cast<int64_t>(host.size()), host.data()));
        return static_cast<int>(cb.size()) - 1;
    }
    int rand(int64_t n, float scale = 1.0f) {
        std::vector<float> h(static_cast<size_t>(n));
        for (auto& v : h) v = scale * rng.symmetric();
        return add(h);
    }
    template <class F>
    void run(F f) {
        f(static_cast<Backend&>(cpu), cb);
        f(static_cast<Backend&>(gpu), gb);
    }
    std::vector<float> read(Backend& be, const Buf& b) {
        std::vector<float> h(static_cast<size_t>(b.size));
        be.read(view(b), h.data(), b.size);
        return h;
    }
    std::vector<float> cpu_data(int i) { return read(cpu, cb[i]); }
    std::vector<float> gpu_data(int i) { return read(gpu, gb[i]); }
    double err(int i) { return gltest::normalised_error(gpu_data(i), cpu_data(i)); }
    bool no_new_gl_errors() { return gl::error_count() == errors_before; }

    CpuBackend cpu;
    gl::GlBackend& gpu;
    Rng rng;
    std::vector<Buf> cb, gb;
    int64_t errors_before = 0;
};

const int64_t kSizes[] = {1, 7, 33, 257};

}  // namespace

TEST_CASE("gl memory: create, write, read, resize, release", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const int64_t live = gpu->live_buffers();
    std::vector<float> init = {1, 2, 3, 4, 5, 6, 7};
    Buf a = gpu->create(7, init.data());
    Buf z = gpu->create(5);
    std::vector<float> out(7, -1.0f);
    gpu->read(view(z), out.data(), 5);
    for (int i = 0; i < 5; ++i) REQUIRE(out[i] == 0.0f);
    gpu->read(view(a, 2), out.data(), 3);
    REQUIRE(out[0] == 3.0f);
    REQUIRE(out[2] == 5.0f);
    const float w[2] = {9, 8};
    gpu->write(view(a, 5), w, 2);
    gpu->resize(a, 10);  // grows: keeps the 7, then zeros
    REQUIRE(a.size == 10);
    std::vector<float> big(10);
    gpu->read(view(a), big.data(), 10);
    REQUIRE(big == std::vector<float>{1, 2, 3, 4, 5, 9, 8, 0, 0, 0});
    gpu->resize(a, 3);  // shrinks
    gpu->read(view(a), big.data(), 3);
    REQUIRE(big[2] == 3.0f);
    REQUIRE_THROWS_AS(gpu->read(view(a, 1), big.data(), 3), std::logic_error);  // past the end
    gpu->release(a);
    REQUIRE(a.id == -1);
    gpu->release(z);
    Buf e = gpu->create(0);  // empty buffers are legal
    gpu->release(e);
    REQUIRE(gpu->live_buffers() == live);
}

TEST_CASE("gl copy and copy_rows match the CPU, overlapping views included", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (int64_t n : kSizes) {
        Twin t(*gpu, 10 + n);
        const int a = t.rand(n + 9), b = t.rand(n + 9);
        t.run([&](Backend& be, auto& B) { be.copy(view(B[b], 2), view(B[a], 5), n); });
        REQUIRE(t.err(b) == 0.0);
        // overlapping, both directions (memmove semantics)
        t.run([&](Backend& be, auto& B) { be.copy(view(B[a], 3), view(B[a], 0), n); });
        REQUIRE(t.err(a) == 0.0);
        t.run([&](Backend& be, auto& B) { be.copy(view(B[a], 0), view(B[a], 4), n); });
        REQUIRE(t.err(a) == 0.0);
        REQUIRE(t.no_new_gl_errors());
    }
    for (int64_t cols : {int64_t(1), int64_t(5), int64_t(33)}) {
        Twin t(*gpu, 20 + cols);
        const int64_t rows = 7, ds = cols + 4, ss = cols + 9;
        const int src = t.rand(3 + (rows - 1) * ss + cols), dst = t.rand(1 + (rows - 1) * ds + cols);
        t.run([&](Backend& be, auto& B) { be.copy_rows(view(B[dst], 1), ds, view(B[src], 3), ss, rows, cols); });
        REQUIRE(t.err(dst) == 0.0);
        // src_stride 0 repeats one row
        t.run([&](Backend& be, auto& B) { be.copy_rows(view(B[dst], 1), ds, view(B[src], 2), 0, rows, cols); });
        REQUIRE(t.err(dst) == 0.0);
        // rows interleaved in one buffer: the spans overlap, no row reads another's output
        const int mix = t.rand(2 * cols * rows + 1);
        t.run([&](Backend& be, auto& B) { be.copy_rows(view(B[mix], cols), 2 * cols, view(B[mix], 0), 2 * cols, rows, cols); });
        REQUIRE(t.err(mix) == 0.0);
        REQUIRE(t.no_new_gl_errors());
    }
}

TEST_CASE("gl embed, add, swiglu match the CPU", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (int64_t n : kSizes) {
        Twin t(*gpu, 30 + n);
        const int64_t V = 9;
        const int table = t.rand(V * n + 3), x = t.rand(n + 2);
        t.run([&](Backend& be, auto& B) { be.embed(view(B[x], 1), view(B[table], 3), V - 1, n); });
        REQUIRE(t.err(x) == 0.0);
        const int y = t.rand(n + 5);
        t.run([&](Backend& be, auto& B) { be.add(view(B[y], 5), view(B[x], 1), n); });
        REQUIRE(t.err(y) <= kTol);
        const int gate = t.rand(n + 1, 12.0f), up = t.rand(n + 2, 3.0f), out = t.rand(n);
        t.run([&](Backend& be, auto& B) { be.swiglu(view(B[out]), view(B[gate], 1), view(B[up], 2), n); });
        CHECK(t.err(out) <= kTol);
        t.run([&](Backend& be, auto& B) { be.swiglu(view(B[gate], 1), view(B[gate], 1), view(B[up], 2), n); });  // out = gate
        CHECK(t.err(gate) <= kTol);
        REQUIRE(t.no_new_gl_errors());
    }
}

TEST_CASE("gl matvec matches the CPU", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (int64_t N : kSizes)
        for (int64_t K : {int64_t(1), int64_t(7), int64_t(33), int64_t(257), int64_t(1031)}) {
            Twin t(*gpu, N * 1000 + K);
            const int W = t.rand(N * K + 3), x = t.rand(K + 1), y = t.rand(N + 6);
            t.run([&](Backend& be, auto& B) { be.matvec(view(B[y], 2), view(B[x], 1), view(B[W], 3), N, K); });
            INFO("N " << N << " K " << K);
            CHECK(t.err(y) <= kTol);
            t.run([&](Backend& be, auto& B) { be.matvec(view(B[y], 5), view(B[x], 1), view(B[W], 3), N, K, true); });
            CHECK(t.err(y) <= kTol);
            REQUIRE(t.no_new_gl_errors());
        }
}

TEST_CASE("gl matmul matches the CPU", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (int64_t M : {int64_t(1), int64_t(7), int64_t(33)})
        for (int64_t N : {int64_t(1), int64_t(17), int64_t(65)})
            for (int64_t K : {int64_t(1), int64_t(7), int64_t(33), int64_t(257)}) {
                Twin t(*gpu, M * 100000 + N * 1000 + K);
                const int64_t xs = K + 3;
                const int X = t.rand(2 + (M - 1) * xs + K), W = t.rand(N * K + 1), Y = t.rand(M * N + 4);
                t.run([&](Backend& be, auto& B) { be.matmul(view(B[Y], 3), view(B[X], 2), view(B[W], 1), M, N, K, xs); });
                INFO("M " << M << " N " << N << " K " << K);
                CHECK(t.err(Y) <= kTol);
                REQUIRE(t.no_new_gl_errors());
            }
}

TEST_CASE("gl rmsnorm matches the CPU, in place too", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(33), int64_t(257), int64_t(1000)}) {
        Twin t(*gpu, 40 + n);
        const int x = t.rand(n + 3, 4.0f), w = t.rand(n + 1), y = t.rand(n + 2);
        t.run([&](Backend& be, auto& B) { be.rmsnorm(view(B[y], 2), view(B[x], 3), view(B[w], 1), n, 1e-6f); });
        INFO("n " << n);
        CHECK(t.err(y) <= kTol);
        t.run([&](Backend& be, auto& B) { be.rmsnorm(view(B[x], 3), view(B[x], 3), view(B[w], 1), n, 1e-5f); });
        CHECK(t.err(x) <= kTol);
        REQUIRE(t.no_new_gl_errors());
    }
}

TEST_CASE("gl rope matches the CPU in both layouts", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (RopeLayout layout : {RopeLayout::Interleaved, RopeLayout::Half})
        for (int64_t dim : {int64_t(2), int64_t(8), int64_t(16), int64_t(64)})
            for (int64_t pos0 : {int64_t(0), int64_t(5), int64_t(1000), int64_t(4000)})
                for (float theta : {10000.0f, 500000.0f}) {
                    Twin t(*gpu, dim * 10 + pos0);
                    const int64_t rows = 3, heads = 5, hs = dim + 3, rs = heads * hs + 1;
                    const int x = t.rand(7 + (rows - 1) * rs + (heads - 1) * hs + dim);
                    t.run([&](Backend& be, auto& B) {
                        be.rope(view(B[x], 7), rows, rs, heads, hs, dim, pos0, rope_ladder(theta, dim), layout);
                    });
                    INFO("layout " << to_string(layout) << " dim " << dim << " pos0 " << pos0 << " theta " << theta);
                    CHECK(t.err(x) <= kTol);
                    REQUIRE(t.no_new_gl_errors());
                }
}

TEST_CASE("gl attn_scores matches the CPU for every grouping", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const int64_t H = 8;
    for (int64_t group : {int64_t(1), int64_t(2), int64_t(8)})
        for (int64_t T : kSizes)
            for (int64_t dim : {int64_t(1), int64_t(16), int64_t(33)}) {
                Twin t(*gpu, group * 1000 + T * 10 + dim);
                const int64_t G = H / group, qs = dim + 2, khs = dim + 1, krs = G * khs + 3;
                const int q = t.rand(1 + (H - 1) * qs + dim), k = t.rand(4 + (T - 1) * krs + (G - 1) * khs + dim);
                const int s = t.rand(H * T + 2);
                t.run([&](Backend& be, auto& B) {
                    be.attn_scores(view(B[s], 2), view(B[q], 1), view(B[k], 4), H, T, dim, qs, krs, khs, group, false);
                });
                INFO("group " << group << " T " << T << " dim " << dim);
                CHECK(t.err(s) <= kTol);
                t.run([&](Backend& be, auto& B) {
                    be.attn_scores(view(B[s], 2), view(B[q], 1), view(B[k], 4), H, T, dim, qs, krs, khs, group, true);
                });
                CHECK(t.err(s) <= kTol);
                // k_head_stride 0: one key shared by all heads (MLA's k_rope)
                t.run([&](Backend& be, auto& B) {
                    be.attn_scores(view(B[s], 2), view(B[q], 1), view(B[k], 4), H, T, dim, qs, krs, 0, H, true);
                });
                CHECK(t.err(s) <= kTol);
                REQUIRE(t.no_new_gl_errors());
            }
}

TEST_CASE("gl softmax matches the CPU, -infinity entries give 0", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const float inf = std::numeric_limits<float>::infinity();
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(33), int64_t(257), int64_t(1000)})
        for (int64_t R : {int64_t(1), int64_t(5)}) {
            Twin t(*gpu, n * 10 + R);
            std::vector<float> h(static_cast<size_t>(R * n + 3));
            for (auto& v : h) v = 20.0f * t.rng.symmetric();
            for (int64_t r = 0; r < R; ++r)  // masked entries, never a whole row (the CPU gives NaN there)
                for (int64_t j = 2; j < n; j += 3) h[static_cast<size_t>(3 + r * n + j)] = -inf;
            const int x = t.add(h);
            t.run([&](Backend& be, auto& B) { be.softmax(view(B[x], 3), R, n, 0.25f); });
            INFO("R " << R << " n " << n);
            CHECK(t.err(x) <= kTol);
            REQUIRE(t.no_new_gl_errors());
        }
    // A row that is all -infinity: zeros on the GPU (no NaN to poison what follows).
    std::vector<float> masked(9, -inf);
    Buf b = gpu->create(9, masked.data());
    gpu->softmax(view(b), 1, 9, 1.0f);
    gpu->read(view(b), masked.data(), 9);
    for (float v : masked) CHECK(v == 0.0f);
    gpu->release(b);
}

TEST_CASE("gl attn_values matches the CPU for every grouping", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const int64_t H = 8;
    for (int64_t group : {int64_t(1), int64_t(4), int64_t(8)})
        for (int64_t T : {int64_t(0), int64_t(1), int64_t(7), int64_t(33), int64_t(257)})
            for (int64_t dim : {int64_t(1), int64_t(16), int64_t(33)}) {
                Twin t(*gpu, group * 1000 + T * 10 + dim + 7);
                const int64_t G = H / group, os = dim + 3, vhs = dim + 2, vrs = G * vhs + 1;
                const int p = t.rand(H * std::max<int64_t>(T, 1) + 1);
                const int v = t.rand(2 + std::max<int64_t>(T - 1, 0) * vrs + (G - 1) * vhs + dim);
                const int o = t.rand(5 + (H - 1) * os + dim);
                t.run([&](Backend& be, auto& B) {
                    be.attn_values(view(B[o], 5), view(B[p], 1), view(B[v], 2), H, T, dim, os, vrs, vhs, group);
                });
                INFO("group " << group << " T " << T << " dim " << dim);
                CHECK(t.err(o) <= kTol);
                REQUIRE(t.no_new_gl_errors());
            }
}

TEST_CASE("gl absorb_query and latent_output match the CPU", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (int64_t H : {int64_t(1), int64_t(3)})
        for (int64_t C : kSizes) {
            Twin t(*gpu, H * 1000 + C);
            const int64_t Dn = 7, Dv = 5, Dr = 3, qs = Dn + Dr, os = C + Dr;
            const int kv_b = t.rand(H * (Dn + Dv) * C + 1), q = t.rand(2 + (H - 1) * qs + Dn + Dr);
            const int qa = t.rand(3 + (H - 1) * os + C + Dr);
            t.run([&](Backend& be, auto& B) {
                be.absorb_query(view(B[qa], 3), view(B[q], 2), view(B[kv_b], 1), H, Dn, Dv, C, qs, os);
            });
            INFO("H " << H << " C " << C);
            CHECK(t.err(qa) <= kTol);
            const int ol = t.rand(H * C + 2), out = t.rand(H * Dv + 4);
            t.run([&](Backend& be, auto& B) {
                be.latent_output(view(B[out], 4), view(B[ol], 2), view(B[kv_b], 1), H, Dn, Dv, C);
            });
            CHECK(t.err(out) <= kTol);
            REQUIRE(t.no_new_gl_errors());
        }
}

TEST_CASE("gl store_rows and load_rows round exactly as the CPU, every dtype", "[gl][dtype]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (CacheDtype d : {CacheDtype::F32, CacheDtype::BF16, CacheDtype::F16, CacheDtype::F8E4M3})
        for (int64_t cols : {int64_t(1), int64_t(7), int64_t(33)}) {
            Twin t(*gpu, cols * 10 + static_cast<int>(d));
            const int64_t rows = 5, stride = cache_row_stride(cols + 3, d), ss = cols + 2;
            std::vector<float> src(static_cast<size_t>(rows * ss));
            for (auto& v : src) v = t.rng.symmetric() * 600.0f * t.rng.uniform() * t.rng.uniform();  // 0 .. 600: fp8 saturates
            src[0] = 65519.0f;  // fp16's largest half after rounding
            const int s = t.add(src);
            const int c = t.rand(cache_buffer_floats(4 + rows * stride, d));  // 4 elements before row 0
            const int back = t.rand(rows * cols + 1);
            t.run([&](Backend& be, auto& B) {
                be.store_rows(view(B[c], 4), d, stride, view(B[s]), ss, rows, cols);
                be.load_rows(view(B[back], 1), cols, view(B[c], 4), d, stride, rows, cols);
            });
            INFO(to_string(d) << ", cols " << cols);
            // the stored words themselves are equal, bit for bit (padding included)
            const auto gc = t.gpu_data(c), cc = t.cpu_data(c);
            const int64_t per = 4 / cache_dtype_bytes(d);
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t w = 0; w < (cols + per - 1) / per; ++w) {
                    const int64_t at = (4 + r * stride) / per + w;
                    uint32_t a, b;
                    std::memcpy(&a, &gc[at], 4);
                    std::memcpy(&b, &cc[at], 4);
                    if (per > 1 && (w + 1) * per > cols) {  // the CPU leaves padding as it was, the GPU writes 0
                        const uint32_t mask = cols % per == 0 ? ~0u : (1u << (32 / per * (cols % per))) - 1u;
                        a &= mask;
                        b &= mask;
                    }
                    REQUIRE(a == b);
                }
            const auto gb = t.gpu_data(back), cb = t.cpu_data(back);
            for (size_t i = 0; i < gb.size(); ++i) REQUIRE((std::isnan(cb[i]) ? std::isnan(gb[i]) : gb[i] == cb[i]));
            REQUIRE(t.no_new_gl_errors());
        }
}

TEST_CASE("gl attend (fused, two dispatches) matches the CPU's fused kernel on narrow caches", "[gl][fused]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    struct L { int64_t H, k_dim, k_group, k2_dim, k2_group, v_dim, v_group; bool shared; };
    const L layouts[] = {{4, 16, 1, 0, 1, 16, 1, false}, {6, 9, 3, 0, 1, 9, 3, false},
                         {8, 40, 8, 0, 1, 32, 8, true},  {4, 12, 1, 6, 4, 10, 1, false}};
    for (CacheDtype d : {CacheDtype::F32, CacheDtype::BF16, CacheDtype::F8E4M3})
        for (const L& l : layouts)
            for (int64_t T : {int64_t(1), int64_t(64), int64_t(65), int64_t(300)}) {
                Twin t(*gpu, T + l.H);
                const int64_t Gk = l.H / l.k_group, Gv = l.H / l.v_group;
                const int64_t kr = cache_row_stride(Gk * l.k_dim + 1, d), vr = cache_row_stride(Gv * l.v_dim, d),
                              k2r = cache_row_stride(l.k2_dim + 1, d), qs = l.k_dim + l.k2_dim;
                const int kf = t.rand(T * kr), vf = t.rand(T * vr), k2f = t.rand(std::max<int64_t>(1, T * k2r));
                const int kc = t.rand(cache_buffer_floats(T * kr, d)), vc = t.rand(cache_buffer_floats(T * vr, d)),
                          k2c = t.rand(cache_buffer_floats(std::max<int64_t>(4, T * k2r), d));
                const int q = t.rand(l.H * qs, 0.5f), out = t.rand(l.H * (l.v_dim + 1)), sc = t.rand(l.H * T);
                t.run([&](Backend& be, auto& B) {
                    be.store_rows(view(B[kc]), d, kr, view(B[kf]), kr, T, kr);
                    be.store_rows(view(B[vc]), d, vr, view(B[vf]), vr, T, vr);
                    if (l.k2_dim > 0) be.store_rows(view(B[k2c]), d, k2r, view(B[k2f]), k2r, T, k2r);
                    AttendArgs a;
                    a.H = l.H;
                    a.T = T;
                    a.q = view(B[q]);
                    a.q_stride = qs;
                    a.k = {view(B[kc]), kr, l.k_dim, l.k_dim, l.k_group, d};
                    a.k2 = {view(B[k2c]), k2r, 0, l.k2_dim, l.k2_group, d};
                    a.v = l.shared ? KvOperand{view(B[kc]), kr, 0, l.v_dim, l.v_group, d}
                                   : KvOperand{view(B[vc]), vr, l.v_dim, l.v_dim, l.v_group, d};
                    a.out = view(B[out]);
                    a.out_stride = l.v_dim + 1;
                    a.scale = 0.3f;
                    a.scores = view(B[sc]);
                    be.attend(a);
                });
                INFO(to_string(d) << " H " << l.H << " k_dim " << l.k_dim << " T " << T);
                CHECK(t.err(out) <= kTol);
                CHECK(t.err(sc) <= kTol);
                REQUIRE(t.no_new_gl_errors());
            }
}
