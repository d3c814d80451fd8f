// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes
// of JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end)}
// (offsets into the data that follows the header), an optional "__metadata__" object of
// strings, then the data. Reads F32, F16 and BF16 into float; writes F32.
//
// Every problem with a file (short, truncated, bad header, unknown or unsupported dtype,
// offsets out of range or overlapping, shape and size disagreeing) is an InputError that
// names the file and what was wrong. Nothing is read outside the file.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/text_file.h"

namespace mla {

// One tensor as the header describes it.
struct SafetensorsEntry {
    std::string name;
    std::string dtype;             // as written: "F32", "BF16", "I64", ...
    std::vector<int64_t> shape;    // maths order, row-major data
    int64_t begin = 0, end = 0;    // byte offsets into the data section
    int64_t numel() const;         // product of shape (1 for a scalar)
    std::string shape_str() const; // "[64, 32]"
};

// Opens a file and validates its header and layout; tensors are read on demand.
class SafetensorsReader {
public:
    explicit SafetensorsReader(const std::string& path);

    const std::string& path() const { return path_; }
    const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // in data order
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const SafetensorsEntry* find(const std::string& name) const;  // nullptr if absent

    // Reads one tensor converted to float into dst (e.numel() floats). F32, F16 and BF16
    // are read; any other dtype is refused with a message naming the tensor and dtype.
    void read(const SafetensorsEntry& e, float* dst);
    std::vector<float> read(const std::string& name);  // throws if absent

private:
    std::string path_;
    std::ifstream file_;
    int64_t data_start_ = 0;  // 8 + N
    std::vector<SafetensorsEntry> entries_;
    std::map<std::string, std::string> metadata_;
};

// A tensor to write: float32 data, shape in maths order (row-major).
struct SafetensorsOut {
    std::string name;
    std::vector<int64_t> shape;
    const float* data;
};

// Writes an F32 safetensors file, tensors in the given order, header padded with spaces to
// a multiple of 8 bytes. Throws InputError when the file cannot be written, and on a bad
// tensor list (empty or duplicate name, negative dimension).
void write_safetensors(const std::string& path, const std::vector<SafetensorsOut>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The same into a file being written (model folders write two files before renaming either).
void write_safetensors(AtomicFile& f, const std::vector<SafetensorsOut>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// IEEE 754 binary16 and bfloat16 <-> float32. Exact for every half and bfloat16 value
// (subnormals, infinities, NaN); the narrowing conversions round to nearest, ties to even.
float half_to_float(uint16_t h);
float bfloat16_to_float(uint16_t b);
uint16_t float_to_half(float f);
uint16_t float_to_bfloat16(float f);

}  // namespace mla
