// Host-side weights of a decoder, every field with its shape (rows, cols) in the legend
// of config.h. Names follow Hugging Face: Llama for MHA/GQA/MQA, DeepseekV2 for MLA.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/tensor.h"

namespace mla {

// [SECTION] The tensors, listed once
//
// A layer's tensors and the model's, as templates over what each field holds: host
// matrices (Weights), backend buffers (the Decoder's), slots of a flat array (the
// trainer's). each_tensor() below is the one list of names and shapes that allocation,
// upload, release, loading, saving and the trainer all walk; adding a tensor is a field
// here and a line there.
template <class M, class V> struct LayerTensors {
    V attn_norm;   // (D)                  input_layernorm
    // MHA / GQA / MQA (Llama names)
    M w_q;         // (H*Dh, D)  q_proj; MLA without query compression: (H*(Dn+Dr), D)
    M w_k;         // (G*Dh, D)  k_proj
    M w_v;         // (G*Dh, D)  v_proj
    // MLA (DeepseekV2 names)
    M w_q_a;       // (Cq, D)              q_a_proj: W_DQ
    V q_a_norm;    // (Cq)                 q_a_layernorm
    M w_q_b;       // (H*(Dn+Dr), Cq)      q_b_proj: W_UQ and W_QR stacked per head
    M w_kv_a;      // (C+Gr*Dr, D)         kv_a_proj_with_mqa: W_DKV then W_KR (Gr rotary keys)
    V kv_a_norm;   // (C)                  kv_a_layernorm (absent when !mla_kv_norm)
    M w_kv_b;      // (H*(Dn+Dv), C)       kv_b_proj: W_UK,h (Dn, C) then W_UV,h (Dv, C), per head
    M w_o;         // (D, H*Dv) MLA, (D, H*Dh) otherwise   o_proj
    // MLP
    V mlp_norm;    // (D)                  post_attention_layernorm
    M w_gate;      // (F, D)               mlp.gate_proj
    M w_up;        // (F, D)               mlp.up_proj
    M w_down;      // (D, F)               mlp.down_proj
};

template <class M, class V, class Layer = LayerTensors<M, V>> struct ModelTensors {
    M embed;       // (V, D)   model.embed_tokens
    std::vector<Layer> layers;
    V final_norm;  // (D)      model.norm
    M lm_head;     // (V, D)   lm_head (absent from the list when tie_word_embeddings)
};

using LayerWeights = LayerTensors<Mat, Vec>;

struct Weights : ModelTensors<Mat, Vec> {
    Config cfg;    // lm_head is a copy of embed when cfg.tie_word_embeddings
};

// One entry of the list: the Hugging Face name and the shape; a vector has cols = 1.
struct TensorSpec {
    std::string name;      // "model.layers.0.self_attn.q_proj.weight"
    int64_t rows = 0, cols = 0;
    bool is_vector = false;
    int layer = -1;        // -1 = not a layer's tensor
    int64_t size() const { return rows * cols; }
};

// Calls f(spec, field of a, field of b, ...) for every tensor a model of config `c` has, in
// file order: embed, each layer, model.norm, then lm_head unless tied. `objs` are
// ModelTensors of any field types whose `layers` already hold c.num_hidden_layers entries.
template <class F, class... Objs> void each_tensor(const Config& c, F&& f, Objs&... objs);

// The list alone (no storage), and what it adds up to: parameters (lm_head counted once
// when tied) and their bytes in float32, in double so that hostile sizes cannot overflow.
std::vector<TensorSpec> tensor_specs(const Config& c);
double parameter_count(const Config& c);

// Sizes every tensor of `w` to its shape from w.cfg (layers included): matrices zero, norm
// gains one; lm_head empty when tied.
void allocate(Weights& w);

// Every tensor of `w` (allocated) with its name, shape and data, in file order.
struct NamedTensor {
    TensorSpec spec;
    float* data;           // into the Weights' storage
};
std::vector<NamedTensor> list_tensors(Weights& w);

// Deterministic weights from a seed (the built-in model): the same on every platform.
Weights random_weights(const Config& cfg, uint64_t seed);

// ---- each_tensor: the list itself

template <class F, class... Objs> void each_tensor(const Config& c, F&& f, Objs&... objs) {
    const int64_t D = c.hidden_size, H = c.num_attention_heads, F_ = c.intermediate_size, V = c.vocab_size;
    auto mat = [&](std::string name, int layer, int64_t rows, int64_t cols, auto&... fields) {
        f(TensorSpec{std::move(name), rows, cols, false, layer}, fields...);
    };
    auto vec = [&](std::string name, int layer, int64_t n, auto&... fields) {
        f(TensorSpec{std::move(name), n, 1, true, layer}, fields...);
    };
    mat("model.embed_tokens.weight", -1, V, D, objs.embed...);
    for (int l = 0; l < static_cast<int>(c.num_hidden_layers); ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        vec(p + "input_layernorm.weight", l, D, objs.layers[l].attn_norm...);
        if (c.is_mla()) {
            const int64_t C = c.kv_lora_rank, Cq = c.q_lora_rank, Dq = c.qk_nope_head_dim + c.qk_rope_head_dim;
            if (Cq > 0) {
                mat(p + "self_attn.q_a_proj.weight", l, Cq, D, objs.layers[l].w_q_a...);
                vec(p + "self_attn.q_a_layernorm.weight", l, Cq, objs.layers[l].q_a_norm...);
                mat(p + "self_attn.q_b_proj.weight", l, H * Dq, Cq, objs.layers[l].w_q_b...);
            } else {
                mat(p + "self_attn.q_proj.weight", l, H * Dq, D, objs.layers[l].w_q...);
            }
            mat(p + "self_attn.kv_a_proj_with_mqa.weight", l, c.mla_row(), D, objs.layers[l].w_kv_a...);
            if (c.mla_kv_norm) vec(p + "self_attn.kv_a_layernorm.weight", l, C, objs.layers[l].kv_a_norm...);
            mat(p + "self_attn.kv_b_proj.weight", l, H * (c.qk_nope_head_dim + c.v_head_dim), C,
                objs.layers[l].w_kv_b...);
            mat(p + "self_attn.o_proj.weight", l, D, H * c.v_head_dim, objs.layers[l].w_o...);
        } else {
            const int64_t G = c.num_key_value_heads, Dh = c.head_dim;
            mat(p + "self_attn.q_proj.weight", l, H * Dh, D, objs.layers[l].w_q...);
            mat(p + "self_attn.k_proj.weight", l, G * Dh, D, objs.layers[l].w_k...);
            mat(p + "self_attn.v_proj.weight", l, G * Dh, D, objs.layers[l].w_v...);
            mat(p + "self_attn.o_proj.weight", l, D, H * Dh, objs.layers[l].w_o...);
        }
        vec(p + "post_attention_layernorm.weight", l, D, objs.layers[l].mlp_norm...);
        mat(p + "mlp.gate_proj.weight", l, F_, D, objs.layers[l].w_gate...);
        mat(p + "mlp.up_proj.weight", l, F_, D, objs.layers[l].w_up...);
        mat(p + "mlp.down_proj.weight", l, D, F_, objs.layers[l].w_down...);
    }
    vec("model.norm.weight", -1, D, objs.final_norm...);
    if (!c.tie_word_embeddings) mat("lm_head.weight", -1, V, D, objs.lm_head...);
}

}  // namespace mla
