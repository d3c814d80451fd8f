// The stored cache dtypes: each conversion is checked against a brute-force nearest-value
// search over every value of the narrow type (an independent method), with ties to even.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "base/rng.h"
#include "model/cache_dtype.h"

using namespace mla;

namespace {

// All finite values of a type, by code, decoded by an independent formula from the bit layout.
double decode_by_formula(uint32_t code, int exp_bits, int man_bits) {
    const int bias = (1 << (exp_bits - 1)) - 1;
    const uint32_t sign = code >> (exp_bits + man_bits);
    const uint32_t e = (code >> man_bits) & ((1u << exp_bits) - 1);
    const uint32_t m = code & ((1u << man_bits) - 1);
    const double frac = static_cast<double>(m) / static_cast<double>(1u << man_bits);
    const double v = e == 0 ? std::ldexp(frac, 1 - bias) : std::ldexp(1.0 + frac, static_cast<int>(e) - bias);
    return sign ? -v : v;
}

// The code of the nearest finite value among `codes` (ties to the even code).
uint32_t nearest(double x, const std::vector<std::pair<double, uint32_t>>& codes) {
    uint32_t best = 0;
    double bd = std::numeric_limits<double>::infinity();
    for (const auto& [v, c] : codes) {
        const double d = std::fabs(v - x);
        if (d < bd || (d == bd && (c & 1u) == 0 && (best & 1u) == 1)) {
            bd = d;
            best = c;
        }
    }
    return best;
}

std::vector<float> samples(uint64_t seed, float scale, int n) {
    Rng r(seed);
    std::vector<float> out;
    for (int i = 0; i < n; ++i) out.push_back(r.symmetric() * scale);
    return out;
}

}  // namespace

TEST_CASE("fp8 E4M3: decode by the bit layout, encode to the nearest value, saturate at 448", "[model][dtype]") {
    std::vector<std::pair<double, uint32_t>> finite;
    for (uint32_t c = 0; c < 256; ++c) {
        if ((c & 0x7f) == 0x7f) {
            CHECK(std::isnan(f8e4m3_to_float(static_cast<uint8_t>(c))));
            continue;
        }
        const double v = decode_by_formula(c, 4, 3);
        CHECK(f8e4m3_to_float(static_cast<uint8_t>(c)) == static_cast<float>(v));
        if (!(c == 0x80)) finite.push_back({v, c});  // -0 is the same value as +0
    }
    CHECK(f8e4m3_to_float(0x7e) == 448.0f);
    CHECK(f8e4m3_to_float(0x01) == std::ldexp(1.0f, -9));
    CHECK(f8e4m3_to_float(0x38) == 1.0f);
    // every midpoint between neighbours and random values at several scales
    std::vector<float> xs;
    for (float s : {0.001f, 0.03f, 1.0f, 20.0f, 440.0f}) {
        auto v = samples(7, s, 400);
        xs.insert(xs.end(), v.begin(), v.end());
    }
    for (size_t i = 0; i + 1 < finite.size(); ++i)
        if (finite[i].second < 0x7e) xs.push_back(static_cast<float>((finite[i].first + finite[i + 1].first) / 2));
    for (float x : xs) {
        const uint8_t got = float_to_f8e4m3(x);
        const uint32_t want = nearest(x, finite);
        const float gv = f8e4m3_to_float(got), wv = f8e4m3_to_float(static_cast<uint8_t>(want));
        INFO("x = " << x);
        CHECK(gv == wv);
    }
    CHECK(float_to_f8e4m3(1000.0f) == 0x7e);
    CHECK(float_to_f8e4m3(-1e30f) == 0xfe);
    CHECK(float_to_f8e4m3(std::numeric_limits<float>::infinity()) == 0x7e);
    CHECK(std::isnan(round_through(std::nanf(""), CacheDtype::F8E4M3)));
}

