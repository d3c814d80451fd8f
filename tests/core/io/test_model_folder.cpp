// io/model_folder.h: save -> load round trips, and model folders that do not match their
// config refused with messages that name the tensor and the shapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include <nlohmann/json.hpp>

#include "base/text_file.h"
#include "io/model_folder.h"
#include "io/safetensors.h"
#include "support/temp_dir.h"

using namespace mla;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& tag) {
    fs::path p = fs::temp_directory_path() / ("mla_io_" + tag + "_" + std::to_string(std::random_device{}()));
    fs::remove_all(p);
    return p;
}

Config mla_config(int64_t q_lora_rank) {
    Config c = builtin_config(AttnKind::MLA);
    c.vocab_size = 40;
    c.hidden_size = 24;
    c.intermediate_size = 40;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 3;
    c.num_key_value_heads = 3;
    c.q_lora_rank = q_lora_rank;
    c.kv_lora_rank = 12;
    c.qk_nope_head_dim = 6;
    c.qk_rope_head_dim = 4;
    c.v_head_dim = 5;
    return c;
}

Config gqa_config() {
    Config c = builtin_config(AttnKind::GQA, 2);
    c.vocab_size = 40;
    c.hidden_size = 24;
    c.intermediate_size = 40;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.head_dim = 6;
    return c;
}

bool same_bits(const float* a, const float* b, int64_t n) { return n == 0 || std::memcmp(a, b, sizeof(float) * n) == 0; }

template <class M>
bool same(const M& a, const M& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() && same_bits(a.data(), b.data(), a.size());
}

bool same_weights(const Weights& a, const Weights& b) {
    if (!same(a.embed, b.embed) || !same(a.final_norm, b.final_norm) || !same(a.lm_head, b.lm_head)) return false;
    if (a.layers.size() != b.layers.size()) return false;
    for (size_t l = 0; l < a.layers.size(); ++l) {
        const LayerWeights &x = a.layers[l], &y = b.layers[l];
        if (!(same(x.attn_norm, y.attn_norm) && same(x.w_q, y.w_q) && same(x.w_k, y.w_k) && same(x.w_v, y.w_v) &&
              same(x.w_q_a, y.w_q_a) && same(x.q_a_norm, y.q_a_norm) && same(x.w_q_b, y.w_q_b) &&
              same(x.w_kv_a, y.w_kv_a) && same(x.kv_a_norm, y.kv_a_norm) && same(x.w_kv_b, y.w_kv_b) &&
              same(x.w_o, y.w_o) && same(x.mlp_norm, y.mlp_norm) && same(x.w_gate, y.w_gate) &&
              same(x.w_up, y.w_up) && same(x.w_down, y.w_down)))
            return false;
    }
    return true;
}

// The tensors of a saved model, to edit and write back.
struct Tensor {
    std::string name;
    std::vector<int64_t> shape;
    std::vector<float> data;
};

std::vector<Tensor> read_all(const fs::path& file) {
    SafetensorsReader r(file.string());
    std::vector<Tensor> out;
    for (const SafetensorsEntry& e : r.entries()) out.push_back({e.name, e.shape, r.read(e.name)});
    return out;
}

void write_all(const fs::path& file, const std::vector<Tensor>& ts) {
    std::vector<SafetensorsOut> out;
    for (const Tensor& t : ts) out.push_back({t.name, t.shape, t.data.data()});
    write_safetensors(file.string(), out);
}

// Saves `w` to a fresh folder, lets `edit` change its tensors, and returns the folder.
fs::path saved_and_edited(const Weights& w, const std::function<void(std::vector<Tensor>&)>& edit) {
    const fs::path dir = temp_dir("edit");
    save_model(w, dir.string());
    std::vector<Tensor> ts = read_all(dir / "model.safetensors");
    edit(ts);
    write_all(dir / "model.safetensors", ts);
    return dir;
}

void edit_config(const fs::path& dir, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j;
    {
        std::ifstream f(dir / "config.json");
        j = nlohmann::json::parse(f);
    }
    edit(j);
    std::ofstream(dir / "config.json") << j.dump(2);
}

