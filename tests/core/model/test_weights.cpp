// model/weights.h: each_tensor is the one list of a model's tensors. The names and shapes it
// gives are held against a checkpoint written by an earlier version of the project (the
// trained models in assets/models) and against hand-counted parameter totals; every walker
// (allocation, the trainer's layout, the decoder's upload) visits the same tensors.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "base/assets.h"
#include "io/safetensors.h"
#include "model/weights.h"
#include "train/train_model.h"

using namespace mla;

namespace {

std::vector<std::string> names(const Config& c) {
    Weights w;
    w.cfg = c;
    allocate(w);
    std::vector<std::string> out;
    for (const NamedTensor& t : list_tensors(w)) out.push_back(t.spec.name);
    return out;
}

int64_t total(const Config& c) {
    Weights w;
    w.cfg = c;
    allocate(w);
    int64_t n = 0;
    for (const NamedTensor& t : list_tensors(w)) n += t.spec.size();
    return n;
}

}  // namespace

TEST_CASE("each_tensor lists a layer's tensors in file order, with the config's shapes", "[weights]") {
    Config c = builtin_config(AttnKind::MLA);
    c.num_hidden_layers = 1;
    c.q_lora_rank = 16;
    const std::vector<std::string> expected = {
        "model.embed_tokens.weight",
        "model.layers.0.input_layernorm.weight",
        "model.layers.0.self_attn.q_a_proj.weight",
        "model.layers.0.self_attn.q_a_layernorm.weight",
        "model.layers.0.self_attn.q_b_proj.weight",
        "model.layers.0.self_attn.kv_a_proj_with_mqa.weight",
        "model.layers.0.self_attn.kv_a_layernorm.weight",
        "model.layers.0.self_attn.kv_b_proj.weight",
        "model.layers.0.self_attn.o_proj.weight",
        "model.layers.0.post_attention_layernorm.weight",
        "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight",
        "model.layers.0.mlp.down_proj.weight",
        "model.norm.weight",
        "lm_head.weight"};
    CHECK(names(c) == expected);

    Config g = builtin_config(AttnKind::GQA, 2);
    g.num_hidden_layers = 1;
    g.tie_word_embeddings = true;
    const std::vector<std::string> gqa = {
        "model.embed_tokens.weight",          "model.layers.0.input_layernorm.weight",
        "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
        "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
        "model.layers.0.post_attention_layernorm.weight", "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight",  "model.layers.0.mlp.down_proj.weight",
        "model.norm.weight"};  // tied: no lm_head
    CHECK(names(g) == gqa);

    // Shapes of the built-in GQA model (D 64, H 4, G 2, Dh 16, F 128): k_proj is (G*Dh, D).
    Weights w;
    w.cfg = builtin_config(AttnKind::GQA, 2);
    allocate(w);
    CHECK(w.layers.size() == 3);
    CHECK(w.layers[1].w_k.rows() == 32);
    CHECK(w.layers[1].w_k.cols() == 64);
    CHECK(w.layers[1].w_kv_b.size() == 0);  // an MLA tensor: absent
    CHECK(w.layers[2].mlp_norm.size() == 64);
    CHECK(w.layers[2].mlp_norm(5) == 1.0f);  // norm gains start at one
}

TEST_CASE("each_tensor's parameter totals are the trained models' (train --report)", "[weights]") {
    // Counted by hand for D 64, F 176, V 256, 3 layers, H 4, Dh 16, untied lm_head:
    //   embed + lm_head + model.norm = 2 * 256 * 64 + 64 = 32,832
    //   per layer: 2 norms 128 + MLP 3 * 64 * 176 = 33,920, plus attention:
    //     MHA q, k, v, o 4 * 64 * 64 = 16,384          -> 32,832 + 3 * 50,304 = 183,744
    //     GQA (G 2) 4096 + 2 * 2048 + 4096 = 12,288   -> 32,832 + 3 * 46,208 = 171,456
    //     MQA 4096 + 2 * 1024 + 4096 = 10,240         -> 32,832 + 3 * 44,160 = 165,312
    //     MLA q (96, 64) 6,144 + kv_a (40, 64) 2,560 + kv_a_norm 32 + kv_b (128, 32) 4,096
    //         + o (64, 64) 4,096 = 16,928             -> 32,832 + 3 * 50,848 = 185,376
    // the same totals `mla-lab train --report assets/models` printed when they were trained.
    CHECK(total(builtin_config(AttnKind::MHA)) == 183744);
    CHECK(total(builtin_config(AttnKind::GQA, 2)) == 171456);
    CHECK(total(builtin_config(AttnKind::MQA)) == 165312);
    CHECK(total(builtin_config(AttnKind::MLA)) == 185376);
}

TEST_CASE("each_tensor names exactly the tensors of the trained checkpoints", "[weights]") {
    const std::string models = find_assets_subdir("models");
    REQUIRE(!models.empty());
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        INFO(to_string(k));
        SafetensorsReader r(models + "/" + to_string(k) + "-fortunes/model.safetensors");
        std::set<std::string> in_file;
        for (const SafetensorsEntry& e : r.entries()) in_file.insert(e.name);
        const std::vector<std::string> listed = names(builtin_config(k, k == AttnKind::GQA ? 2 : 0));
        CHECK(std::set<std::string>(listed.begin(), listed.end()) == in_file);
        CHECK(listed.size() == in_file.size());
    }
}

TEST_CASE("every walker of the list visits the same tensors: allocation, the trainer's layout", "[weights]") {
    for (AttnKind k : {AttnKind::MHA, AttnKind::MQA, AttnKind::MLA}) {
        Config c = builtin_config(k);
        if (k == AttnKind::MLA) c.q_lora_rank = 8;
        Weights w;
        w.cfg = c;
        allocate(w);
        const std::vector<NamedTensor> list = list_tensors(w);
        const train::ParamLayout L = train::make_layout(c);
        REQUIRE(L.slots.size() == list.size());
        int64_t off = 0;
        std::set<const float*> seen;
        for (size_t i = 0; i < list.size(); ++i) {
            CHECK(L.slots[i].name == list[i].spec.name);
            CHECK(L.slots[i].off == off);
            CHECK(L.slots[i].size() == list[i].spec.size());
            off += list[i].spec.size();
            seen.insert(list[i].data);
        }
        CHECK(L.size == off);
        CHECK(seen.size() == list.size());  // no tensor listed twice
        // The layout's named slots point at the tensors of those names.
        CHECK(L.slots[L.layers[1].w_o].name == "model.layers.1.self_attn.o_proj.weight");
        CHECK(L.slots[L.final_norm].name == "model.norm.weight");
        if (k == AttnKind::MLA) {
            CHECK(L.slots[L.layers[2].q_a_norm].name == "model.layers.2.self_attn.q_a_layernorm.weight");
            CHECK(L.layers[0].w_k.index == -1);
        }
        // flatten -> unflatten round trip through the same list.
        for (NamedTensor& t : list_tensors(w))
            for (int64_t i = 0; i < t.spec.size(); ++i) t.data[i] = static_cast<float>(i % 7) - 3.0f;
        const Weights back = train::unflatten(L, train::flatten(L, w).data());
        CHECK(back.layers[2].w_down == w.layers[2].w_down);
        CHECK(back.embed == w.embed);
    }
}
