// safetensors.h: half/bfloat16 conversions, round trip, and malformed files refused
// with a message that names the file and the problem.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"

using namespace mla;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& tag) {
    fs::path p = fs::temp_directory_path() / ("mla_st_" + tag + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string le64(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

// A file with the given header text and `data_bytes` bytes of data.
std::string raw_file(const std::string& header, size_t data_bytes) {
    return le64(header.size()) + header + std::string(data_bytes, '\0');
}

// Builds a file in memory with the given header (as JSON), writes it and opens it; the
// expected InputError message must contain every fragment and the path.
void expect_refused(const std::string& bytes, const std::vector<std::string>& fragments) {
    const fs::path dir = temp_dir("bad");
    const fs::path p = dir / "bad.safetensors";
    write_bytes(p, bytes);
    try {
        SafetensorsReader r(p.string());
        for (const SafetensorsEntry& e : r.entries()) {
            std::vector<float> buf(static_cast<size_t>(e.numel()));
            r.read(e, buf.data());
        }
        FAIL("no error for a file that should be refused");
    } catch (const InputError& e) {
        const std::string msg = e.what();
        INFO(msg);
        CHECK_THAT(msg, Contains(p.string()));
        for (const std::string& f : fragments) CHECK_THAT(msg, Contains(f));
    }
    fs::remove_all(dir);
}

std::string f32_header(const std::string& extra = "") {
    return R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})" + extra + "}";
}

uint16_t bits_of_half(float f) { return float_to_half(f); }

}  // namespace

TEST_CASE("half_to_float decodes known binary16 values", "[safetensors]") {
    CHECK(half_to_float(0x3c00) == 1.0f);
    CHECK(half_to_float(0xc000) == -2.0f);
    CHECK(half_to_float(0x3800) == 0.5f);
    CHECK(half_to_float(0x3555) == 0.333251953125f);
    CHECK(half_to_float(0x7bff) == 65504.0f);                        // largest finite
    CHECK(half_to_float(0x0400) == std::ldexp(1.0f, -14));           // smallest normal
    CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));           // smallest subnormal
    CHECK(half_to_float(0x03ff) == std::ldexp(1023.0f, -24));        // largest subnormal
    CHECK(half_to_float(0x8001) == -std::ldexp(1.0f, -24));
    CHECK(half_to_float(0x0000) == 0.0f);
    CHECK_FALSE(std::signbit(half_to_float(0x0000)));
    CHECK(std::signbit(half_to_float(0x8000)));
    CHECK(half_to_float(0x7c00) == std::numeric_limits<float>::infinity());
    CHECK(half_to_float(0xfc00) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(half_to_float(0x7e00)));
    CHECK(std::isnan(half_to_float(0x7c01)));  // signalling NaN stays NaN
    CHECK(std::isnan(half_to_float(0xfe00)));
}

TEST_CASE("bfloat16_to_float decodes known bfloat16 values", "[safetensors]") {
    CHECK(bfloat16_to_float(0x3f80) == 1.0f);
    CHECK(bfloat16_to_float(0xc040) == -3.0f);
    CHECK(bfloat16_to_float(0x4049) == 3.140625f);
    CHECK(bfloat16_to_float(0x7f7f) == 3.3895313892515355e38f);      // largest finite
    CHECK(bfloat16_to_float(0x0080) == std::ldexp(1.0f, -126));      // smallest normal
    CHECK(bfloat16_to_float(0x0001) == std::ldexp(1.0f, -133));      // smallest subnormal
    CHECK(std::signbit(bfloat16_to_float(0x8000)));
    CHECK(bfloat16_to_float(0x7f80) == std::numeric_limits<float>::infinity());
    CHECK(bfloat16_to_float(0xff80) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(bfloat16_to_float(0x7fc0)));
    CHECK(std::isnan(bfloat16_to_float(0x7f81)));
}

