#include "model/weights.h"

#include <cmath>
#include <type_traits>

#include "base/check.h"
#include "base/rng.h"

namespace mla {

void allocate(Weights& w) {
    w.layers.assign(static_cast<size_t>(w.cfg.num_hidden_layers), LayerWeights{});
    w.lm_head.resize(0, 0);
    each_tensor(w.cfg, [](const TensorSpec& s, auto& t) {
        if constexpr (std::is_same_v<std::decay_t<decltype(t)>, Vec>) t.setOnes(s.rows);
        else t.setZero(s.rows, s.cols);
    }, w);
}

std::vector<TensorSpec> tensor_specs(const Config& c) {
    std::vector<TensorSpec> out;
    each_tensor(c, [&](const TensorSpec& s) { out.push_back(s); });
    return out;
}

double parameter_count(const Config& c) {
    // Closed form, so that it costs nothing for any config (each_tensor walks every layer).
    const double D = static_cast<double>(c.hidden_size), H = static_cast<double>(c.num_attention_heads),
                 F = static_cast<double>(c.intermediate_size), V = static_cast<double>(c.vocab_size);
    double attn = 0;
    if (c.is_mla()) {
        const double C = static_cast<double>(c.kv_lora_rank), Cq = static_cast<double>(c.q_lora_rank),
                     Dn = static_cast<double>(c.qk_nope_head_dim), Dr = static_cast<double>(c.qk_rope_head_dim),
                     Dv = static_cast<double>(c.v_head_dim);
        const double WL = C + static_cast<double>(c.mla_rope_key_heads) * Dr, norm = c.mla_kv_norm ? C : 0;
        attn = (Cq > 0 ? Cq * D + Cq + H * (Dn + Dr) * Cq : H * (Dn + Dr) * D) + WL * D + norm +
               H * (Dn + Dv) * C + D * H * Dv;
    } else {
        const double G = static_cast<double>(c.num_key_value_heads), Dh = static_cast<double>(c.head_dim);
        attn = 2 * H * Dh * D + 2 * G * Dh * D;
    }
    const double layer = 2 * D + attn + 3 * F * D;
    return V * D + static_cast<double>(c.num_hidden_layers) * layer + D + (c.tie_word_embeddings ? 0 : V * D);
}

std::vector<NamedTensor> list_tensors(Weights& w) {
    std::vector<NamedTensor> out;
    each_tensor(w.cfg, [&](const TensorSpec& s, auto& t) {
        MLA_CHECK(t.size() == s.size());
        out.push_back({s, t.data()});
    }, w);
    return out;
}

Weights random_weights(const Config& cfg, uint64_t seed) {
    validate(cfg);
    Weights w;
    w.cfg = cfg;
    allocate(w);
    Rng rng(seed);
    for (NamedTensor& t : list_tensors(w)) {
        const int64_t n = t.spec.size();
        if (t.spec.is_vector) {
            // Norm gains near 1, so activations keep their scale.
            for (int64_t i = 0; i < n; ++i) t.data[i] = 1.0f + 0.1f * rng.symmetric();
            continue;
        }
        // Embeddings: unit-variance rows; linear layers: variance 1 / fan_in. The query and
        // key projections get a larger gain so attention is visibly peaked, not uniform.
        float gain = 1.0f;
        if (t.spec.name.find("embed_tokens") != std::string::npos) gain = std::sqrt(static_cast<float>(t.spec.cols));
        else if (t.spec.name.find("q_proj") != std::string::npos || t.spec.name.find("q_b_proj") != std::string::npos ||
                 t.spec.name.find("k_proj") != std::string::npos || t.spec.name.find("kv_b_proj") != std::string::npos ||
                 t.spec.name.find("kv_a_proj") != std::string::npos)
            gain = 2.0f;
        const float scale = gain / std::sqrt(static_cast<float>(t.spec.cols));
        for (int64_t i = 0; i < n; ++i) t.data[i] = scale * rng.normal();
    }
    if (cfg.tie_word_embeddings) w.lm_head = w.embed;
    return w;
}

}  // namespace mla
