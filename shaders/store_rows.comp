#version 430
// store_rows: dst[r*dst_stride + c] = round(src[r*src_stride + c]) to dtype  (Backend::store_rows)
// for r < rows, c < cols; dtype 0 fp32, 1 bf16, 2 fp16, 3 fp8 E4M3, each rounded to nearest
// even exactly as core/model/cache_dtype.cpp does (fp16 overflows to infinity, fp8
// saturates at +-448). dst counts dtype elements in 32-bit words; its offset and stride are
// multiples of the elements per word, so a row owns whole words (elements past cols in the
// last word are padding and become 0).
// Bindings: 0 dst (words), 1 src (floats). One invocation per destination word.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Dst { uint dst[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };

uniform uint dst_word;        // word of element (0, 0), inside the binding
uniform uint dst_stride_words;
uniform uint src_off;
uniform uint src_stride;
uniform uint rows;
uniform uint cols;
uniform uint dtype;

uint to_bf16(float f) {
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return ((u >> 16) | 0x40u) & 65535u;
    return ((u + 0x7fffu + ((u >> 16) & 1u)) >> 16) & 65535u;
}

uint to_f16(float f) {
    uint u = floatBitsToUint(f);
    uint sign = (u >> 16) & 0x8000u;
    uint a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u;
    if (a >= 0x47800000u) return sign | 0x7c00u;
    if (a < 0x38800000u) return sign | uint(roundEven(uintBitsToFloat(a) * 16777216.0));
    uint h = (a >> 13) - (112u << 10);
    uint rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0u)) h += 1u;
    return sign | h;
}

// E4M3 "fn": magnitude codes 0..0x7e, 0x7f NaN; integer rounding of the float's bits.
uint to_f8(float f) {
    uint u = floatBitsToUint(f);
    uint sign = (u >> 24) & 0x80u;
    uint a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7fu;
    if (a >= 0x43e00000u) return sign | 0x7eu;  // >= 448: saturate
    if (a < 0x3c800000u) return sign | uint(roundEven(uintBitsToFloat(a) * 512.0));  // below 2^-6: m * 2^-9
    uint c = (a >> 20) - (120u << 3);
    uint rest = a & 0xfffffu;
    if (rest > 0x80000u || (rest == 0x80000u && (c & 1u) != 0u)) c += 1u;
    return sign | c;
}

uint encode(float x) {
    if (dtype == 1u) return to_bf16(x);
    if (dtype == 2u) return to_f16(x);
    return to_f8(x);
}

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 64u + gl_LocalInvocationID.x;
    uint per = dtype == 0u ? 1u : (dtype == 3u ? 4u : 2u);
    uint words = (cols + per - 1u) / per;
    if (i >= rows * words) return;
    uint r = i / words, w = i % words;
    uint sb = src_off + r * src_stride;
    uint out_word;
    if (dtype == 0u) {
        out_word = floatBitsToUint(src[sb + w]);
    } else {
        uint bits = 32u / per;
        out_word = 0u;
        for (uint p = 0u; p < per; ++p) {
            uint c = w * per + p;
            if (c < cols) out_word |= encode(src[sb + c]) << (p * bits);
        }
    }
    dst[dst_word + r * dst_stride_words + w] = out_word;
}
