#include "model/cost.h"

#include <nlohmann/json.hpp>

#include "base/check.h"

namespace mla {

double StepCost::flops() const {
    double s = head_flops;
    for (const auto& l : layers) s += l.flops();
    return s;
}
double StepCost::weight_bytes() const {
    double s = head_weight_bytes;
    for (const auto& l : layers) s += l.weight_bytes;
    return s;
}
double StepCost::cache_read_bytes() const {
    double s = 0;
    for (const auto& l : layers) s += l.cache_read_bytes;
    return s;
}
double StepCost::cache_write_bytes() const {
    double s = 0;
    for (const auto& l : layers) s += l.cache_write_bytes;
    return s;
}
int64_t StepCost::cache_elements() const {
    int64_t s = 0;
    for (const auto& l : layers) s += l.cache_elements;
    return s;
}

int64_t cache_elements_per_token(const Config& c, MlaPath path) {
    if (!c.is_mla()) return 2 * c.num_key_value_heads * c.head_dim;  // MHA 2 H Dh, GQA 2 G Dh, MQA 2 Dh
    if (path == MlaPath::CachedKV)
        return c.num_attention_heads * (c.qk_nope_head_dim + c.qk_rope_head_dim + c.v_head_dim);
    return c.mla_row();  // c_kv and the rotary key(s): one shared (DeepSeek) or one per group (converted)
}

LayerCost attention_cost(const Config& c, const RunOptions& o, int64_t T, double dtype_bytes) {
    MLA_CHECK(T >= 1);
    const double D = c.hidden_size, H = c.num_attention_heads, t = static_cast<double>(T);
    LayerCost r;
    double weights = 0;  // elements
    const double row = static_cast<double>(cache_elements_per_token(c, o.mla_path));
    if (!c.is_mla()) {
        const double G = c.num_key_value_heads, Dh = c.head_dim;
        r.attn_flops = 2 * D * (H * Dh + 2 * G * Dh)  // q, k, v projections
                       + 2 * H * t * Dh               // scores q_h . k_j
                       + 2 * H * t * Dh               // weighted sum of v_j
                       + 2 * H * Dh * D;              // output projection
        weights = D * (H * Dh + 2 * G * Dh) + H * Dh * D;
    } else {
        const double C = c.kv_lora_rank, Cq = c.q_lora_rank, Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim,
                     Dv = c.v_head_dim, Dq = Dn + Dr;
        if (Cq > 0) {
            r.attn_flops += 2 * D * Cq + 2 * Cq * H * Dq;
            weights += D * Cq + Cq + Cq * H * Dq;
        } else {
            r.attn_flops += 2 * D * H * Dq;
            weights += D * H * Dq;
        }
        const double WL = static_cast<double>(c.mla_row());
        r.attn_flops += 2 * D * WL;                  // kv_a_proj_with_mqa
        weights += D * WL + (c.mla_kv_norm ? C : 0) + H * (Dn + Dv) * C;  // kv_a, kv_a_layernorm, kv_b
        switch (o.mla_path) {
            case MlaPath::CachedKV:
                r.attn_flops += 2 * C * H * (Dn + Dv)         // decompress the new token
                                + 2 * H * t * Dq + 2 * H * t * Dv;
                break;
            case MlaPath::Recompute:
                r.attn_flops += 2 * t * C * H * (Dn + Dv)     // rebuild K_nope and V of all T tokens
                                + 2 * H * t * Dq + 2 * H * t * Dv;
                break;
            case MlaPath::Absorbed:
                r.attn_flops += 2 * H * Dn * C                // q_absorbed = W_UK^T q_nope
                                + 2 * H * t * (C + Dr)        // scores against [c_kv ; k_rope]
                                + 2 * H * t * C               // o_latent = sum_j p_j c_kv(j)
                                + 2 * H * C * Dv;             // att_out = W_UV o_latent
                break;
        }
        r.attn_flops += 2 * H * Dv * D;  // output projection
        weights += H * Dv * D;
    }
    r.weight_bytes = weights * dtype_bytes;
    const double cache_bytes = o.cache_dtype == CacheDtype::F32 ? dtype_bytes : cache_dtype_bytes(o.cache_dtype);
    r.cache_read_bytes = t * row * cache_bytes;    // every cached row once (the new one included)
    r.cache_write_bytes = row * cache_bytes;
    r.cache_elements = o.no_cache ? 0 : T * static_cast<int64_t>(row);
    return r;
}

StepCost step_cost(const Config& c, const RunOptions& o, int64_t T, double dtype_bytes) {
    StepCost s;
    step_cost(s, c, o, T, dtype_bytes);
    return s;
}

void step_cost(StepCost& s, const Config& c, const RunOptions& o, int64_t T, double dtype_bytes) {
    MLA_CHECK(T >= 1);
    const double D = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
    LayerCost per;
    // No cache: positions 1..T are all recomputed, each over the tokens up to it.
    const int64_t first = o.no_cache ? 1 : T;
    for (int64_t p = first; p <= T; ++p) {
        LayerCost a = attention_cost(c, o, p, dtype_bytes);
        per.attn_flops += a.attn_flops;
        per.weight_bytes += a.weight_bytes + (3 * D * F + 2 * D) * dtype_bytes;  // MLP and the two norms
        per.mlp_flops += 2 * 3 * D * F;
        per.cache_read_bytes += a.cache_read_bytes;
        per.cache_write_bytes += a.cache_write_bytes;
    }
    per.cache_elements = o.no_cache ? 0 : T * cache_elements_per_token(c, o.mla_path);
    s.layers.assign(static_cast<size_t>(c.num_hidden_layers), per);
    s.head_flops = 2 * D * V;
    s.head_weight_bytes = (V * D + 2 * D) * dtype_bytes;  // lm_head, final norm, one embedding row
}

nlohmann::json cost_json(const StepCost& c) {
    using nlohmann::json;
    json layers = json::array();
    for (size_t l = 0; l < c.layers.size(); ++l) {
        const LayerCost& x = c.layers[l];
        layers.push_back({{"layer", l},
                          {"attn_flops", x.attn_flops},
                          {"mlp_flops", x.mlp_flops},
                          {"weight_bytes", x.weight_bytes},
                          {"cache_read_bytes", x.cache_read_bytes},
                          {"cache_write_bytes", x.cache_write_bytes},
                          {"cache_elements", x.cache_elements}});
    }
    return {{"flops", c.flops()},
            {"weight_bytes", c.weight_bytes()},
            {"cache_read_bytes", c.cache_read_bytes()},
            {"cache_write_bytes", c.cache_write_bytes()},
            {"cache_elements", c.cache_elements()},
            {"head_flops", c.head_flops},
            {"layers", layers}};
}

}  // namespace mla
