// Whole-model parity: the built-in model on CpuBackend and on the GPU, 64 greedy decode
// steps for every attention kind and every MLA path (and no-cache once): the logits of
// every step within 1e-4, the same tokens.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <memory>

#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "model/weights.h"
#include "support/gl_fixture.h"

using namespace mla;

namespace {

struct Run {
    std::vector<int64_t> tokens;
    double worst = 0;  // largest |logit_gpu - logit_cpu| over all steps
};

Run compare(gl::GlBackend& gpu, const Config& cfg, RunOptions opt, int steps, uint64_t seed = 7) {
    auto w = std::make_shared<const Weights>(random_weights(cfg, seed));
    CpuBackend cpu;
    Decoder dc(w, cpu, opt);
    Decoder dg(w, gpu, opt);
    Run r;
    int64_t tc = 'M', tg = 'M';
    uint64_t rs = 0;
    for (int s = 0; s < steps; ++s) {
        const std::vector<float>& lc = dc.step(tc);
        const std::vector<float>& lg = dg.step(tg);
        const double d = mla::max_abs_diff(lg, lc);
        r.worst = std::max(r.worst, d);
        INFO("step " << s);
        REQUIRE(d <= 1e-4);
        tc = sample(lc, 0.0f, rs);
        tg = sample(lg, 0.0f, rs);
        REQUIRE(tc == tg);
        r.tokens.push_back(tg);
    }
    return r;
}

Run compare(gl::GlBackend& gpu, AttnKind kind, RunOptions opt, int steps, uint64_t seed = 7) {
    return compare(gpu, builtin_config(kind), opt, steps, seed);
}

}  // namespace

TEST_CASE("gl decoder: MHA, GQA, MQA match the CPU for 64 steps", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const int64_t errors = gl::error_count();
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA}) {
        INFO("attention " << to_string(kind));
        const auto t0 = std::chrono::steady_clock::now();
        Run r = compare(*gpu, kind, {}, 64);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        WARN(to_string(kind) << ": largest logit difference " << r.worst << " over 64 steps (" << ms << " ms, both backends)");
    }
    REQUIRE(gl::error_count() == errors);
}

TEST_CASE("gl decoder: MLA, every path, matches the CPU for 64 steps", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const int64_t errors = gl::error_count();
    std::vector<std::vector<int64_t>> seqs;
    for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
        INFO("mla path " << to_string(path));
        RunOptions o;
        o.mla_path = path;
        Run r = compare(*gpu, AttnKind::MLA, o, 64);
        WARN("mla " << to_string(path) << ": largest logit difference " << r.worst);
        seqs.push_back(r.tokens);
    }
    // The three paths are one computation: same greedy text (article section 3).
    CHECK(seqs[0] == seqs[1]);
    CHECK(seqs[0] == seqs[2]);
    REQUIRE(gl::error_count() == errors);
}

TEST_CASE("gl decoder: no-cache mode matches the CPU", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    RunOptions o;
    o.no_cache = true;
    o.mla_path = MlaPath::Absorbed;
    Run r = compare(*gpu, AttnKind::MLA, o, 20);   // no-cache re-runs the prefix: quadratic in the steps
    WARN("mla no-cache: largest logit difference " << r.worst);
}

TEST_CASE("gl decoder: RoPE on the latent (the broken variant) matches the CPU too", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
        INFO("mla path " << to_string(path));
        RunOptions o;
        o.mla_path = path;
        o.rope_on_latent = true;
        compare(*gpu, AttnKind::MLA, o, 16);
    }
}

TEST_CASE("gl decoder: the trace of a step matches the CPU's, tensor by tensor", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (AttnKind kind : {AttnKind::GQA, AttnKind::MLA}) {
        auto w = std::make_shared<const Weights>(random_weights(builtin_config(kind), 3));
        CpuBackend cpu;
        Decoder dc(w, cpu), dg(w, *gpu);
        Trace tc, tg;
        for (int64_t tok : {'a', 'b', 'c', 'd', 'e'}) {
            dc.step(tok, &tc);
            dg.step(tok, &tg);
        }
        REQUIRE(tg.backend == "gpu");
        REQUIRE(tc.tensors.size() == tg.tensors.size());
        REQUIRE_FALSE(tg.tensors.empty());
        for (size_t i = 0; i < tc.tensors.size(); ++i) {
            INFO(to_string(kind) << " " << tc.tensors[i].name << " layer " << tc.tensors[i].layer);
            REQUIRE(tg.tensors[i].name == tc.tensors[i].name);
            REQUIRE(tg.tensors[i].shape == tc.tensors[i].shape);
            CHECK(gltest::normalised_error(tg.tensors[i].data, tc.tensors[i].data) <= 1e-5);
        }
    }
}

TEST_CASE("gl decoder sanity: one readback per step, finite logits (time reported, not tested)", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    for (AttnKind kind : {AttnKind::MHA, AttnKind::MLA}) {
        auto w = std::make_shared<const Weights>(random_weights(builtin_config(kind), 11));
        Decoder d(w, *gpu);
        d.step('x');  // warm-up: caches and the RoPE table are allocated here
        const int64_t reads0 = gpu->readbacks(), disp0 = gpu->dispatches();
        const auto t0 = std::chrono::steady_clock::now();
        const int steps = 16;
        for (int s = 0; s < steps; ++s) {
            const std::vector<float>& logits = d.step('a' + s);
            for (float v : logits) REQUIRE(std::isfinite(v));
        }
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        REQUIRE(gpu->readbacks() - reads0 == steps);  // the logits only: no readback between operations
        Trace tr;
        d.step('z', &tr);
        REQUIRE(gpu->readbacks() - reads0 == steps + 2);  // with a trace: logits + the staged tensors
        WARN(to_string(kind) << " on " << gpu->device() << ": " << (gpu->dispatches() - disp0) / (steps + 1)
                             << " dispatches per step, " << ms / steps << " ms per step");
    }
}

TEST_CASE("gl decoder: MLA as converted from MHA (a rotary key per group, partial RoPE, no latent norm) matches the CPU",
          "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const int64_t errors = gl::error_count();
    for (int64_t groups : {int64_t(2), int64_t(4)}) {
        Config c = builtin_config(AttnKind::MLA);
        c.qk_rope_head_dim = 4;
        c.qk_nope_head_dim = 12;
        c.mla_rope_key_heads = groups;
        c.mla_kv_norm = false;
        c.mla_rope_pairs_head_dim = 16;
        for (int64_t l = 0; l < c.num_hidden_layers; ++l)
            for (int64_t g = 0; g < groups; ++g) {
                c.mla_rope_pairs.push_back(static_cast<int32_t>((l + g) % 8));
                c.mla_rope_pairs.push_back(static_cast<int32_t>(7 - (l + 2 * g) % 4));
            }
        for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
            INFO("groups " << groups << ", mla path " << to_string(path));
            RunOptions o;
            o.mla_path = path;
            Run r = compare(*gpu, c, o, 48);
            WARN("converted layout, " << groups << " rotary keys, " << to_string(path) << ": largest logit difference "
                                      << r.worst);
        }
    }
    REQUIRE(gl::error_count() == errors);
}
