#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "base/json_read.h"

namespace mla {

// [SECTION] half and bfloat16

float half_to_float(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24, exact in float
        const float mag = std::ldexp(static_cast<float>(mant), -24);
        return sign ? -mag : mag;
    }
    uint32_t bits;
    if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);  // inf, or NaN keeping its payload
    else bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    return std::bit_cast<float>(bits);
}

float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t float_to_half(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00u;   // NaN (quiet)
    if (ax >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity
    if (ax < 0x38800000u) {
        // Below the smallest normal half (2^-14): a subnormal m * 2^-24. The scaling is exact,
        // rint rounds to nearest even; m = 1024 is the smallest normal, encoded the same way.
        const float m = std::rint(std::bit_cast<float>(ax) * 16777216.0f);
        return sign | static_cast<uint16_t>(m);
    }
    uint32_t h = (((ax >> 23) - 127 + 15) << 10) | ((ax & 0x7fffffu) >> 13);
    const uint32_t rest = ax & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry moves into the exponent, as it should
    return sign | static_cast<uint16_t>(h);
}

uint16_t float_to_bfloat16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // NaN stays NaN
    const uint32_t rounded = x + 0x7fffu + ((x >> 16) & 1u);
    return static_cast<uint16_t>(rounded >> 16);
}

// [SECTION] reading

namespace {

using nlohmann::json;

constexpr int64_t kMaxHeaderBytes = 100 * 1000 * 1000;

// Bytes per element of every dtype the format defines; F32, F16 and BF16 are read.
int64_t dtype_size(const std::string& d) {
    static const std::map<std::string, int64_t> sizes = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1},
        {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    };
    auto it = sizes.find(d);
    return it == sizes.end() ? 0 : it->second;
}

bool is_supported(const std::string& d) { return d == "F32" || d == "F16" || d == "BF16"; }

// A non-negative JSON integer that fits int64; false otherwise.
bool get_count(const json& v, int64_t& out) { return json_to_int64(v, out) && out >= 0; }

uint32_t le32(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

int64_t SafetensorsEntry::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;  // overflow was ruled out when the header was read
    return n;
}

