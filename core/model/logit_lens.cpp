#include "model/logit_lens.h"

#include <cmath>
#include <string>

namespace mla {

std::vector<std::vector<float>> logit_lens(const Weights& w, const Trace& t) {
    const Config& c = w.cfg;
    const int64_t D = c.hidden_size, L = c.num_hidden_layers;
    std::vector<const TensorRecord*> residuals;
    for (int64_t l = 0; l < L; ++l) residuals.push_back(t.find("x", static_cast<int>(l)));
    residuals.push_back(t.find("x_final"));
    std::vector<std::vector<float>> out;
    for (size_t i = 0; i < residuals.size(); ++i) {
        const TensorRecord* r = residuals[i];
        if (!r || static_cast<int64_t>(r->data.size()) != D)  // a record kept by shape only has no data
            throw InputError("the logit lens needs the residual " +
                             (i + 1 < residuals.size() ? "entering layer " + std::to_string(i) : std::string("after the last layer")) +
                             " in the trace; this lane keeps only att_probs and logits");
        const CVecMap x(r->data.data(), D);
        // RMSNorm on this residual: x / sqrt(mean(x^2) + eps) * model.norm
        const float inv = 1.0f / std::sqrt(x.squaredNorm() / static_cast<float>(D) + static_cast<float>(c.rms_norm_eps));
        const Vec xn = (x * inv).cwiseProduct(w.final_norm);
        const Vec logits = (w.lm_head.size() > 0 ? w.lm_head : w.embed) * xn;  // tied: lm_head is the embedding
        out.emplace_back(logits.data(), logits.data() + logits.size());
    }
    // Before layer 0 the residual is the embedding: out[0]. After layer l: out[l + 1] (the
    // residual entering layer l + 1, or the final one).
    return out;
}

}  // namespace mla
