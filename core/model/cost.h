// The cost model: per decode step and per layer, FLOPs of the matrix products
// (2 per multiply-add), bytes of weights read, bytes of cache read and written, and cache
// elements held. The compute runs in float32; `dtype_bytes` changes only the accounting of
// weights (and of the cache when it is stored in float32); a cache stored narrower
// (RunOptions::cache_dtype) is counted in its stored bytes.
//
// A step appends one token: T = tokens in the cache after the append (= position + 1).
// No-cache mode re-runs the whole prefix: positions 0..T-1 each pay their projections and
// attention over the tokens before them, and nothing is held between steps.
#pragma once

#include <cstdint>
#include <vector>

#include "model/cache_dtype.h"
#include "model/config.h"

namespace mla {

struct RunOptions {
    MlaPath mla_path = MlaPath::Absorbed;
    bool rope_on_latent = false;  // RoPE on the compressed keys: the variant that breaks absorption
    bool no_cache = false;        // re-run the whole prefix every step (article section 1)
    CacheDtype cache_dtype = CacheDtype::F32;  // how the cache rows are stored
    // Attention in one fused pass (Backend::attend); false: the three-pass reference
    // (attn_scores, softmax, attn_values on a float32 copy of the cache), for the bench and tests.
    bool fused = true;
};

struct LayerCost {
    double attn_flops = 0;        // projections + scores + weighted sum + output projection
    double mlp_flops = 0;
    double weight_bytes = 0;      // attention + MLP + norm weights of this layer
    double cache_read_bytes = 0;
    double cache_write_bytes = 0;
    int64_t cache_elements = 0;   // held after the step
    double flops() const { return attn_flops + mlp_flops; }
};

struct StepCost {
    std::vector<LayerCost> layers;
    double head_flops = 0;        // lm_head
    double head_weight_bytes = 0; // embedding row + final norm + lm_head
    double flops() const;
    double weight_bytes() const;
    double cache_read_bytes() const;
    double cache_write_bytes() const;
    int64_t cache_elements() const;
    double cache_bytes(double dtype_bytes = 4) const { return static_cast<double>(cache_elements()) * dtype_bytes; }
};

// Cache elements per token per layer: MHA 2 H Dh, GQA 2 G Dh, MQA 2 Dh, MLA C + Dr,
// MLA cached-kv H (Dn + Dr + Dv).
int64_t cache_elements_per_token(const Config& c, MlaPath path);

// FLOPs, weight bytes and cache traffic of one layer's attention block for one token that
// attends over T tokens (its input projections, attention, output projection).
LayerCost attention_cost(const Config& c, const RunOptions& o, int64_t T, double dtype_bytes = 4);

// The whole step (all layers, MLP, lm_head).
StepCost step_cost(const Config& c, const RunOptions& o, int64_t T, double dtype_bytes = 4);
void step_cost(StepCost& out, const Config& c, const RunOptions& o, int64_t T, double dtype_bytes = 4);  // reuses out's storage

// A step's figures as JSON, the one writer `generate --json` and the window's trace export
// share: {"flops", "weight_bytes", "cache_read_bytes", "cache_write_bytes", "cache_elements",
// "head_flops", "layers": [{"layer", "attn_flops", "mlp_flops", "weight_bytes",
// "cache_read_bytes", "cache_write_bytes", "cache_elements"}, ...]}.
nlohmann::json cost_json(const StepCost& c);

}  // namespace mla