std::string SafetensorsEntry::shape_str() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path) {
    auto fail = [&](const std::string& what) -> void { throw InputError(path_ + ": " + what); };

    check_regular_file(path_, INT64_MAX, "; give a .safetensors file");
    file_.open(path_, std::ios::binary);
    if (!file_) throw InputError("cannot open safetensors file '" + path_ + "'");
    file_.seekg(0, std::ios::end);
    const std::streamoff size_off = file_.tellg();
    if (size_off < 0) fail("cannot read the file's size");
    const int64_t file_size = static_cast<int64_t>(size_off);
    if (file_size < 8)
        fail("the file is " + std::to_string(file_size) +
             " bytes long, shorter than the 8-byte header length that starts every safetensors file");

    unsigned char len_bytes[8];
    file_.seekg(0);
    if (!file_.read(reinterpret_cast<char*>(len_bytes), 8)) fail("cannot read the 8-byte header length");
    const uint64_t n = static_cast<uint64_t>(le32(len_bytes)) | static_cast<uint64_t>(le32(len_bytes + 4)) << 32;
    if (n > static_cast<uint64_t>(kMaxHeaderBytes))
        fail("the header length is " + std::to_string(n) + " bytes, more than the 100 MB limit; the file is "
             "not safetensors or is corrupt");
    if (static_cast<int64_t>(n) > file_size - 8)
        fail("the header length is " + std::to_string(n) + " bytes, but only " + std::to_string(file_size - 8) +
             " bytes follow the 8-byte length; the file is truncated or not safetensors");
    if (n < 2) fail("the header length is " + std::to_string(n) + " bytes; the header must be a JSON object");
    data_start_ = 8 + static_cast<int64_t>(n);
    const int64_t data_size = file_size - data_start_;

    std::string text(static_cast<size_t>(n), '\0');
    if (!file_.read(text.data(), static_cast<std::streamsize>(n))) fail("cannot read the header");

    // Parse, refusing duplicate keys at any level (nlohmann would silently keep the last).
    json header;
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate;
    auto on_event = [&](int, json::parse_event_t ev, json& parsed) {
        if (ev == json::parse_event_t::object_start) open_objects.emplace_back();
        else if (ev == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
        else if (ev == json::parse_event_t::key && !open_objects.empty() && duplicate.empty() &&
                 !open_objects.back().insert(parsed.get<std::string>()).second)
            duplicate = parsed.get<std::string>();
        return true;
    };
    header = parse_json(text, path_ + ": the header", on_event);
    if (!duplicate.empty()) fail("the header names '" + duplicate.substr(0, 80) + "' twice");
    if (!header.is_object()) fail("the header must be a JSON object mapping tensor names to tensors, got a " +
                                  std::string(header.type_name()));

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const json& v = it.value();
        if (name == "__metadata__") {
            if (!v.is_object()) fail("\"__metadata__\" must be an object of strings, got " + excerpt(v));
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    fail("\"__metadata__\" value of '" + m.key() + "' must be a string, got " + excerpt(m.value()));
                metadata_[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string where = "tensor '" + (name.size() > 80 ? name.substr(0, 80) + "..." : name) + "': ";
        if (!v.is_object()) fail(where + "must be an object with dtype, shape and data_offsets, got " + excerpt(v));
        for (const char* field : {"dtype", "shape", "data_offsets"})
            if (!v.contains(field)) fail(where + "field '" + field + "' is missing");

        SafetensorsEntry e;
        e.name = name;
        const json& dt = v["dtype"];
        if (!dt.is_string()) fail(where + "dtype must be a string such as \"F32\", got " + excerpt(dt));
        e.dtype = dt.get<std::string>();
        const int64_t esize = dtype_size(e.dtype);
        if (esize == 0)
            fail(where + "dtype \"" + e.dtype + "\" is not a safetensors dtype (F64, F32, F16, BF16, I64, I32, "
                 "I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2)");

        const json& sh = v["shape"];
        if (!sh.is_array()) fail(where + "shape must be an array of non-negative integers, got " + excerpt(sh));
        int64_t bytes = esize;
        for (const json& d : sh) {
            int64_t dim = 0;
            if (!get_count(d, dim))
                fail(where + "shape " + excerpt(sh) + " must hold non-negative integers, got " + excerpt(d));
            e.shape.push_back(dim);
            if (__builtin_mul_overflow(bytes, dim, &bytes))
                fail(where + "shape " + excerpt(sh) + " has more elements than any file can hold (overflow)");
        }

        const json& off = v["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !get_count(off[0], e.begin) || !get_count(off[1], e.end))
            fail(where + "data_offsets must be two non-negative integers [begin, end), got " + excerpt(off));
        if (e.begin > e.end)
            fail(where + "data_offsets " + excerpt(off) + " end before they begin");
        if (e.end > data_size)
            fail(where + "data_offsets " + excerpt(off) + " reach beyond the data, which is " +
                 std::to_string(data_size) + " bytes; the file is truncated or corrupt");
        if (e.end - e.begin != bytes)
            fail(where + "data_offsets " + excerpt(off) + " hold " + std::to_string(e.end - e.begin) +
                 " bytes, but shape " + e.shape_str() + " of " + e.dtype + " needs " + std::to_string(bytes));
        entries_.push_back(std::move(e));
    }

    std::sort(entries_.begin(), entries_.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
        if (a.begin != b.begin) return a.begin < b.begin;
        return a.end != b.end ? a.end < b.end : a.name < b.name;
    });
    const SafetensorsEntry* prev = nullptr;
    for (const SafetensorsEntry& e : entries_) {
        if (e.begin == e.end) continue;  // empty tensors overlap nothing
        if (prev && e.begin < prev->end)
            fail("tensors '" + prev->name + "' [" + std::to_string(prev->begin) + ", " + std::to_string(prev->end) +
                 ") and '" + e.name + "' [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                 ") overlap in the data");
        prev = &e;
    }
}

const SafetensorsEntry* SafetensorsReader::find(const std::string& name) const {
    for (const SafetensorsEntry& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

void SafetensorsReader::read(const SafetensorsEntry& e, float* dst) {
    if (!is_supported(e.dtype))
        throw InputError(path_ + ": tensor '" + e.name + "' has dtype " + e.dtype +
                         ", which MLA Lab does not read; convert the model to F32, F16 or BF16");
    const int64_t n = e.numel();
    if (n == 0) return;
    file_.clear();
    file_.seekg(data_start_ + e.begin);
    auto check = [&] {
        if (!file_) throw InputError(path_ + ": cannot read the data of tensor '" + e.name + "'; the file changed or is unreadable");
    };
    check();
    if (e.dtype == "F32") {
        file_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n * 4));
        check();
        if constexpr (std::endian::native == std::endian::big)
            for (int64_t i = 0; i < n; ++i) dst[i] = std::bit_cast<float>(__builtin_bswap32(std::bit_cast<uint32_t>(dst[i])));
        return;
    }
    // 16-bit types, in chunks so a big tensor needs no second full-size buffer.
    const bool bf16 = e.dtype == "BF16";
    std::vector<unsigned char> buf;
    constexpr int64_t kChunk = 1 << 16;
    for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
        const int64_t m = std::min(kChunk, n - i0);
        buf.resize(static_cast<size_t>(m * 2));
        file_.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(m * 2));
        check();
        for (int64_t i = 0; i < m; ++i) {
            const uint16_t u = static_cast<uint16_t>(buf[2 * i] | buf[2 * i + 1] << 8);
            dst[i0 + i] = bf16 ? bfloat16_to_float(u) : half_to_float(u);
        }
    }
}

