#include "model/cache_dtype.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/check.h"
#include "base/error.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace mla {

const char* to_string(CacheDtype d) {
    switch (d) {
        case CacheDtype::F32: return "fp32";
        case CacheDtype::BF16: return "bf16";
        case CacheDtype::F16: return "fp16";
        case CacheDtype::F8E4M3: return "fp8";
    }
    return "?";
}

CacheDtype parse_cache_dtype(const std::string& s) {
    if (s == "fp32" || s == "float32") return CacheDtype::F32;
    if (s == "bf16" || s == "bfloat16") return CacheDtype::BF16;
    if (s == "fp16" || s == "float16") return CacheDtype::F16;
    if (s == "fp8" || s == "e4m3" || s == "fp8-e4m3") return CacheDtype::F8E4M3;
    throw InputError("cache dtype '" + s + "' is not known; use fp32, bf16, fp16 or fp8 (E4M3)");
}

int cache_dtype_bytes(CacheDtype d) {
    switch (d) {
        case CacheDtype::F32: return 4;
        case CacheDtype::BF16:
        case CacheDtype::F16: return 2;
        case CacheDtype::F8E4M3: return 1;
    }
    return 4;
}

int64_t cache_row_stride(int64_t width, CacheDtype d) {
    return d == CacheDtype::F32 ? width : (width + 3) / 4 * 4;
}

int64_t cache_buffer_floats(int64_t elements, CacheDtype d) {
    return (elements * cache_dtype_bytes(d) + 3) / 4;
}

namespace {
uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
}  // namespace

uint16_t float_to_bf16(float f) {
    const uint32_t u = bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN stays NaN (quiet)
    return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float bf16_to_float(uint16_t b) { return from_bits(static_cast<uint32_t>(b) << 16); }

// binary32 -> binary16: round the 23-bit mantissa to 10 bits (nearest even), with
// subnormal results below 2^-14 and infinity above 65504 (after rounding).
uint16_t float_to_f16(float f) {
    const uint32_t u = bits(f);
    const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
    if (a >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65536 (or inf): infinity
    if (a < 0x38800000u) {  // below 2^-14: subnormal half (or zero); value = m * 2^-24
        // exact: a as a float is in [0, 2^-14); scale to units of 2^-24 and round to nearest even
        const float scaled = from_bits(a) * 16777216.0f;  // * 2^24, exact (power of two)
        const float r = std::nearbyint(scaled);            // default rounding mode: nearest even
        return static_cast<uint16_t>(sign | static_cast<uint16_t>(r));
    }
    // normal: exponent rebias 127 -> 15, mantissa 23 -> 10 bits with round to nearest even
    uint32_t h = ((a >> 13) - (112u << 10));
    const uint32_t rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // may carry into the exponent, to infinity
    return static_cast<uint16_t>(sign | h);
}

float f16_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        const float v = std::ldexp(static_cast<float>(m), -24);
        return from_bits(bits(v) | sign);
    }
    if (e == 31) return from_bits(sign | 0x7f800000u | (m << 13));
    return from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

namespace {
// The 128 non-negative E4M3 codes as floats (0x7f is NaN).
std::array<float, 128> make_f8_table() {
    std::array<float, 128> t{};
    for (int c = 0; c < 128; ++c) {
        const int e = c >> 3, m = c & 7;
        if (c == 0x7f) t[c] = std::numeric_limits<float>::quiet_NaN();
        else if (e == 0) t[c] = std::ldexp(static_cast<float>(m), -9);             // subnormal: m/8 * 2^-6
        else t[c] = std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
    }
    return t;
}
const std::array<float, 128>& f8_table() {
    static const std::array<float, 128> t = make_f8_table();
    return t;
}
}  // namespace

float f8e4m3_to_float(uint8_t b) {
    const float v = f8_table()[b & 0x7f];
    return (b & 0x80) ? -v : v;
}

// Integer rounding of the float's bits (the GPU's store_rows.comp does the same): codes
// 0..0x7e are magnitudes, 0x7f NaN; 448 and above saturate to 0x7e.
uint8_t float_to_f8e4m3(float f) {
    const uint32_t u = bits(f);
    const uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return static_cast<uint8_t>(sign | 0x7f);                  // NaN
    if (a >= 0x43e00000u) return static_cast<uint8_t>(sign | 0x7e);                 // >= 448 (or inf): saturate
    if (a < 0x3c800000u)                                                            // below 2^-6: m * 2^-9
        return static_cast<uint8_t>(sign | static_cast<uint8_t>(std::nearbyint(from_bits(a) * 512.0f)));
    uint32_t c = (a >> 20) - (120u << 3);  // exponent rebias 127 -> 7, top 3 mantissa bits
    const uint32_t rest = a & 0xfffffu;
    if (rest > 0x80000u || (rest == 0x80000u && (c & 1u))) ++c;
    return static_cast<uint8_t>(sign | c);
}

void encode_elements(void* base, CacheDtype d, int64_t first, const float* src, int64_t n) {
    switch (d) {
        case CacheDtype::F32: std::memcpy(static_cast<float*>(base) + first, src, static_cast<size_t>(n) * 4); return;
        case CacheDtype::BF16: {
            uint16_t* o = static_cast<uint16_t*>(base) + first;
            for (int64_t i = 0; i < n; ++i) o[i] = float_to_bf16(src[i]);
            return;
        }
        case CacheDtype::F16: {
            uint16_t* o = static_cast<uint16_t*>(base) + first;
            for (int64_t i = 0; i < n; ++i) o[i] = float_to_f16(src[i]);
            return;
        }
        case CacheDtype::F8E4M3: {
            uint8_t* o = static_cast<uint8_t*>(base) + first;
            for (int64_t i = 0; i < n; ++i) o[i] = float_to_f8e4m3(src[i]);
            return;
        }
    }
}

// The hot direction: the fused attention widens each block of cache rows with this.
void decode_elements(float* dst, const void* base, CacheDtype d, int64_t first, int64_t n) {
    switch (d) {
        case CacheDtype::F32: std::memcpy(dst, static_cast<const float*>(base) + first, static_cast<size_t>(n) * 4); return;
        case CacheDtype::BF16: {
            const uint16_t* in = static_cast<const uint16_t*>(base) + first;
            uint32_t* o = reinterpret_cast<uint32_t*>(dst);
            for (int64_t i = 0; i < n; ++i) o[i] = static_cast<uint32_t>(in[i]) << 16;
            return;
        }
        case CacheDtype::F16: {
            const uint16_t* in = static_cast<const uint16_t*>(base) + first;
            int64_t i = 0;
#if defined(__F16C__)
            for (; i + 8 <= n; i += 8)
                _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
#endif
            for (; i < n; ++i) dst[i] = f16_to_float(in[i]);
            return;
        }
        case CacheDtype::F8E4M3: {
            static const std::array<float, 256> full = [] {
                std::array<float, 256> t{};
                for (int c = 0; c < 256; ++c) t[c] = f8e4m3_to_float(static_cast<uint8_t>(c));
                return t;
            }();
            const uint8_t* in = static_cast<const uint8_t*>(base) + first;
            for (int64_t i = 0; i < n; ++i) dst[i] = full[in[i]];
            return;
        }
    }
}

float round_through(float x, CacheDtype d) {
    switch (d) {
        case CacheDtype::F32: return x;
        case CacheDtype::BF16: return bf16_to_float(float_to_bf16(x));
        case CacheDtype::F16: return f16_to_float(float_to_f16(x));
        case CacheDtype::F8E4M3: return f8e4m3_to_float(float_to_f8e4m3(x));
    }
    return x;
}

}  // namespace mla
