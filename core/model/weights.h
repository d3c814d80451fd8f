// Host-side weights of a decoder, every field with its shape (rows, cols) in the legend
// of config.h. Names follow Hugging Face: Llama for MHA/GQA/MQA, DeepseekV2 for MLA.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/tensor.h"

namespace mla {

struct LayerWeights {
    Vec attn_norm;   // (D)                  input_layernorm
    // MHA / GQA / MQA (Llama names)
    Mat w_q;         // (H*Dh, D)  q_proj; MLA without query compression: (H*(Dn+Dr), D)
    Mat w_k;         // (G*Dh, D)  k_proj
    Mat w_v;         // (G*Dh, D)  v_proj
    // MLA (DeepseekV2 names)
    Mat w_q_a;       // (Cq, D)              q_a_proj: W_DQ
    Vec q_a_norm;    // (Cq)                 q_a_layernorm
    Mat w_q_b;       // (H*(Dn+Dr), Cq)      q_b_proj: W_UQ and W_QR stacked per head
    Mat w_kv_a;      // (C+Dr, D)            kv_a_proj_with_mqa: W_DKV then W_KR
    Vec kv_a_norm;   // (C)                  kv_a_layernorm
    Mat w_kv_b;      // (H*(Dn+Dv), C)       kv_b_proj: W_UK,h (Dn, C) then W_UV,h (Dv, C), per head
    Mat w_o;         // (D, H*Dv) MLA, (D, H*Dh) otherwise   o_proj
    // MLP
    Vec mlp_norm;    // (D)                  post_attention_layernorm
    Mat w_gate;      // (F, D)               mlp.gate_proj
    Mat w_up;        // (F, D)               mlp.up_proj
    Mat w_down;      // (D, F)               mlp.down_proj
};

struct Weights {
    Config cfg;
    Mat embed;       // (V, D)   model.embed_tokens
    std::vector<LayerWeights> layers;
    Vec final_norm;  // (D)      model.norm
    Mat lm_head;     // (V, D)   lm_head (a copy of embed when tie_word_embeddings)
};

// A tensor of Weights with its HF name and expected shape; a Vec has rows = n, cols = 1.
struct NamedTensor {
    std::string name;
    float* data;          // into the Weights' storage
    int64_t rows, cols;
    bool is_vector;
};
// Allocates every tensor of `w` to its shape (from w.cfg) and lists them in file order.
// lm_head is left out when tie_word_embeddings is set.
std::vector<NamedTensor> allocate_and_list(Weights& w);

// Deterministic weights from a seed (the built-in model): the same on every platform.
Weights random_weights(const Config& cfg, uint64_t seed);

}  // namespace mla
