// cache_dtype.glsl: reading the stored cache dtypes (core/model/cache_dtype.h) from a buffer
// of 32-bit words; the GL backend pastes it over the include line of load_rows and attend.
//   dtype 0 fp32 (1 element per word), 1 bf16 and 2 fp16 (2 per word), 3 fp8 E4M3 (4 per word);
//   element e is word e / per_word, the low bits first.
uint per_word(uint dtype) { return dtype == 0u ? 1u : (dtype == 3u ? 4u : 2u); }

float f16_bits_to_float(uint h) {
    uint e = (h >> 10) & 31u, m = h & 1023u;
    float v;
    if (e == 0u) v = float(m) * exp2(-24.0);
    else if (e == 31u) v = uintBitsToFloat(0x7f800000u | (m << 13));
    else v = uintBitsToFloat(((e + 112u) << 23) | (m << 13));
    return (h & 0x8000u) != 0u ? -v : v;
}

float f8_bits_to_float(uint c) {
    uint e = (c >> 3) & 15u, m = c & 7u;
    float v = e == 0u ? float(m) * exp2(-9.0) : ldexp(1.0 + float(m) / 8.0, int(e) - 7);
    if ((c & 127u) == 127u) v = uintBitsToFloat(0x7fc00000u);
    return (c & 128u) != 0u ? -v : v;
}

// The element at index e (in dtype units) given the word that holds it.
float decode_element(uint dtype, uint word, uint e) {
    if (dtype == 0u) return uintBitsToFloat(word);
    if (dtype == 3u) return f8_bits_to_float((word >> (8u * (e & 3u))) & 255u);
    uint bits = (word >> (16u * (e & 1u))) & 65535u;
    return dtype == 1u ? uintBitsToFloat(bits << 16) : f16_bits_to_float(bits);
}
