#include "model/weights.h"

#include <cmath>

#include "base/rng.h"

namespace mla {

namespace {

void add_mat(std::vector<NamedTensor>& out, const std::string& name, Mat& m, int64_t rows, int64_t cols) {
    m.setZero(rows, cols);
    out.push_back({name, m.data(), rows, cols, false});
}

void add_vec(std::vector<NamedTensor>& out, const std::string& name, Vec& v, int64_t n) {
    v.setOnes(n);
    out.push_back({name, v.data(), n, 1, true});
}

}  // namespace

std::vector<NamedTensor> allocate_and_list(Weights& w) {
    const Config& c = w.cfg;
    const int64_t D = c.hidden_size, H = c.num_attention_heads, F = c.intermediate_size, V = c.vocab_size;
    std::vector<NamedTensor> out;
    add_mat(out, "model.embed_tokens.weight", w.embed, V, D);
    w.layers.assign(c.num_hidden_layers, LayerWeights{});
    for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
        LayerWeights& lw = w.layers[l];
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add_vec(out, p + "input_layernorm.weight", lw.attn_norm, D);
        if (c.is_mla()) {
            const int64_t Dq = c.qk_nope_head_dim + c.qk_rope_head_dim;
            if (c.q_lora_rank > 0) {
                add_mat(out, p + "self_attn.q_a_proj.weight", lw.w_q_a, c.q_lora_rank, D);
                add_vec(out, p + "self_attn.q_a_layernorm.weight", lw.q_a_norm, c.q_lora_rank);
                add_mat(out, p + "self_attn.q_b_proj.weight", lw.w_q_b, H * Dq, c.q_lora_rank);
            } else {
                add_mat(out, p + "self_attn.q_proj.weight", lw.w_q, H * Dq, D);
            }
            add_mat(out, p + "self_attn.kv_a_proj_with_mqa.weight", lw.w_kv_a, c.kv_lora_rank + c.qk_rope_head_dim, D);
            add_vec(out, p + "self_attn.kv_a_layernorm.weight", lw.kv_a_norm, c.kv_lora_rank);
            add_mat(out, p + "self_attn.kv_b_proj.weight", lw.w_kv_b, H * (c.qk_nope_head_dim + c.v_head_dim),
                    c.kv_lora_rank);
            add_mat(out, p + "self_attn.o_proj.weight", lw.w_o, D, H * c.v_head_dim);
        } else {
            const int64_t G = c.num_key_value_heads, Dh = c.head_dim;
            add_mat(out, p + "self_attn.q_proj.weight", lw.w_q, H * Dh, D);
            add_mat(out, p + "self_attn.k_proj.weight", lw.w_k, G * Dh, D);
            add_mat(out, p + "self_attn.v_proj.weight", lw.w_v, G * Dh, D);
            add_mat(out, p + "self_attn.o_proj.weight", lw.w_o, D, H * Dh);
        }
        add_vec(out, p + "post_attention_layernorm.weight", lw.mlp_norm, D);
        add_mat(out, p + "mlp.gate_proj.weight", lw.w_gate, F, D);
        add_mat(out, p + "mlp.up_proj.weight", lw.w_up, F, D);
        add_mat(out, p + "mlp.down_proj.weight", lw.w_down, D, F);
    }
    add_vec(out, "model.norm.weight", w.final_norm, D);
    if (c.tie_word_embeddings) {
        w.lm_head.resize(0, 0);
    } else {
        add_mat(out, "lm_head.weight", w.lm_head, V, D);
    }
    return out;
}

Weights random_weights(const Config& cfg, uint64_t seed) {
    validate(cfg);
    Weights w;
    w.cfg = cfg;
    auto tensors = allocate_and_list(w);
    Rng rng(seed);
    for (NamedTensor& t : tensors) {
        const int64_t n = t.rows * t.cols;
        if (t.is_vector) {
            // Norm gains near 1, so activations keep their scale.
            for (int64_t i = 0; i < n; ++i) t.data[i] = 1.0f + 0.1f * rng.symmetric();
            continue;
        }
        // Embeddings: unit-variance rows; linear layers: variance 1 / fan_in. The query and
        // key projections get a larger gain so attention is visibly peaked, not uniform.
        float gain = 1.0f;
        if (t.name.find("embed_tokens") != std::string::npos) gain = std::sqrt(static_cast<float>(t.cols));
        else if (t.name.find("q_proj") != std::string::npos || t.name.find("q_b_proj") != std::string::npos ||
                 t.name.find("k_proj") != std::string::npos || t.name.find("kv_b_proj") != std::string::npos ||
                 t.name.find("kv_a_proj") != std::string::npos)
            gain = 2.0f;
        const float scale = gain / std::sqrt(static_cast<float>(t.cols));
        for (int64_t i = 0; i < n; ++i) t.data[i] = scale * rng.normal();
    }
    if (cfg.tie_word_embeddings) w.lm_head = w.embed;
    return w;
}

}  // namespace mla
