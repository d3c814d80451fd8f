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
