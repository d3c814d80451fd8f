// A checkpoint of SmolLM2-135M's exact configuration (Llama, 30 layers, 9 heads, 3 KV heads,
// hidden 576, tied embeddings, vocabulary 49152), written here in bf16 as two shards with a
// model.safetensors.index.json, with the seeded weights that
// tests/fixtures/smollm2/make_reference.py describes (the rule is in its docstring). It
// must load like any folder and give the logits of that script's independent PyTorch
// forward (reference.json) within 1e-4 relative. MLA_SMOLLM2_OUT=DIR keeps the folder.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "model/config.h"
#include "model/weights.h"
#include "support/temp_dir.h"

using namespace mla;
namespace fs = std::filesystem;

namespace {

uint64_t fnv1a64(const std::string& s) {
    uint64_t h = 0xCBF29CE484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
    return h;
}

// The bf16 bits of element i of tensor `name` (make_reference.py's rule; exact in bf16).
uint16_t value_bits(const std::string& name, uint64_t seed, uint64_t i) {
    uint64_t z = seed + i + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    const int64_t k = static_cast<int64_t>(z >> 56) - 128;
    const bool norm = name.size() >= 11 && name.compare(name.size() - 11, 11, "norm.weight") == 0;
    const float v = norm ? 1.0f + static_cast<float>(k >> 4) / 128.0f : static_cast<float>(k) / 2048.0f;
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    if ((bits & 0xFFFF) != 0) throw std::logic_error("the rule gave a value that bf16 cannot hold exactly");
    return static_cast<uint16_t>(bits >> 16);
}

// One shard: the tensors of `specs`, BF16, header padded to 8 bytes.
void write_shard(const fs::path& path, const std::vector<TensorSpec>& specs) {
    nlohmann::json header = nlohmann::json::object();
    uint64_t at = 0;
    for (const TensorSpec& t : specs) {
        const std::vector<int64_t> shape = t.is_vector ? std::vector<int64_t>{t.size()} : std::vector<int64_t>{t.rows, t.cols};
        const uint64_t bytes = 2 * static_cast<uint64_t>(t.size());
        header[t.name] = {{"dtype", "BF16"}, {"shape", shape}, {"data_offsets", {at, at + bytes}}};
        at += bytes;
    }
    header["__metadata__"] = {{"format", "pt"}};
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');
    std::ofstream f(path, std::ios::binary);
    const uint64_t n = h.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f.write(h.data(), static_cast<std::streamsize>(h.size()));
    std::vector<uint16_t> buf;
    for (const TensorSpec& t : specs) {
        const uint64_t seed = fnv1a64(t.name);
        buf.resize(static_cast<size_t>(t.size()));
        for (size_t i = 0; i < buf.size(); ++i) buf[i] = value_bits(t.name, seed, i);
        f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(2 * buf.size()));
    }
    REQUIRE(f.good());
}

long max_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

}  // namespace

TEST_CASE("SmolLM2-135M's configuration, bf16 in two shards: loads and gives PyTorch's logits", "[smollm2]") {
    std::ifstream rf(fs::path(MLA_FIXTURES_DIR) / "smollm2" / "reference.json");
    REQUIRE(rf.good());
    const nlohmann::json ref = nlohmann::json::parse(rf);

    TempDir tmp;
    const char* keep = std::getenv("MLA_SMOLLM2_OUT");
    const fs::path dir = keep && *keep ? fs::path(keep) : tmp.path;
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << ref.at("config").dump(2);

    const Config cfg = config_from_json(ref.at("config"));   // names and shapes from the engine's own list
    std::vector<TensorSpec> first, second;
    nlohmann::json map = nlohmann::json::object();
    for (const TensorSpec& t : tensor_specs(cfg)) {
        if (t.name == "lm_head.weight") continue;   // tied
        const bool late = t.layer >= 15 || t.name == "model.norm.weight";
        (late ? second : first).push_back(t);
        map[t.name] = late ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
    }
    write_shard(dir / "model-00001-of-00002.safetensors", first);
    write_shard(dir / "model-00002-of-00002.safetensors", second);
    std::ofstream(dir / "model.safetensors.index.json") << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", map}}.dump(1);

    const long rss_before = max_rss_kib();
    auto w = std::make_shared<const Weights>(load_model(dir.string()));
    const double f32_mib = 4.0 * static_cast<double>(parameter_count(w->cfg)) / (1 << 20);
    CHECK(parameter_count(w->cfg) == 134515008);   // SmolLM2-135M's parameter count, tied embeddings

    CpuBackend be;
    Decoder dec(w, be, RunOptions{});
    const auto ids = ref.at("ids").get<std::vector<int64_t>>();
    for (size_t p = 0; p < ids.size(); ++p) {
        const std::vector<float>& out = dec.step(ids[p]);
        const nlohmann::json& r = ref.at("positions")[p];
        INFO("position " << p);
        const double scale = r.at("max_abs").get<double>();
        double worst = 0, sum = 0, squares = 0;
        const auto want_ids = r.at("ids").get<std::vector<int64_t>>();
        const auto want = r.at("logits").get<std::vector<double>>();
        for (size_t k = 0; k < want_ids.size(); ++k)
            worst = std::max(worst, std::abs(out[static_cast<size_t>(want_ids[k])] - want[k]));
        for (float v : out) { sum += v; squares += static_cast<double>(v) * v; }
        CHECK(worst / scale <= 1e-4);
        CHECK(std::max_element(out.begin(), out.end()) - out.begin() == r.at("argmax").get<int64_t>());
        CHECK(std::abs(squares - r.at("sum_squares").get<double>()) <= 1e-4 * r.at("sum_squares").get<double>());
        CHECK(std::abs(sum - r.at("sum").get<double>()) <= 1e-4 * scale * std::sqrt(static_cast<double>(out.size())));
    }
    // Loaded and stepped, the process holds the weights about once: the decoder on the CPU
    // reads the loaded copy itself (Backend::create_const), not a second one.
    const double grown_mib = static_cast<double>(max_rss_kib() - rss_before) / 1024.0;
    std::printf("SmolLM2-135M config: %lld parameters, %.0f MiB in float32; loading and 8 steps grew the process by %.0f MiB\n",
                static_cast<long long>(parameter_count(w->cfg)), f32_mib, grown_mib);
    CHECK(grown_mib < 1.5 * f32_mib);
}
