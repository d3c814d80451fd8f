// Shared by the GL tests: one GPU backend for the whole run (its shaders compile once),
// and the skip rule: where no GL 4.3 context can be made (no DISPLAY), a test is skipped (support/skip.h)
// and returns (Catch2 v2 has no SKIP), so the suite passes without a display.
#pragma once

#include <catch2/catch.hpp>

#include "base/numbers.h"  // max_abs_diff
#include "support/skip.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gl/gl_backend.h"
#include "gl/gl_context.h"

namespace mla::gltest {

// The shared backend, or nullptr (with a WARN naming the reason) when there is no context.
inline gl::GlBackend* gpu_or_skip() {
    static std::unique_ptr<gl::GlBackend> gpu;
    static std::string why;
    static bool tried = false;
    if (!tried) {
        tried = true;
        if (gl::ensure_context(&why)) gpu = std::make_unique<gl::GlBackend>();
    }
    if (!gpu) testing::skip("no OpenGL 4.3 context (" + why + ")");
    return gpu.get();
}

// max |a - b| / max(1, max |b|): b is the reference (CPU).
inline double normalised_error(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double diff = 0, scale = 1;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        if (std::isnan(a[i]) != std::isnan(b[i])) return INFINITY;
        if (!std::isnan(d)) diff = std::max(diff, d);
        if (std::isfinite(b[i])) scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return diff / scale;
}


}  // namespace mla::gltest