TEST_CASE("fp16: every code decodes as the bit layout says; encoding is the nearest half", "[model][dtype]") {
    std::vector<std::pair<double, uint32_t>> finite;
    for (uint32_t c = 0; c < 65536; ++c) {
        const bool special = ((c >> 10) & 31u) == 31u;
        const float got = f16_to_float(static_cast<uint16_t>(c));
        if (special) {
            CHECK((std::isnan(got) || std::isinf(got)));
            continue;
        }
        const double v = decode_by_formula(c, 5, 10);
        REQUIRE(got == static_cast<float>(v));
        if (c != 0x8000 && v >= 0) finite.push_back({v, c});  // the positive half suffices (sign is symmetric)
        // the vectorised widening (F16C where built for it) equals the scalar one
    }
    std::vector<uint16_t> all(65536);
    for (uint32_t c = 0; c < 65536; ++c) all[c] = static_cast<uint16_t>(c);
    std::vector<float> wide(65536);
    decode_elements(wide.data(), all.data(), CacheDtype::F16, 0, 65536);
    for (uint32_t c = 0; c < 65536; ++c) {
        const float s = f16_to_float(static_cast<uint16_t>(c));
        REQUIRE((std::isnan(s) ? std::isnan(wide[c]) : wide[c] == s));
    }
    std::vector<float> xs;
    for (float s : {1e-6f, 1e-3f, 1.0f, 300.0f, 60000.0f}) {
        auto v = samples(11, s, 150);
        xs.insert(xs.end(), v.begin(), v.end());
    }
    for (size_t i = 0; i + 1 < finite.size(); i += 97) xs.push_back(static_cast<float>((finite[i].first + finite[i + 1].first) / 2));
    for (float x : xs) {
        const uint32_t want = nearest(std::fabs(x), finite) | (std::signbit(x) ? 0x8000u : 0u);
        INFO("x = " << x);
        CHECK(f16_to_float(float_to_f16(x)) == f16_to_float(static_cast<uint16_t>(want)));
    }
    CHECK(std::isinf(f16_to_float(float_to_f16(65520.0f))));   // the tie above 65504 goes to infinity (even)
    CHECK(f16_to_float(float_to_f16(65519.0f)) == 65504.0f);
}

TEST_CASE("bf16: the nearest of the two neighbouring bf16 values, ties to even", "[model][dtype]") {
    for (float s : {1e-30f, 1e-3f, 1.0f, 1e20f}) {
        for (float x : samples(13, s, 500)) {
            uint32_t u;
            std::memcpy(&u, &x, 4);
            const uint32_t lo = u & 0xffff0000u, hi = lo + 0x10000u;
            float flo, fhi;
            std::memcpy(&flo, &lo, 4);
            std::memcpy(&fhi, &hi, 4);
            const double dl = std::fabs(static_cast<double>(x) - flo), dh = std::fabs(static_cast<double>(fhi) - x);
            const float want = dl < dh ? flo : dh < dl ? fhi : (((lo >> 16) & 1u) ? fhi : flo);
            CHECK(round_through(x, CacheDtype::BF16) == want);
        }
    }
    CHECK(std::isnan(round_through(std::nanf(""), CacheDtype::BF16)));
}

TEST_CASE("cache rows: strides pad narrow rows to whole words; names parse", "[model][dtype]") {
    CHECK(cache_row_stride(7, CacheDtype::F32) == 7);
    CHECK(cache_row_stride(7, CacheDtype::BF16) == 8);
    CHECK(cache_row_stride(576, CacheDtype::F8E4M3) == 576);
    CHECK(cache_buffer_floats(9, CacheDtype::F8E4M3) == 3);
    CHECK(parse_cache_dtype("bf16") == CacheDtype::BF16);
    CHECK(parse_cache_dtype("fp8") == CacheDtype::F8E4M3);
    CHECK_THROWS_WITH(parse_cache_dtype("int4"), Catch::Contains("fp32, bf16, fp16 or fp8"));
    // encode then decode a row at an odd element offset
    std::vector<float> row = {0.5f, -1.25f, 3.0f, 1e-3f, 7.0f};
    std::vector<uint8_t> buf(16, 0xAA);
    encode_elements(buf.data(), CacheDtype::F8E4M3, 3, row.data(), 5);
    CHECK(buf[2] == 0xAA);
    CHECK(buf[8] == 0xAA);
    std::vector<float> back(5);
    decode_elements(back.data(), buf.data(), CacheDtype::F8E4M3, 3, 5);
    for (size_t i = 0; i < row.size(); ++i) CHECK(back[i] == round_through(row[i], CacheDtype::F8E4M3));
}