std::string load_error(const fs::path& dir) {
    try {
        load_model(dir.string());
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("save_model -> load_model gives identical weights and config", "[model_folder]") {
    struct Case { const char* what; Config cfg; };
    Config tied = gqa_config();
    tied.tie_word_embeddings = true;
    Config mha = builtin_config(AttnKind::MHA);
    for (const Case& c : {Case{"mla, query compression", mla_config(8)}, Case{"mla, no query compression", mla_config(0)},
                          Case{"gqa", gqa_config()}, Case{"gqa, tied embeddings", tied}, Case{"mha builtin", mha}}) {
        INFO(c.what);
        const Weights w = random_weights(c.cfg, 7);
        const fs::path dir = temp_dir("rt") / "nested" / "model";
        save_model(w, dir.string());
        CHECK(fs::exists(dir / "config.json"));
        CHECK(fs::exists(dir / "model.safetensors"));
        int files = 0;
        for (const auto& e : fs::directory_iterator(dir)) { (void)e; ++files; }
        CHECK(files == 2);  // no temporary file left behind

        const Weights r = load_model(dir.string());
        CHECK(config_to_json(r.cfg) == config_to_json(w.cfg));
        CHECK(same_weights(r, w));
        if (c.cfg.tie_word_embeddings) CHECK(same(r.lm_head, r.embed));

        SafetensorsReader st((dir / "model.safetensors").string());
        CHECK(st.metadata().at("format") == "pt");  // what transformers expects
        for (const SafetensorsEntry& e : st.entries()) CHECK(e.dtype == "F32");

        save_model(r, dir.string());  // overwriting an existing model
        CHECK(same_weights(load_model(dir.string()), w));
        fs::remove_all(dir.parent_path().parent_path());
    }
}

TEST_CASE("load_model reads F16 and BF16 checkpoints", "[model_folder]") {
    const Weights w = random_weights(mla_config(8), 3);
    // Tensors alternate F16 and BF16; the reference is an F32 file of the same rounded values.
    const fs::path dir = temp_dir("bf16");
    save_model(w, dir.string());
    std::vector<Tensor> ts = read_all(dir / "model.safetensors");
    std::string header = "{";
    std::string data;
    for (size_t i = 0; i < ts.size(); ++i) {
        Tensor& t = ts[i];
        const bool half = i % 2 == 0;  // alternate F16 and BF16
        const size_t begin = data.size();
        for (float& v : t.data) {
            const uint16_t u = half ? float_to_half(v) : float_to_bfloat16(v);
            v = half ? half_to_float(u) : bfloat16_to_float(u);
            data.push_back(static_cast<char>(u & 0xff));
            data.push_back(static_cast<char>(u >> 8));
        }
        nlohmann::json e = {{"dtype", half ? "F16" : "BF16"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
        if (i) header += ",";
        header += nlohmann::json(t.name).dump() + ":" + e.dump();
    }
    header += "}";
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    std::ofstream(dir / "model.safetensors", std::ios::binary | std::ios::trunc) << len << header << data;

    const Weights r = load_model(dir.string());
    CHECK(r.embed(0, 0) == ts[0].data[0]);  // model.embed_tokens.weight, stored as F16
    const fs::path dir32 = temp_dir("bf16ref");
    save_model(w, dir32.string());
    write_all(dir32 / "model.safetensors", ts);
    CHECK(same_weights(r, load_model(dir32.string())));
    fs::remove_all(dir);
    fs::remove_all(dir32);
}

TEST_CASE("load_model refuses folders that do not match their config", "[model_folder]") {
    const Weights w = random_weights(mla_config(8), 11);

    SECTION("a missing tensor") {
        const fs::path dir = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            std::erase_if(ts, [](const Tensor& t) { return t.name == "model.layers.1.self_attn.kv_b_proj.weight"; });
        });
        const std::string msg = load_error(dir);
        CHECK_THAT(msg, Contains("model.safetensors") && Contains("model.layers.1.self_attn.kv_b_proj.weight is missing") &&
                            Contains("expected shape [33, 12]"));
        fs::remove_all(dir);
    }
    SECTION("a missing lm_head suggests tie_word_embeddings") {
        const fs::path dir = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            std::erase_if(ts, [](const Tensor& t) { return t.name == "lm_head.weight"; });
        });
        CHECK_THAT(load_error(dir), Contains("lm_head.weight is missing") && Contains("tie_word_embeddings"));
        fs::remove_all(dir);
    }
    SECTION("a wrong shape") {
        const fs::path dir = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            for (Tensor& t : ts)
                if (t.name == "model.layers.0.self_attn.kv_a_proj_with_mqa.weight") t.shape = {t.shape[1], t.shape[0]};
        });
        CHECK_THAT(load_error(dir), Contains("model.layers.0.self_attn.kv_a_proj_with_mqa.weight has shape [24, 16]") &&
                                        Contains("expected [16, 24]"));
        fs::remove_all(dir);
    }
    SECTION("a vector stored as a matrix") {
        const fs::path dir = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            for (Tensor& t : ts)
                if (t.name == "model.norm.weight") t.shape = {1, t.shape[0]};
        });
        CHECK_THAT(load_error(dir), Contains("model.norm.weight has shape [1, 24], expected [24]"));
        fs::remove_all(dir);
    }
    SECTION("unexpected tensors are named; rotary_emb.inv_freq is tolerated") {
        const fs::path dir = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            ts.push_back({"model.layers.0.self_attn.rotary_emb.inv_freq", {2}, {1.0f, 0.01f}});
            ts.push_back({"model.layers.0.mlp.experts.0.up_proj.weight", {2, 3}, std::vector<float>(6)});
        });
        const std::string msg = load_error(dir);
        CHECK_THAT(msg, Contains("1 tensor(s) the config does not call for") &&
                            Contains("model.layers.0.mlp.experts.0.up_proj.weight [2, 3]"));
        CHECK_THAT(msg, !Contains("inv_freq"));
        fs::remove_all(dir);

        const fs::path ok = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            ts.push_back({"model.layers.1.self_attn.rotary_emb.inv_freq", {2}, {1.0f, 0.01f}});
        });
        CHECK(same_weights(load_model(ok.string()), w));
        fs::remove_all(ok);
    }
    SECTION("an unsupported dtype") {
        const fs::path dir = temp_dir("u16");
        save_model(w, dir.string());
        std::vector<Tensor> ts = read_all(dir / "model.safetensors");
        std::string header = "{";
        std::string data;
        for (size_t i = 0; i < ts.size(); ++i) {
            const Tensor& t = ts[i];
            const bool bad = t.name == "model.layers.0.input_layernorm.weight";
            const size_t begin = data.size();
            data.append(reinterpret_cast<const char*>(t.data.data()), (bad ? 2 : 4) * t.data.size());
            nlohmann::json e = {{"dtype", bad ? "U16" : "F32"}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
            if (i) header += ",";
        header += nlohmann::json(t.name).dump() + ":" + e.dump();
        }
        header += "}";
        std::string len(8, '\0');
        for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
        std::ofstream(dir / "model.safetensors", std::ios::binary | std::ios::trunc) << len << header << data;
        CHECK_THAT(load_error(dir), Contains("tensor 'model.layers.0.input_layernorm.weight' has dtype U16") &&
                                        Contains("F32, F16 or BF16"));
        fs::remove_all(dir);
    }
    SECTION("non-finite weights") {
        const fs::path dir = saved_and_edited(w, [](std::vector<Tensor>& ts) {
            for (Tensor& t : ts)
                if (t.name == "model.layers.1.mlp.up_proj.weight") t.data[5] = std::nanf("");
        });
        CHECK_THAT(load_error(dir), Contains("'model.layers.1.mlp.up_proj.weight' holds nan at element 5"));
        fs::remove_all(dir);
    }
    SECTION("a truncated file") {
        const fs::path dir = temp_dir("trunc");
        save_model(w, dir.string());
        fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") - 100);
        CHECK_THAT(load_error(dir), Contains("model.safetensors") && Contains("truncated"));
        fs::remove_all(dir);
    }
}