TEST_CASE("float -> half/bfloat16 round to nearest even and invert the decoders", "[safetensors]") {
    // Every non-NaN bit pattern survives decode then encode.
    for (uint32_t u = 0; u < 0x10000u; ++u) {
        const uint16_t h = static_cast<uint16_t>(u);
        const float fh = half_to_float(h);
        if (std::isnan(fh)) CHECK(std::isnan(half_to_float(float_to_half(fh))));
        else if (float_to_half(fh) != h) FAIL("half 0x" << std::hex << u << " does not round-trip");
        const float fb = bfloat16_to_float(h);
        if (std::isnan(fb)) CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(fb))));
        else if (float_to_bfloat16(fb) != h) FAIL("bfloat16 0x" << std::hex << u << " does not round-trip");
    }
    // Ties to even, overflow, and the subnormal range of half.
    CHECK(bits_of_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);       // tie, even stays
    CHECK(bits_of_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);   // tie, odd rounds up
    CHECK(bits_of_half(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) == 0x3c01);
    CHECK(bits_of_half(65519.0f) == 0x7bff);
    CHECK(bits_of_half(65520.0f) == 0x7c00);
    CHECK(bits_of_half(1e10f) == 0x7c00);
    CHECK(bits_of_half(-1e10f) == 0xfc00);
    CHECK(bits_of_half(std::ldexp(1.0f, -25)) == 0x0000);              // tie to even: 0
    CHECK(bits_of_half(std::ldexp(1.5f, -25)) == 0x0001);
    CHECK(bits_of_half(std::ldexp(1.5f, -24)) == 0x0002);              // tie to even: 2
    CHECK(bits_of_half(std::ldexp(1023.5f, -24)) == 0x0400);           // rounds up into the normals
    CHECK(bits_of_half(-std::ldexp(1.0f, -30)) == 0x8000);
    CHECK(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);   // tie, even stays
    CHECK(float_to_bfloat16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);
    CHECK(float_to_bfloat16(3.4e38f) == 0x7f80);                       // rounds past the largest finite
}

TEST_CASE("safetensors round trip keeps names, shapes, metadata and bits", "[safetensors]") {
    const fs::path dir = temp_dir("rt");
    const fs::path p = dir / "t.safetensors";
    std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f, -0.0f, std::ldexp(1.0f, -140)};  // incl. a float subnormal
    std::vector<float> b = {42.0f};
    std::vector<float> c(7);
    for (size_t i = 0; i < c.size(); ++i) c[i] = std::sin(static_cast<float>(i) + 0.5f);
    write_safetensors(p.string(),
                      {{"z.first", {2, 3}, a.data()}, {"scalar", {}, b.data()}, {"empty", {0, 4}, nullptr},
                       {"a.vec", {7}, c.data()}},
                      {{"format", "pt"}});

    const std::string bytes = read_bytes(p);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    CHECK(n % 8 == 0);
    CHECK(bytes.size() == 8 + n + 4 * (6 + 1 + 7));

    SafetensorsReader r(p.string());
    CHECK(r.metadata().at("format") == "pt");
    REQUIRE(r.entries().size() == 4);
    CHECK(r.entries()[0].name == "z.first");  // data order, not key order
    CHECK(r.find("z.first")->shape == std::vector<int64_t>{2, 3});
    CHECK(r.find("scalar")->shape.empty());
    CHECK(r.find("scalar")->numel() == 1);
    CHECK(r.find("empty")->numel() == 0);
    CHECK(r.find("nope") == nullptr);
    const std::vector<float> ra = r.read("z.first");
    REQUIRE(ra.size() == a.size());
    CHECK(std::memcmp(ra.data(), a.data(), 4 * a.size()) == 0);
    CHECK(r.read("scalar") == b);
    CHECK(r.read("a.vec") == c);
    CHECK(r.read("empty").empty());
    CHECK_THROWS_WITH(r.read("nope"), Contains("no tensor named 'nope'"));
    fs::remove_all(dir);
}

