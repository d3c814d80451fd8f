// RoPE: a score depends only on the distance between positions, in both layouts.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "base/rng.h"
#include "model/cpu_backend.h"

using namespace mla;

namespace {
float rotated_dot(CpuBackend& be, const std::vector<float>& q, const std::vector<float>& k, int64_t m, int64_t n,
                  RopeLayout layout) {
    const int64_t d = static_cast<int64_t>(q.size());
    Buf bq = be.create(d, q.data()), bk = be.create(d, k.data());
    be.rope(view(bq), 1, d, 1, d, d, m, rope_ladder(10000.0, d), layout);
    be.rope(view(bk), 1, d, 1, d, d, n, rope_ladder(10000.0, d), layout);
    float s = 0;
    const float* a = be.ptr(view(bq), d);
    const float* b = be.ptr(view(bk), d);
    for (int64_t i = 0; i < d; ++i) s += a[i] * b[i];
    be.release(bq);
    be.release(bk);
    return s;
}
}  // namespace

TEST_CASE("RoPE scores depend only on the distance between positions", "[rope]") {
    CpuBackend be;
    Rng rng(3);
    std::vector<float> q(16), k(16);
    for (auto& v : q) v = rng.symmetric();
    for (auto& v : k) v = rng.symmetric();
    for (RopeLayout layout : {RopeLayout::Interleaved, RopeLayout::Half}) {
        INFO(to_string(layout));
        const float d3 = rotated_dot(be, q, k, 5, 2, layout);
        CHECK(rotated_dot(be, q, k, 105, 102, layout) == Approx(d3).margin(1e-4));
        CHECK(rotated_dot(be, q, k, 3, 0, layout) == Approx(d3).margin(1e-4));
        // A different distance gives a different score.
        CHECK(std::abs(rotated_dot(be, q, k, 9, 2, layout) - d3) > 1e-3f);
    }
}

TEST_CASE("RoPE layouts rotate the pairs they name", "[rope]") {
    CpuBackend be;
    // dim 4, position 1: pair 0 turns by 1 rad, pair 1 by 1/100 rad (theta^(-2/4) = 1/100).
    std::vector<float> x = {1, 0, 0, 0};
    Buf b = be.create(4, x.data());
    be.rope(view(b), 1, 4, 1, 4, 4, 1, rope_ladder(10000.0, 4), RopeLayout::Interleaved);
    const float* p = be.ptr(view(b), 4);
    CHECK(p[0] == Approx(std::cos(1.0)).margin(1e-6));
    CHECK(p[1] == Approx(std::sin(1.0)).margin(1e-6));  // partner of 0 is 1
    CHECK(p[2] == 0.0f);
    be.write(view(b), x.data(), 4);
    be.rope(view(b), 1, 4, 1, 4, 4, 1, rope_ladder(10000.0, 4), RopeLayout::Half);
    CHECK(p[0] == Approx(std::cos(1.0)).margin(1e-6));
    CHECK(p[2] == Approx(std::sin(1.0)).margin(1e-6));  // partner of 0 is 0 + d/2
    CHECK(p[1] == 0.0f);
}