TEST_CASE("load_model refuses configs the engine does not run, and missing files", "[model_folder]") {
    const Weights w = random_weights(mla_config(0), 5);
    const fs::path dir = temp_dir("cfg");
    save_model(w, dir.string());

    edit_config(dir, [](nlohmann::json& j) { j["n_routed_experts"] = 8; });
    CHECK_THAT(load_error(dir), Contains("config.json") && Contains("n_routed_experts = 8") && Contains("mixture-of-experts"));
    edit_config(dir, [](nlohmann::json& j) {
        j["n_routed_experts"] = nullptr;
        j["rope_scaling"] = {{"type", "yarn"}, {"factor", 40}};
    });
    CHECK_THAT(load_error(dir), Contains("rope_scaling.type = \"yarn\""));
    edit_config(dir, [](nlohmann::json& j) {
        j["rope_scaling"] = nullptr;
        j["kv_lora_rank"] = 10;  // the file's tensors are for 12
    });
    CHECK_THAT(load_error(dir), Contains("kv_a_proj_with_mqa.weight has shape [16, 24], expected [14, 24]"));
    edit_config(dir, [](nlohmann::json& j) { j.erase("vocab_size"); });
    CHECK_THAT(load_error(dir), Contains("'vocab_size' is missing"));

    fs::remove(dir / "config.json");
    CHECK_THAT(load_error(dir), Contains("has no config.json"));
    save_model(w, dir.string());
    fs::remove(dir / "model.safetensors");
    CHECK_THAT(load_error(dir), Contains("has no model.safetensors"));
    std::ofstream(dir / "model.safetensors.index.json") << "{}";
    CHECK_THAT(load_error(dir), Contains("weight_map must be an object"));
    CHECK_THAT(load_error(dir / "nope"), Contains("does not exist"));
    fs::remove_all(dir);
}