TEST_CASE("safetensors F16 and BF16 tensors are read as float", "[safetensors]") {
    const fs::path dir = temp_dir("half");
    const fs::path p = dir / "h.safetensors";
    const std::vector<uint16_t> h = {0x3c00, 0xc000, 0x0001, 0x7c00, 0x7bff};
    const std::vector<uint16_t> bf = {0x3f80, 0x4049, 0xff80, 0x0001};
    std::string data;
    for (uint16_t u : h) {
        data.push_back(static_cast<char>(u & 0xff));
        data.push_back(static_cast<char>(u >> 8));
    }
    for (uint16_t u : bf) {
        data.push_back(static_cast<char>(u & 0xff));
        data.push_back(static_cast<char>(u >> 8));
    }
    const std::string header = R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},)"
                               R"("b":{"dtype":"BF16","shape":[2,2],"data_offsets":[10,18]}})";
    write_bytes(p, le64(header.size()) + header + data);
    SafetensorsReader r(p.string());
    CHECK(r.read("h") == std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24),
                                            std::numeric_limits<float>::infinity(), 65504.0f});
    CHECK(r.read("b") == std::vector<float>{1.0f, 3.140625f, -std::numeric_limits<float>::infinity(),
                                            std::ldexp(1.0f, -133)});
    fs::remove_all(dir);
}

TEST_CASE("malformed safetensors files are refused with a message", "[safetensors]") {
    SECTION("shorter than 8 bytes") {
        expect_refused("abc", {"3 bytes long", "shorter than the 8-byte header length"});
        expect_refused("", {"0 bytes long"});
    }
    SECTION("header length beyond the file") {
        const std::string h = f32_header();
        expect_refused(le64(h.size() + 100) + h + std::string(24, '\0'), {"header length", "truncated"});
    }
    SECTION("absurd header length") {
        expect_refused(le64(0xffffffffffffull) + "{}", {"100 MB"});
        expect_refused(le64(~0ull) + "{}", {"100 MB"});
    }
    SECTION("header not JSON") { expect_refused(raw_file("{\"a\": [1, 2", 0), {"not valid JSON"}); }
    SECTION("header not an object") { expect_refused(raw_file("[1,2,3]", 0), {"must be a JSON object", "array"}); }
    SECTION("tensor not an object") { expect_refused(raw_file(R"({"a": 3})", 0), {"tensor 'a'", "must be an object"}); }
    SECTION("missing fields") {
        expect_refused(raw_file(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4), {"tensor 'a'", "'dtype' is missing"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4), {"'shape' is missing"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[1]}})", 4), {"'data_offsets' is missing"});
    }
    SECTION("bad field types") {
        expect_refused(raw_file(R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4), {"dtype must be a string"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", 4), {"shape must be an array"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4), {"non-negative integers"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4), {"data_offsets must be two"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4), {"data_offsets must be two"});
    }
    SECTION("negative shape") {
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}})", 24),
                       {"tensor 'a'", "non-negative", "-3"});
    }
    SECTION("shape product overflows") {
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4),
                       {"tensor 'a'", "overflow"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[9223372036854775807],"data_offsets":[0,4]}})", 4),
                       {"overflow"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,4]}})", 4),
                       {"non-negative integers"});
    }
    SECTION("offsets out of range") {
        expect_refused(raw_file(f32_header(), 20), {"tensor 'a'", "reach beyond the data, which is 20 bytes"});
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8), {"end before they begin"});
    }
    SECTION("offsets not matching shape x dtype") {
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24),
                       {"tensor 'a'", "hold 20 bytes", "[2, 3] of F32 needs 24"});
        expect_refused(raw_file(R"({"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,24]}})", 24),
                       {"of BF16 needs 12"});
    }
    SECTION("overlapping tensors") {
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})", 20),
                       {"'a' [0, 16)", "'b' [12, 20)", "overlap"});
    }
    SECTION("duplicate names") {
        expect_refused(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                       {"'a' twice"});
    }
    SECTION("unknown and unsupported dtypes") {
        expect_refused(raw_file(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4),
                       {"tensor 'a'", "\"F33\" is not a safetensors dtype"});
        expect_refused(raw_file(R"({"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})", 16),
                       {"tensor 'ids' has dtype I64", "F32, F16 or BF16"});
        expect_refused(raw_file(R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2),
                       {"tensor 'w' has dtype F8_E4M3"});
    }
    SECTION("bad metadata") {
        expect_refused(raw_file(R"({"__metadata__":{"format":1}})", 0), {"__metadata__", "format", "must be a string"});
        expect_refused(raw_file(R"({"__metadata__":[1]})", 0), {"__metadata__", "must be an object"});
    }
    SECTION("file truncated after the header") {
        const fs::path dir = temp_dir("trunc");
        const fs::path p = dir / "t.safetensors";
        std::vector<float> a(10, 1.0f);
        write_safetensors(p.string(), {{"a", {10}, a.data()}});
        std::string bytes = read_bytes(p);
        bytes.resize(bytes.size() - 5);
        expect_refused(bytes, {"tensor 'a'", "reach beyond the data", "truncated"});
        fs::remove_all(dir);
    }
    SECTION("a missing file") {
        CHECK_THROWS_WITH(SafetensorsReader("/nonexistent/x.safetensors"),
                          Contains("cannot open") && Contains("/nonexistent/x.safetensors"));
    }
}

