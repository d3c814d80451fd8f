// How the KV cache is stored: float32, bfloat16, float16 or 8-bit float (OCP E4M3).
// The compute stays in float32; a cache row is rounded to the stored type when it is
// written and widened back to float32 where it is read (in registers or an L1-sized tile,
// never as a separate pass over the cache).
//
//   fp32  IEEE binary32, exact
//   bf16  the top 16 bits of binary32 (8 exponent bits, 7 mantissa bits), round to nearest even
//   fp16  IEEE binary16 (5 exponent bits, 10 mantissa bits, largest 65504; larger values
//         become infinity, as PyTorch's .half() does), round to nearest even
//   fp8   OCP 8-bit E4M3 "fn" (4 exponent bits, bias 7, 3 mantissa bits, largest 448, no
//         infinity; 0x7f/0xff are NaN), round to nearest even, saturating at +-448 like
//         NVIDIA's and PyTorch's saturating conversion; smallest subnormal 2^-9
#pragma once

#include <cstdint>
#include <string>

namespace mla {

enum class CacheDtype { F32, BF16, F16, F8E4M3 };

const char* to_string(CacheDtype d);            // "fp32", "bf16", "fp16", "fp8"
CacheDtype parse_cache_dtype(const std::string& s);  // throws InputError naming the four
int cache_dtype_bytes(CacheDtype d);            // 4, 2, 2, 1

// Elements of a row in a cache buffer: a narrow row is padded to a multiple of 4
// elements, so every row starts on a 32-bit word (the GPU packs 2 or 4 per word).
int64_t cache_row_stride(int64_t width, CacheDtype d);
// Float32 slots a cache of `elements` stored elements needs (Buf sizes count floats).
int64_t cache_buffer_floats(int64_t elements, CacheDtype d);

// Scalar conversions (round to nearest even).
uint16_t float_to_bf16(float f);
float bf16_to_float(uint16_t b);
uint16_t float_to_f16(float f);
float f16_to_float(uint16_t h);
uint8_t float_to_f8e4m3(float f);
float f8e4m3_to_float(uint8_t b);

// Row conversions: `base` is the cache buffer's bytes, `first` the index of the first
// element in units of d (element e of a bf16 buffer is the 16 bits at byte 2 e).
void encode_elements(void* base, CacheDtype d, int64_t first, const float* src, int64_t n);
void decode_elements(float* dst, const void* base, CacheDtype d, int64_t first, int64_t n);

// A value rounded through the type and back (what the cache gives back for x).
float round_through(float x, CacheDtype d);

}  // namespace mla
