// The decoder: the three MLA paths agree, the RoPE-on-latent variant does not, GQA and MQA
// are MHA with shared K/V heads, no-cache equals cached decoding.
#include <array>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <memory>
#include <string>

#include "base/numbers.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "model/logit_lens.h"

using namespace mla;

namespace {

std::vector<int64_t> prompt_ids() {
    std::string p = "Make a travel plan for Spain";
    return std::vector<int64_t>(p.begin(), p.end());
}

// Runs `steps` decode steps: the prompt, then greedy tokens chosen by the first run
// (`tokens` empty) or replayed from `tokens`. Returns the logits of every step.
std::vector<std::vector<float>> run(std::shared_ptr<const Weights> w, RunOptions o, int steps,
                                    std::vector<int64_t>& tokens) {
    CpuBackend be;
    Decoder dec(w, be, o);
    std::vector<std::vector<float>> out;
    const auto prompt = prompt_ids();
    int64_t next = prompt[0];
    for (int s = 0; s < steps; ++s) {
        int64_t tok;
        if (s < static_cast<int>(tokens.size())) tok = tokens[s];
        else {
            tok = s < static_cast<int>(prompt.size()) ? prompt[s] : next;
            tokens.push_back(tok);
        }
        out.push_back(dec.step(tok));
        next = std::max_element(out.back().begin(), out.back().end()) - out.back().begin();
    }
    return out;
}

// The largest difference over every step's logits (base/numbers.h per step).
double max_abs_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (size_t s = 0; s < a.size(); ++s) m = std::max(m, mla::max_abs_diff(a[s], b[s]));
    return m;
}

RunOptions path(MlaPath p, bool rope_on_latent = false) {
    RunOptions o;
    o.mla_path = p;
    o.rope_on_latent = rope_on_latent;
    return o;
}

}  // namespace

TEST_CASE("the three MLA paths agree over 64 decode steps of the default model", "[model][mla]") {
    for (int64_t q_lora : {0, 24}) {
        Config cfg = builtin_config(AttnKind::MLA);
        cfg.q_lora_rank = q_lora;
        auto w = std::make_shared<const Weights>(random_weights(cfg, 7));
        std::vector<int64_t> tokens;
        auto cached = run(w, path(MlaPath::CachedKV), 64, tokens);
        auto recompute = run(w, path(MlaPath::Recompute), 64, tokens);
        auto absorbed = run(w, path(MlaPath::Absorbed), 64, tokens);
        INFO("q_lora_rank = " << q_lora);
        CHECK(max_abs_diff(cached, recompute) <= 1e-4f);
        CHECK(max_abs_diff(cached, absorbed) <= 1e-4f);
        // The logits are not trivially equal because they are all zero.
        CHECK(std::abs(cached[10][3] - cached[11][3]) > 1e-3f);
    }
}

TEST_CASE("RoPE on the compressed keys breaks absorption", "[model][mla]") {
    auto w = std::make_shared<const Weights>(random_weights(builtin_config(AttnKind::MLA), 7));
    std::vector<int64_t> tokens;
    auto cached = run(w, path(MlaPath::CachedKV, true), 64, tokens);
    auto recompute = run(w, path(MlaPath::Recompute, true), 64, tokens);
    auto absorbed = run(w, path(MlaPath::Absorbed, true), 64, tokens);
    // The paths that rebuild keys can rotate them per position; the absorbed one cannot.
    CHECK(max_abs_diff(cached, recompute) <= 1e-4f);
    CHECK(max_abs_diff(cached, absorbed) > 1e-2f);
}

namespace {
// MHA weights that repeat each KV head of `g` for the query heads of its group.
Weights expand_kv_heads(const Weights& g) {
    Weights m = g;
    const Config& c = g.cfg;
    m.cfg.num_key_value_heads = c.num_attention_heads;
    const int64_t group = c.kv_groups(), Dh = c.head_dim;
    for (size_t l = 0; l < g.layers.size(); ++l) {
        for (auto [src, dst] : {std::pair{&g.layers[l].w_k, &m.layers[l].w_k}, {&g.layers[l].w_v, &m.layers[l].w_v}}) {
            dst->resize(c.num_attention_heads * Dh, c.hidden_size);
            for (int64_t h = 0; h < c.num_attention_heads; ++h)
                dst->middleRows(h * Dh, Dh) = src->middleRows((h / group) * Dh, Dh);
        }
    }
    return m;
}
}  // namespace

