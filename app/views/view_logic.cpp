#include "view_logic.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mla::app {

// ============================================================================ cache slabs

std::vector<Slab> cache_slabs(const Config& c, const RunOptions& o, int64_t T) {
    std::vector<Slab> out;
    if (o.no_cache || T <= 0) return out;
    const int H = static_cast<int>(c.num_attention_heads);
    auto all_heads = [&] {
        std::vector<int> v(static_cast<size_t>(H));
        for (int h = 0; h < H; ++h) v[static_cast<size_t>(h)] = h;
        return v;
    };
    if (c.is_mla()) {
        if (o.mla_path == MlaPath::CachedKV) {
            for (int h = 0; h < H; ++h)
                out.push_back({"K head " + std::to_string(h), SlabPart::Key, T,
                               c.qk_nope_head_dim + c.qk_rope_head_dim, {h}});
            for (int h = 0; h < H; ++h)
                out.push_back({"V head " + std::to_string(h), SlabPart::Value, T, c.v_head_dim, {h}});
        } else {
            out.push_back({"c_KV (latent)", SlabPart::Latent, T, c.kv_lora_rank, all_heads()});
            out.push_back({"k_R (RoPE key)", SlabPart::RopeKey, T, c.qk_rope_head_dim, all_heads()});
        }
        return out;
    }
    const auto readers = kv_readers(c);
    const int G = static_cast<int>(c.num_key_value_heads);
    const char* unit = G == H ? "head " : (G == 1 ? "shared" : "group ");
    for (int part = 0; part < 2; ++part)
        for (int g = 0; g < G; ++g) {
            std::string label = std::string(part == 0 ? "K " : "V ") + unit;
            if (G > 1) label += std::to_string(g);
            out.push_back({label, part == 0 ? SlabPart::Key : SlabPart::Value, T, c.head_dim,
                           readers[static_cast<size_t>(g)]});
        }
    return out;
}

// ============================================================================ who reads what

int64_t kv_sources(const Config& c) { return c.is_mla() ? 1 : c.num_key_value_heads; }

int kv_source_of(const Config& c, int query_head) {
    if (c.is_mla()) return 0;
    return static_cast<int>(query_head / c.kv_groups());
}

std::vector<std::vector<int>> kv_readers(const Config& c) {
    std::vector<std::vector<int>> r(static_cast<size_t>(kv_sources(c)));
    for (int h = 0; h < c.num_attention_heads; ++h) r[static_cast<size_t>(kv_source_of(c, h))].push_back(h);
    return r;
}

// ============================================================================ series

std::vector<int64_t> token_grid(int64_t max_T, int points) {
    std::vector<int64_t> g;
    max_T = std::max<int64_t>(max_T, 1);
    points = std::max(points, 2);
    if (max_T <= points) {
        for (int64_t t = 1; t <= max_T; ++t) g.push_back(t);
        return g;
    }
    for (int i = 0; i < points; ++i) {
        const int64_t t = 1 + static_cast<int64_t>(std::llround(static_cast<double>(max_T - 1) * i / (points - 1)));
        if (g.empty() || t > g.back()) g.push_back(t);
    }
    return g;
}

std::vector<Series> cache_bytes_series(const ModelSettings& s, int64_t max_T, double dtype_bytes) {
    std::vector<Series> out;
    const auto grid = token_grid(max_T);
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        const Config c = model_config(s, k);
        Series se;
        static const char* names[] = {"MHA", "GQA", "MQA", "MLA"};
        se.label = names[static_cast<int>(k)];
        if (k == AttnKind::MLA && s.mla_path == MlaPath::CachedKV) se.label = "MLA (cached-kv)";
        const double per_token = static_cast<double>(cache_elements_per_token(c, s.mla_path)) *
                                 static_cast<double>(c.num_hidden_layers) * dtype_bytes;
        for (int64_t t : grid) {
            se.x.push_back(static_cast<double>(t));
            se.y.push_back(per_token * static_cast<double>(t));
        }
        out.push_back(std::move(se));
    }
    return out;
}

std::vector<Series> flops_series(const Config& c, const RunOptions& o, int64_t max_T) {
    RunOptions with = o, without = o;
    with.no_cache = false;
    without.no_cache = true;
    Series a{"with KV cache", {}, {}}, b{"no cache (re-run the prefix)", {}, {}};
    for (int64_t t : token_grid(max_T, 128)) {
        a.x.push_back(static_cast<double>(t));
        a.y.push_back(step_cost(c, with, t).flops());
        b.x.push_back(static_cast<double>(t));
        b.y.push_back(step_cost(c, without, t).flops());
    }
    return {a, b};
}

namespace {
template <class F>
std::vector<Series> per_path(const ModelSettings& s, int64_t max_T, F value) {
    const Config c = model_config(s, AttnKind::MLA);
    std::vector<Series> out;
    for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
        RunOptions o = run_options(s, AttnKind::MLA);
        o.mla_path = p;
        o.no_cache = false;
        Series se{to_string(p), {}, {}};
        for (int64_t t : token_grid(max_T, 128)) {
            se.x.push_back(static_cast<double>(t));
            se.y.push_back(value(step_cost(c, o, t)));
        }
        out.push_back(std::move(se));
    }
    return out;
}
}  // namespace

std::vector<Series> path_flops_series(const ModelSettings& s, int64_t max_T) {
    return per_path(s, max_T, [](const StepCost& k) { return k.flops(); });
}

std::vector<Series> path_cache_read_series(const ModelSettings& s, int64_t max_T) {
    return per_path(s, max_T, [](const StepCost& k) { return k.cache_read_bytes(); });
}

// ============================================================================ attention matrix

std::vector<float> attention_matrix(const std::vector<Trace>& traces, int64_t upto, int layer, int head) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    if (upto < 0) return {};
    const int64_t n = upto + 1;
    std::vector<float> m(static_cast<size_t>(n * n), nan);
    for (int64_t i = 0; i < n && i < static_cast<int64_t>(traces.size()); ++i) {
        const std::vector<float> p = traces[static_cast<size_t>(i)].head_probs(layer, head);
        const int64_t cols = std::min<int64_t>(static_cast<int64_t>(p.size()), i + 1);
        for (int64_t j = 0; j < cols; ++j) m[static_cast<size_t>(i * n + j)] = p[static_cast<size_t>(j)];
    }
    return m;
}

float attention_max(const std::vector<Trace>& traces, int64_t upto, int layer) {
    float mx = 0;
    for (int64_t i = 0; i <= upto && i < static_cast<int64_t>(traces.size()); ++i)
        if (const TensorRecord* r = traces[static_cast<size_t>(i)].find("att_probs", layer))
            for (float v : r->data) mx = std::max(mx, v);
    return mx;
}

}  // namespace mla::app