TEST_CASE("save_model refuses what it cannot write, leaving no partial files", "[model_folder]") {
    const Weights w = random_weights(gqa_config(), 2);
    const fs::path dir = temp_dir("save");
    fs::create_directories(dir);
    std::ofstream(dir / "a_file") << "x";
    CHECK_THROWS_WITH(save_model(w, (dir / "a_file").string()), Contains("cannot create the model folder"));

    Weights bad = w;
    bad.layers[1].w_up.resize(3, 3);
    CHECK_THROWS_WITH(save_model(bad, (dir / "m").string()),
                      Contains("model.layers.1.mlp.up_proj.weight is 3 x 3") && Contains("40 x 24"));
    CHECK_FALSE(fs::exists(dir / "m" / "model.safetensors"));

    // An existing model folder whose model.safetensors is a folder: refused before anything is
    // written; that folder and no temporary file remain.
    fs::create_directories(dir / "m2" / "model.safetensors" / "x");
    CHECK_THROWS_WITH(save_model(w, (dir / "m2").string()), Contains("it is a folder"));
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir / "m2")) { (void)e; ++files; }
    CHECK(files == 1);
    fs::remove_all(dir);
}

TEST_CASE("AtomicFile: all or nothing, the temporary file never left behind", "[model_folder][atomic]") {
    TempDir tmp;
    const std::string path = (tmp.path / "out.txt").string();
    write_file_atomic(path, "first");
    {
        AtomicFile f(path);
        f.write("second, unfinished");
    }  // dies uncommitted: the old file stays, no temporary remains
    CHECK(read_file(path) == "first");
    int files = 0;
    for (const auto& e : fs::directory_iterator(tmp.path)) { (void)e; ++files; }
    CHECK(files == 1);
    {
        AtomicFile f(path);
        f.write("second");
        f.finish();
        CHECK(read_file(path) == "first");  // finished, not yet in place
        f.commit();
    }
    CHECK(read_file(path) == "second");
    CHECK_THROWS_WITH(AtomicFile((tmp.path / "no" / "such" / "x").string()), Contains("cannot create"));
    CHECK_THROWS_WITH(AtomicFile(tmp.path.string()), Contains("it is a folder"));
}

TEST_CASE("load_model reads a sharded checkpoint (model.safetensors.index.json) as the same weights", "[model_folder]") {
    Weights w = random_weights(gqa_config(), 9);
    const fs::path one = temp_dir("one"), two = temp_dir("shards");
    save_model(w, one.string());
    fs::create_directories(two);
    fs::copy_file(one / "config.json", two / "config.json");
    // Every other tensor in the second shard, as Hugging Face's save_pretrained splits by size.
    const std::vector<NamedTensor> all = list_tensors(w);
    std::vector<SafetensorsOut> a, b;
    nlohmann::json map = nlohmann::json::object();
    for (size_t k = 0; k < all.size(); ++k) {
        if (all[k].spec.name == "lm_head.weight" && w.cfg.tie_word_embeddings) continue;
        const std::string shard = k % 2 ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
        const TensorSpec& t = all[k].spec;
        const std::vector<int64_t> shape = t.is_vector ? std::vector<int64_t>{t.rows * t.cols} : std::vector<int64_t>{t.rows, t.cols};
        (k % 2 ? b : a).push_back({t.name, shape, all[k].data});
        map[all[k].spec.name] = shard;
    }
    write_safetensors((two / "model-00001-of-00002.safetensors").string(), a);
    write_safetensors((two / "model-00002-of-00002.safetensors").string(), b);
    const auto write_index = [&](const nlohmann::json& m) {
        std::ofstream(two / "model.safetensors.index.json") << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", m}}.dump();
    };
    write_index(map);
    Weights from_one = load_model(one.string()), from_two = load_model(two.string());
    const std::vector<NamedTensor> x = list_tensors(from_one), y = list_tensors(from_two);
    REQUIRE(x.size() == y.size());
    for (size_t k = 0; k < x.size(); ++k) {
        INFO(x[k].spec.name);
        CHECK(std::memcmp(x[k].data, y[k].data, sizeof(float) * static_cast<size_t>(x[k].spec.size())) == 0);
    }
    // An index that disagrees with its shards, or names a file outside the folder.
    nlohmann::json wrong = map;
    const std::string first = all[0].spec.name;
    wrong[first] = "model-00002-of-00002.safetensors";
    write_index(wrong);
    CHECK_THAT(load_error(two), Contains("holds '" + first + "'") && Contains("puts in model-00002-of-00002.safetensors"));
    wrong = map;
    wrong[first] = "../model.safetensors";
    write_index(wrong);
    CHECK_THAT(load_error(two), Contains("a shard is a file name in the model folder"));
    wrong = map;
    wrong[first] = "missing.safetensors";
    write_index(wrong);
    CHECK_THAT(load_error(two), Contains("missing.safetensors"));
    wrong = map;
    wrong.erase(first);
    write_index(wrong);
    CHECK_THAT(load_error(two), Contains("does not name"));
    fs::remove_all(one);
    fs::remove_all(two);
}