std::vector<float> SafetensorsReader::read(const std::string& name) {
    const SafetensorsEntry* e = find(name);
    if (!e) throw InputError(path_ + ": there is no tensor named '" + name + "'");
    std::vector<float> out(static_cast<size_t>(e->numel()));
    read(*e, out.data());
    return out;
}

// [SECTION] writing

void write_safetensors(AtomicFile& f, const std::vector<SafetensorsOut>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const std::string& path = f.path();
    json header = json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    int64_t offset = 0;
    std::vector<int64_t> counts;
    for (const SafetensorsOut& t : tensors) {
        if (t.name.empty() || t.name == "__metadata__")
            throw InputError(path + ": cannot write a tensor named '" + t.name + "'");
        if (header.contains(t.name)) throw InputError(path + ": tensor '" + t.name + "' is listed twice");
        int64_t n = 1;
        for (int64_t d : t.shape)
            if (d < 0 || __builtin_mul_overflow(n, d, &n))
                throw InputError(path + ": tensor '" + t.name + "' has an invalid shape");
        if (n > 0 && !t.data) throw InputError(path + ": tensor '" + t.name + "' has no data");
        header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + 4 * n}}};
        offset += 4 * n;
        counts.push_back(n);
    }
    // nlohmann sorts object keys; readers go by data_offsets, so the order of keys does not matter.
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');

    unsigned char len[8];
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    f.write(len, 8);
    f.write(text);
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (counts[i] == 0) continue;
        if constexpr (std::endian::native == std::endian::little) {
            f.write(tensors[i].data, static_cast<size_t>(4 * counts[i]));
        } else {
            for (int64_t k = 0; k < counts[i]; ++k) {
                const uint32_t u = __builtin_bswap32(std::bit_cast<uint32_t>(tensors[i].data[k]));
                f.write(&u, 4);
            }
        }
    }
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsOut>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    AtomicFile f(path);
    write_safetensors(f, tensors, metadata);
    f.commit();
}

}  // namespace mla