TEST_CASE("GQA and MQA equal MHA whose heads share K and V", "[model][gqa]") {
    for (AttnKind kind : {AttnKind::GQA, AttnKind::MQA}) {
        auto gw = std::make_shared<const Weights>(random_weights(builtin_config(kind), 11));
        auto mw = std::make_shared<const Weights>(expand_kv_heads(*gw));
        REQUIRE(mw->cfg.attn_kind() == AttnKind::MHA);
        std::vector<int64_t> tokens;
        auto a = run(gw, {}, 40, tokens);
        auto b = run(mw, {}, 40, tokens);
        INFO(to_string(kind));
        CHECK(max_abs_diff(a, b) <= 1e-5f);
    }
    // GQA with as many KV heads as query heads is MHA; GQA with one KV head is MQA.
    CHECK(builtin_config(AttnKind::GQA, 4).attn_kind() == AttnKind::MHA);
    CHECK(builtin_config(AttnKind::GQA, 1).attn_kind() == AttnKind::MQA);
}

TEST_CASE("no-cache decoding equals cached decoding", "[model]") {
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        auto w = std::make_shared<const Weights>(random_weights(builtin_config(kind), 3));
        RunOptions nc;
        nc.no_cache = true;
        std::vector<int64_t> tokens;
        auto cached = run(w, {}, 24, tokens);
        auto fresh = run(w, nc, 24, tokens);
        INFO(to_string(kind));
        CHECK(max_abs_diff(cached, fresh) <= 1e-5f);
    }
}

TEST_CASE("the trace names tensors with their shapes", "[model][trace]") {
    auto w = std::make_shared<const Weights>(random_weights(builtin_config(AttnKind::MLA), 1));
    CpuBackend be;
    Decoder dec(w, be, path(MlaPath::Absorbed));
    Trace t;
    for (int64_t tok : {77, 97, 107, 101}) dec.step(tok, &t);
    CHECK(t.position == 3);
    CHECK(t.cache_tokens == 4);
    const TensorRecord* c_kv = t.find("c_kv", 1);
    REQUIRE(c_kv);
    CHECK(c_kv->shape_str() == "1 x 32");
    const TensorRecord* q_abs = t.find("q_absorbed", 0);
    REQUIRE(q_abs);
    CHECK(q_abs->shape == std::array<int64_t, 2>{4, 40});
    const TensorRecord* probs = t.find("att_probs", 2);
    REQUIRE(probs);
    CHECK(probs->shape == std::array<int64_t, 2>{4, 4});
    for (int64_t h = 0; h < 4; ++h) {
        auto p = t.head_probs(2, h);
        float sum = 0;
        for (float v : p) sum += v;
        CHECK(sum == Approx(1.0f).margin(1e-5));
    }
    CHECK(t.find("logits")->numel() == 256);
    CHECK(t.cache_elements_per_layer == std::vector<int64_t>{160, 160, 160});  // 4 tokens x (32 + 8)
}

TEST_CASE("a context beyond max_position_embeddings is refused", "[model]") {
    Config cfg = builtin_config(AttnKind::MQA);
    cfg.max_position_embeddings = 4;
    auto w = std::make_shared<const Weights>(random_weights(cfg, 1));
    CpuBackend be;
    Decoder dec(w, be);
    for (int i = 0; i < 4; ++i) dec.step(i);
    REQUIRE_THROWS_WITH(dec.step(5), Catch::Contains("max_position_embeddings = 4"));
    REQUIRE_THROWS_WITH(dec.step(999), Catch::Contains("out of range"));
}

TEST_CASE("sampling: greedy picks the largest logit, temperature sampling is seeded", "[model]") {
    std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.5f};
    uint64_t s = 5;
    CHECK(sample(logits, 0.0f, s) == 1);
    uint64_t a = 42, b = 42;
    std::vector<int64_t> ra, rb;
    for (int i = 0; i < 50; ++i) {
        ra.push_back(sample(logits, 1.0f, a));
        rb.push_back(sample(logits, 1.0f, b));
    }
    CHECK(ra == rb);
    CHECK(std::count(ra.begin(), ra.end(), 1) > std::count(ra.begin(), ra.end(), 2));
}

