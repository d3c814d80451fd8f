// The decode loop allocates nothing per step once the cache has room.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>

#include "model/cpu_backend.h"
#include "model/decoder.h"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    const std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
// Every replaced new pairs with a delete that frees with std::free (sanitizers check pairs).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace mla;

TEST_CASE("decode steps allocate nothing once the cache has room", "[model][alloc]") {
    // One-time set-up of the thread pool and Eigen's cache-size queries is not per step; nor
    // is the OpenMP runtime's first start (LLVM's libomp allocates when Eigen's first
    // matrix-matrix product asks for its thread number: GQA's grouped scores here).
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA}) {
        auto w = std::make_shared<const Weights>(random_weights(builtin_config(kind), 2));
        CpuBackend be(1);
        Decoder dec(w, be);
        for (int i = 0; i < 40; ++i) dec.step(i);
    }
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
            if (kind != AttnKind::MLA && path != MlaPath::Absorbed) continue;
            auto w = std::make_shared<const Weights>(random_weights(builtin_config(kind), 2));
            CpuBackend be(1);
            RunOptions o;
            o.mla_path = path;
            Decoder dec(w, be, o);
            dec.step(1);                 // first step: capacity for 64 tokens exists already
            const long before = g_allocations.load();
            for (int i = 0; i < 40; ++i) dec.step(i % 256);
            const long allocations = g_allocations.load() - before;  // before INFO, which allocates
            INFO(to_string(kind) << " " << to_string(path));
            CHECK(allocations == 0);
        }
    }
}

TEST_CASE("traced decode steps: a reused trace allocates nothing; the window's lanes pay only for what they ask", "[model][alloc]") {
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
            if (kind != AttnKind::MLA && path != MlaPath::Absorbed) continue;
            auto w = std::make_shared<const Weights>(random_weights(builtin_config(kind), 2));
            CpuBackend be(1);
            RunOptions o;
            o.mla_path = path;
            Decoder dec(w, be, o);
            // Every tensor, into one trace reused from step to step (recompute's k_nope grows
            // with T, so its capacity is made first by stepping past the measured range).
            Trace t;
            for (int i = 0; i < 50; ++i) dec.step(i, &t);
            dec.reset();
            for (int i = 0; i < 8; ++i) dec.step(i, &t);
            long before = g_allocations.load();
            for (int i = 0; i < 40; ++i) dec.step(i % 256, &t);
            long allocations = g_allocations.load() - before;
            const size_t records = t.tensors.size();
            INFO(to_string(kind) << " " << to_string(path) << ", " << records << " records");
            CHECK(allocations == 0);

            // The window's Compare and Absorption lanes: a new trace per step (the session keeps
            // each one), att_probs and logits asked for. Per step: the trace's tensor list, its
            // per-layer costs and cache sizes, and the data of 3 att_probs and the logits.
            dec.set_trace_request({"att_probs", "logits"});
            dec.reset();
            dec.step(1);
            std::vector<Trace> kept;
            kept.reserve(64);
            before = g_allocations.load();
            for (int i = 0; i < 40; ++i) {
                kept.emplace_back();
                dec.step(i % 256, &kept.back());
            }
            allocations = g_allocations.load() - before;
            const long per_step_bound = 3 + 3 + 1;
            CHECK(allocations <= 40 * per_step_bound);
            // Every record keeps its shape; only the asked ones hold data.
            const Trace& last = kept.back();
            CHECK(last.tensors.size() == records);
            for (const TensorRecord& r : last.tensors) {
                const bool asked = r.name == "att_probs" || r.name == "logits";
                INFO(r.name << " " << r.shape_str());
                CHECK(r.data.empty() != asked);
                CHECK(r.shape[0] * r.shape[1] > 0);
            }
        }
    }
}
