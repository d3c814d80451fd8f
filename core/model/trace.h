// What one decode step recorded, by name and layer (llama.cpp's cb(cur, "Qcur", il)).
// Views read this, never the model. Names are the same in the trace, the shaders and
// the views: x, q, q_nope, q_rope, c_kv, k_rope, k, v, q_absorbed, att_scores,
// att_probs, att_out, o_latent, attn_output, logits.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/cost.h"

namespace mla {

struct TensorRecord {
    std::string name;
    int layer = -1;                  // -1 = not per layer (e.g. logits)
    std::array<int64_t, 2> shape{};  // maths order (rows, cols)
    std::vector<float> data;         // row-major
    int64_t numel() const;
    std::string shape_str() const;   // "17 x 32"
};

struct Trace {
    int64_t step = 0;                // 0-based index of the token fed in this step
    int64_t position = 0;            // its position in the sequence
    int64_t token = 0;               // token fed
    int64_t cache_tokens = 0;        // T after the step
    AttnKind kind = AttnKind::MHA;
    RunOptions options;
    std::vector<TensorRecord> tensors;
    StepCost cost;                   // cost model figures for this step
    std::vector<int64_t> cache_elements_per_layer;  // what each layer's cache holds now
    double step_ms = 0;              // wall time of the step on its backend
    std::string backend;             // "cpu" or "gpu"

    const TensorRecord* find(const std::string& name, int layer = -1) const;  // nullptr if absent
    // att_probs of one head: T floats over the keys 0..T-1 (empty if absent)
    std::vector<float> head_probs(int layer, int64_t head) const;
};

}  // namespace mla
