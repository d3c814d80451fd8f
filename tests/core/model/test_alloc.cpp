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
    {   // One-time set-up of the thread pool and Eigen's cache-size queries is not per step.
        auto w = std::make_shared<const Weights>(random_weights(builtin_config(AttnKind::MHA), 2));
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