TEST_CASE("corrupted safetensors files never crash the reader", "[safetensors]") {
    const fs::path dir = temp_dir("fuzz");
    const fs::path good = dir / "good.safetensors";
    std::vector<float> a(12, 0.5f), b(3, -1.0f);
    write_safetensors(good.string(), {{"a", {3, 4}, a.data()}, {"b", {3}, b.data()}}, {{"format", "pt"}});
    const std::string bytes = read_bytes(good);
    const fs::path p = dir / "bad.safetensors";
    uint64_t state = 12345;
    auto next = [&] { return (state = state * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
    int refused = 0, accepted = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        std::string m = bytes;
        const int kind = static_cast<int>(next() % 3);
        if (kind == 0) m.resize(next() % m.size());                         // truncate
        else if (kind == 1) m[next() % m.size()] = static_cast<char>(next()); // flip a byte
        else m[next() % 8] = static_cast<char>(next());                      // corrupt the length
        write_bytes(p, m);
        try {
            SafetensorsReader r(p.string());
            for (const SafetensorsEntry& e : r.entries()) {
                std::vector<float> buf(static_cast<size_t>(e.numel()));
                r.read(e, buf.data());
            }
            ++accepted;
        } catch (const InputError&) {
            ++refused;
        }
    }
    CHECK(refused + accepted == 2000);
    CHECK(refused > 500);
    fs::remove_all(dir);
}

TEST_CASE("write_safetensors refuses bad tensor lists", "[safetensors]") {
    const fs::path dir = temp_dir("w");
    std::vector<float> a(2, 1.0f);
    const std::string p = (dir / "w.safetensors").string();
    CHECK_THROWS_WITH(write_safetensors(p, {{"a", {2}, a.data()}, {"a", {2}, a.data()}}), Contains("'a' is listed twice"));
    CHECK_THROWS_WITH(write_safetensors(p, {{"", {2}, a.data()}}), Contains("cannot write a tensor named"));
    CHECK_THROWS_WITH(write_safetensors(p, {{"a", {-2}, a.data()}}), Contains("invalid shape"));
    CHECK_THROWS_WITH(write_safetensors((dir / "no" / "such" / "x").string(), {{"a", {2}, a.data()}}),
                      Contains("cannot create"));
    fs::remove_all(dir);
}