TEST_CASE("sampling: top-k and top-p keep the most likely tokens, renormalised, and draw only from them", "[model]") {
    const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.5f, 1.5f, 0.0f};
    // softmax by hand: e^(l - 2)
    std::vector<double> e;
    for (float l : logits) e.push_back(std::exp(static_cast<double>(l) - 2.0));
    const double z = std::accumulate(e.begin(), e.end(), 0.0);
    const std::vector<double> full = sampling_distribution(logits, Sampling{1.0f, 0, 1.0f});
    for (size_t i = 0; i < e.size(); ++i) CHECK(full[i] == Approx(e[i] / z));

    // top-k 3: ids 1, then 3 and 4 (a tie: both, as 3 < 4 comes first and k = 3 takes both)
    const std::vector<double> k3 = sampling_distribution(logits, Sampling{1.0f, 3, 1.0f});
    const double z3 = e[1] + e[3] + e[4];
    CHECK(k3[1] == Approx(e[1] / z3));
    CHECK(k3[3] == Approx(e[3] / z3));
    CHECK(k3[4] == Approx(e[4] / z3));
    CHECK(k3[0] == 0);
    CHECK(k3[2] == 0);
    CHECK(k3[5] == 0);
    // top-k 2 with the tie: the lower id stays
    const std::vector<double> k2 = sampling_distribution(logits, Sampling{1.0f, 2, 1.0f});
    CHECK(k2[3] > 0);
    CHECK(k2[4] == 0);

    // top-p: id 1 alone has e1/z ~ 0.37; 0.3 keeps it alone, 0.5 adds id 3
    const std::vector<double> p3 = sampling_distribution(logits, Sampling{1.0f, 0, 0.3f});
    CHECK(p3[1] == Approx(1.0));
    const std::vector<double> p5 = sampling_distribution(logits, Sampling{1.0f, 0, 0.5f});
    CHECK(p5[1] == Approx(e[1] / (e[1] + e[3])));
    CHECK(p5[3] == Approx(e[3] / (e[1] + e[3])));
    CHECK(p5[4] == 0);

    // no restriction: the same draws as the temperature-only sampler
    uint64_t a = 9, b = 9;
    for (int i = 0; i < 40; ++i) CHECK(sample(logits, Sampling{0.7f, 0, 1.0f}, a) == sample(logits, 0.7f, b));
    // top-k 1 is greedy; top-k 3 never draws outside {1, 3, 4}
    uint64_t r = 3;
    for (int i = 0; i < 200; ++i) {
        CHECK(sample(logits, Sampling{2.0f, 1, 1.0f}, r) == 1);
        const int64_t t = sample(logits, Sampling{2.0f, 3, 1.0f}, r);
        CHECK((t == 1 || t == 3 || t == 4));
    }
    const auto top = top_tokens(full, 3);
    REQUIRE(top.size() == 3);
    CHECK(top[0].id == 1);
    CHECK(top[1].id == 3);
    CHECK(top[2].id == 4);
}

TEST_CASE("logit lens: the final norm recomputed on each layer's residual; the last row is the model's logits", "[model][lens]") {
    for (AttnKind kind : {AttnKind::MHA, AttnKind::MLA}) {
        INFO(to_string(kind));
        Config cfg = builtin_config(kind);
        auto w = std::make_shared<const Weights>(random_weights(cfg, 5));
        CpuBackend be;
        Decoder dec(w, be, path(MlaPath::Absorbed));
        Trace t;
        for (int64_t tok : {77, 97, 107, 101, 32}) dec.step(tok, &t);
        const auto lens = logit_lens(*w, t);
        const int64_t L = cfg.num_hidden_layers, D = cfg.hidden_size, V = cfg.vocab_size;
        REQUIRE(static_cast<int64_t>(lens.size()) == L + 1);
        const TensorRecord* logits = t.find("logits");
        REQUIRE(logits);
        for (int64_t v = 0; v < V; ++v) CHECK(lens.back()[static_cast<size_t>(v)] == Approx(logits->data[static_cast<size_t>(v)]).margin(1e-4));
        // Each row by hand, in double: rms of that residual, the norm's weights, then lm_head.
        const Mat& head = w->lm_head.size() > 0 ? w->lm_head : w->embed;  // tied embeddings
        const TensorRecord* fin = t.find("x_final");
        REQUIRE(fin);
        for (int64_t i = 0; i <= L; ++i) {
            const TensorRecord* x = i < L ? t.find("x", static_cast<int>(i)) : fin;
            REQUIRE(x);
            double ms = 0;
            for (float e : x->data) ms += static_cast<double>(e) * e;
            const double inv = 1.0 / std::sqrt(ms / static_cast<double>(D) + cfg.rms_norm_eps);
            double worst = 0, reused = 0;
            double ms_last = 0;
            for (float e : fin->data) ms_last += static_cast<double>(e) * e;
            const double inv_last = 1.0 / std::sqrt(ms_last / static_cast<double>(D) + cfg.rms_norm_eps);
            for (int64_t v = 0; v < V; ++v) {
                double dot = 0;
                for (int64_t d = 0; d < D; ++d)
                    dot += static_cast<double>(head(v, d)) * w->final_norm(d) * x->data[static_cast<size_t>(d)];
                worst = std::max(worst, std::abs(dot * inv - lens[static_cast<size_t>(i)][static_cast<size_t>(v)]));
                reused = std::max(reused, std::abs(dot * inv_last - lens[static_cast<size_t>(i)][static_cast<size_t>(v)]));
            }
            CHECK(worst < 1e-4);
            if (i < L) CHECK(reused > 1e-3);  // the last layer's scale would give other numbers
        }
    }
    // A lane that keeps only some tensors has no residuals: refused with a message.
    auto w = std::make_shared<const Weights>(random_weights(builtin_config(AttnKind::MLA), 5));
    CpuBackend be;
    Decoder dec(w, be, path(MlaPath::Absorbed));
    dec.set_trace_request({"att_probs", "logits"});
    Trace t;
    dec.step(77, &t);
    CHECK_THROWS_WITH(logit_lens(*w, t), Catch::Contains("residual"));
}
