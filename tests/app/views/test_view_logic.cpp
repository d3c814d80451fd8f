// The logic behind the views, without a window: slab sizes, which heads share what,
// chart series, the causal attention matrix.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "base/numbers.h"
#include "views/view_logic.h"

using namespace mla;
using namespace mla::app;

namespace {
int64_t slab_elements(const std::vector<Slab>& v) {
    int64_t n = 0;
    for (const Slab& s : v) n += s.rows * s.cols;
    return n;
}
ModelSettings kind(AttnKind k) {
    ModelSettings s;
    s.kind = k;
    return s;
}
}  // namespace

TEST_CASE("view logic: MHA has K and V slabs per head, each read by one head", "[view]") {
    const Config c = model_config(kind(AttnKind::MHA), AttnKind::MHA);
    const auto slabs = cache_slabs(c, {}, 17);
    REQUIRE(slabs.size() == 8);  // 4 heads x (K, V)
    CHECK(slabs[0].label == "K head 0");
    CHECK(slabs[4].label == "V head 0");
    CHECK(slabs[0].rows == 17);
    CHECK(slabs[0].cols == 16);
    CHECK(slabs[3].readers == std::vector<int>{3});
    CHECK(slab_elements(slabs) == 17 * cache_elements_per_token(c, MlaPath::Absorbed));
}

TEST_CASE("view logic: GQA draws one slab per group, shared by its heads", "[view]") {
    const Config c = model_config(kind(AttnKind::GQA), AttnKind::GQA);  // 4 query heads, 2 KV heads
    const auto slabs = cache_slabs(c, {}, 5);
    REQUIRE(slabs.size() == 4);
    CHECK(slabs[0].label == "K group 0");
    CHECK(slabs[0].readers == std::vector<int>{0, 1});
    CHECK(slabs[1].readers == std::vector<int>{2, 3});
    CHECK(slabs[3].label == "V group 1");
    CHECK(slab_elements(slabs) == 5 * 2 * 2 * 16);
    CHECK(kv_source_of(c, 3) == 1);
    CHECK(kv_readers(c) == std::vector<std::vector<int>>{{0, 1}, {2, 3}});
}

TEST_CASE("view logic: MQA has one K and one V read by all heads", "[view]") {
    const Config c = model_config(kind(AttnKind::MQA), AttnKind::MQA);
    const auto slabs = cache_slabs(c, {}, 3);
    REQUIRE(slabs.size() == 2);
    CHECK(slabs[0].label == "K shared");
    CHECK(slabs[0].readers == std::vector<int>{0, 1, 2, 3});
    CHECK(kv_sources(c) == 1);
}

TEST_CASE("view logic: MLA caches a thin latent slab beside the RoPE-key slab", "[view]") {
    const Config c = model_config(kind(AttnKind::MLA), AttnKind::MLA);
    RunOptions o;
    o.mla_path = MlaPath::Absorbed;
    auto slabs = cache_slabs(c, o, 17);
    REQUIRE(slabs.size() == 2);
    CHECK(slabs[0].part == SlabPart::Latent);
    CHECK(slabs[0].cols == 32);   // d_c
    CHECK(slabs[1].part == SlabPart::RopeKey);
    CHECK(slabs[1].cols == 8);    // d_r
    CHECK(slabs[0].readers.size() == 4);
    CHECK(slab_elements(slabs) == 17 * (32 + 8));
    // the cached-kv path stores decompressed per-head K and V
    o.mla_path = MlaPath::CachedKV;
    slabs = cache_slabs(c, o, 17);
    CHECK(slabs.size() == 8);
    CHECK(slab_elements(slabs) == 17 * cache_elements_per_token(c, MlaPath::CachedKV));
    // no cache holds nothing
    o.no_cache = true;
    CHECK(cache_slabs(c, o, 17).empty());
    CHECK(kv_readers(c) == std::vector<std::vector<int>>{{0, 1, 2, 3}});
}

TEST_CASE("view logic: token grid covers 1..T with rising integers", "[view]") {
    auto g = token_grid(10);
    CHECK(g.size() == 10);
    CHECK(g.front() == 1);
    CHECK(g.back() == 10);
    g = token_grid(1000, 50);
    CHECK(g.size() <= 50);
    CHECK(g.front() == 1);
    CHECK(g.back() == 1000);
    CHECK(std::is_sorted(g.begin(), g.end()));
    CHECK(std::adjacent_find(g.begin(), g.end()) == g.end());
}

TEST_CASE("view logic: cache bytes series, one per kind, linear in tokens", "[view]") {
    ModelSettings s;
    const auto series = cache_bytes_series(s, 64);
    REQUIRE(series.size() == 4);
    CHECK(series[0].label == "MHA");
    CHECK(series[3].label == "MLA");
    // 3 layers x float32: MHA 2*4*16 = 128 elements/token/layer, MLA 32 + 8 = 40
    CHECK(series[0].y.back() == Approx(64.0 * 128 * 3 * 4));
    CHECK(series[1].y.back() == Approx(64.0 * 64 * 3 * 4));   // GQA, 2 KV heads
    CHECK(series[2].y.back() == Approx(64.0 * 32 * 3 * 4));   // MQA
    CHECK(series[3].y.back() == Approx(64.0 * 40 * 3 * 4));
    CHECK(series[0].x.front() == 1);
}

TEST_CASE("view logic: FLOPs without the cache grow faster than with it", "[view]") {
    const Config c = model_config(ModelSettings{}, AttnKind::MLA);
    const auto s = flops_series(c, {}, 100);
    REQUIRE(s.size() == 2);
    CHECK(s[0].y.front() == Approx(s[1].y.front()));  // one token: the same work
    CHECK(s[1].y.back() > 50 * s[0].y.back());       // the prefix is re-run
}

TEST_CASE("view logic: path series, recompute grows fastest", "[view]") {
    const auto f = path_flops_series(ModelSettings{}, 200);
    REQUIRE(f.size() == 3);
    CHECK(f[0].label == "cached-kv");
    CHECK(f[1].label == "recompute");
    CHECK(f[2].label == "absorbed");
    CHECK(f[1].y.back() > f[0].y.back());
    CHECK(f[1].y.back() > f[2].y.back());
    const auto r = path_cache_read_series(ModelSettings{}, 200);
    CHECK(r[0].y.back() > r[2].y.back());  // cached-kv reads per-head K and V
}

TEST_CASE("view logic: the attention matrix is causal, one row per step", "[view]") {
    std::vector<Trace> traces(3);
    for (int i = 0; i < 3; ++i) {
        TensorRecord r;
        r.name = "att_probs";
        r.layer = 0;
        r.shape = {2, i + 1};  // 2 heads
        for (int h = 0; h < 2; ++h)
            for (int j = 0; j <= i; ++j) r.data.push_back(static_cast<float>(10 * h + j + i * 100));
        traces[static_cast<size_t>(i)].tensors.push_back(r);
    }
    const auto m = attention_matrix(traces, 2, 0, 1);
    REQUIRE(m.size() == 9);
    CHECK(m[0] == 10);            // row 0: key 0
    CHECK(std::isnan(m[1]));      // future
    CHECK(m[3] == 110);           // row 1, key 0
    CHECK(m[4] == 111);
    CHECK(std::isnan(m[5]));
    CHECK(m[8] == 212);
    CHECK(attention_matrix(traces, 1, 0, 0).size() == 4);
    CHECK(attention_max(traces, 2, 0) == 212);
    CHECK(attention_matrix(traces, -1, 0, 0).empty());
}

TEST_CASE("predictions: the ten most likely after the temperature, with and without top-k / top-p", "[views]") {
    std::vector<float> logits(256, -5.0f);
    for (int i = 0; i < 12; ++i) logits[static_cast<size_t>(100 + i)] = static_cast<float>(12 - i);   // 100 most likely
    // By hand: p_i = e^(l_i / T) / sum
    const double T = 0.5;
    double z = 0;
    for (float l : logits) z += std::exp(l / T);
    const auto rows = prediction_rows(logits, Sampling{0.5f, 3, 1.0f}, 10);
    REQUIRE(rows.size() == 10);
    double kept = 0;
    for (int i = 0; i < 3; ++i) kept += std::exp(logits[static_cast<size_t>(100 + i)] / T) / z;
    for (int i = 0; i < 10; ++i) {
        INFO("row " << i);
        CHECK(rows[static_cast<size_t>(i)].id == 100 + i);
        const double before = std::exp(logits[static_cast<size_t>(100 + i)] / T) / z;
        CHECK(rows[static_cast<size_t>(i)].before == Approx(before));
        CHECK(rows[static_cast<size_t>(i)].after == (i < 3 ? Approx(before / kept) : Approx(0.0)));
    }
    // Greedy: the softmax of the logits (T = 1), nothing cut
    const auto g = prediction_rows(logits, Sampling{}, 2);
    REQUIRE(g.size() == 2);
    CHECK(g[0].id == 100);
    CHECK(g[0].after == g[0].before);
    CHECK(prediction_rows({}, Sampling{}, 10).empty());
    CHECK(trace_logits(nullptr).empty());
}

TEST_CASE("view logic: no cache shows the true key count and draws no cache", "[view]") {
    SessionOptions light;
    light.compare = false;
    light.paths = false;
    struct Case { AttnKind kind; MlaPath path; std::vector<std::string> rebuilt; };
    const std::vector<Case> cases = {{AttnKind::MHA, MlaPath::Absorbed, {"K (rebuilt)", "V (rebuilt)"}},
                                     {AttnKind::GQA, MlaPath::Absorbed, {"K (rebuilt)", "V (rebuilt)"}},
                                     {AttnKind::MLA, MlaPath::CachedKV, {"K (rebuilt)", "V (rebuilt)"}},
                                     {AttnKind::MLA, MlaPath::Recompute, {"c_KV (rebuilt)", "k_R (rebuilt)"}},
                                     {AttnKind::MLA, MlaPath::Absorbed, {"c_KV (rebuilt)", "k_R (rebuilt)"}}};
    for (const Case& k : cases) {
        INFO(display_name(k.kind) << " " << to_string(k.path));
        ModelSettings ms;
        ms.kind = k.kind;
        ms.mla_path = k.path;
        ms.no_cache = true;
        Session s(ms, light);
        s.step(44);
        const Trace* t = s.trace();
        REQUIRE(t != nullptr);
        CHECK(t->cache_tokens == 0);   // core: nothing is held
        const TensorRecord* scores = t->find("att_scores", 0);
        REQUIRE(scores != nullptr);
        CHECK(attended_keys(*t) == 44);
        CHECK(scores->shape[1] == attended_keys(*t));
        CHECK(step_caption(*t) == "step 44: token '" + token_text(t->token, TokenStyle::Label) +
                                      "' at position 43, 44 keys, all rebuilt this step (no cache)");

        const Diagram d = shapes_diagram(s.config(), t->options, t->position);
        CHECK(d.title.find("no cache") != std::string::npos);
        for (const DiagramNode& n : d.nodes) {
            INFO(n.label << ": " << n.equation);
            CHECK_FALSE(n.cache);
            CHECK(n.label.find("cache") == std::string::npos);
            CHECK(n.equation.find("append") == std::string::npos);
            CHECK(n.equation.find(" held") == std::string::npos);
        }
        for (const std::string& label : k.rebuilt) {
            const int i = d.find(label);
            REQUIRE(i >= 0);
            const DiagramNode& n = d.nodes[static_cast<size_t>(i)];
            CHECK(n.grows);
            CHECK(std::find(n.dims.begin(), n.dims.end(), 44) != n.dims.end());  // all 44 tokens, this step
            CHECK(n.equation.find("rebuilt this step") != std::string::npos);
        }
        for (const std::string& note : d.notes) CHECK(note.rfind("No cache: nothing is held", 0) == 0);

        // the same step with a cache: the cache and its appended row are back
        RunOptions cached = t->options;
        cached.no_cache = false;
        const Diagram dc = shapes_diagram(s.config(), cached, t->position);
        int caches = 0;
        for (const DiagramNode& n : dc.nodes) caches += n.cache ? 1 : 0;
        CHECK(caches == 2);
        CHECK(dc.title.find("no cache") == std::string::npos);
    }
}

TEST_CASE("view logic: the step caption counts steps from 1 and positions from 0", "[view]") {
    Trace t;
    t.step = 2;
    t.position = 2;
    t.token = 'a';
    t.cache_tokens = 3;
    CHECK(step_caption(t) == "step 3: token 'a' at position 2, 3 keys");
    t.step = t.position = 0;
    CHECK(step_caption(t) == "step 1: token 'a' at position 0, 1 key");
}

TEST_CASE("view logic: the notice at the top warns past the trained context and says why stepping stopped", "[view]") {
    SessionOptions light;
    light.compare = false;
    light.paths = false;
    Session s(ModelSettings{}, light);  // the trained MLA model (fortunes: 256-byte windows)
    REQUIRE(s.main().trained_weights);
    CHECK(s.trained_context() == 256);
    CHECK(context_summary(s) == "trained on 256-token windows; at most " + with_commas(s.max_steps()) + " tokens");
    REQUIRE(s.step(256));
    CHECK(run_notice(s).level == RunNotice::Level::None);
    REQUIRE(s.step());
    const RunNotice warn = run_notice(s);
    CHECK(warn.level == RunNotice::Level::Warn);
    CHECK_THAT(warn.text, Catch::Contains("learned on 256-token windows and this is token 257"));
    REQUIRE(s.step(s.max_steps() - s.steps()));
    CHECK_FALSE(s.step());
    const RunNotice stop = run_notice(s);
    CHECK(stop.level == RunNotice::Level::Stop);
    CHECK_THAT(stop.text, Catch::Contains("context is full"));
    CHECK_THAT(stop.text, Catch::Contains("at most " + with_commas(s.max_steps()) + " tokens"));

    // random weights were trained on nothing: no trained context, only the limit
    ModelSettings r;
    r.weights = WeightsSource::Random;
    Session rs(r, light);
    CHECK(rs.trained_context() == 0);
    CHECK(context_summary(rs) == "at most " + with_commas(rs.max_steps()) + " tokens");
    rs.step(300);
    CHECK(run_notice(rs).level == RunNotice::Level::None);
}

TEST_CASE("view logic: the sidebar says when MLA's cache is no smaller than MHA's, from the cost model", "[view]") {
    ModelSettings s;  // d_c 32 + d_r 8 = 40 < MHA's 2 x 4 x 16 = 128
    CHECK(mla_cache_warning(s).empty());
    s.kv_lora_rank = 999;
    const int64_t mla = cache_elements_per_token(model_config(s, AttnKind::MLA), MlaPath::Absorbed);
    const int64_t mha = cache_elements_per_token(model_config(s, AttnKind::MHA), MlaPath::Absorbed);
    REQUIRE(mla == 1007);
    REQUIRE(mha == 128);
    CHECK(mla_cache_warning(s) == "d_c + d_r = 999 + 8 = 1,007 numbers per token per layer, 7.9x MHA's 128: "
                                  "MLA's cache is no smaller");
    s.kv_lora_rank = 120;  // 120 + 8 = 128: equal is no smaller either
    CHECK_THAT(mla_cache_warning(s), Catch::Contains("1.0x MHA's 128"));
    s.kv_lora_rank = 119;
    CHECK(mla_cache_warning(s).empty());
    s.kv_lora_rank = 32;
    s.rope_dim = 96;  // a large RoPE part does it too
    CHECK_THAT(mla_cache_warning(s), Catch::Contains("32 + 96 = 128"));
    s.rope_dim = 7;   // cannot run: the field's own message speaks
    CHECK(mla_cache_warning(s).empty());
}

TEST_CASE("view logic: a field that does not run is named with the sidebar's words and its range", "[view]") {
    ModelSettings s;
    s.q_lora_rank = -1;
    Session session(ModelSettings{}, SessionOptions{false, false});
    CHECK_FALSE(session.apply_settings(s, Field::QLoraRank));
    REQUIRE(session.error_field() == Field::QLoraRank);
    CHECK_THAT(session.error(), Catch::Contains("q_lora_rank"));  // core speaks config.json
    const std::string m = field_message(session.error_field(), s, session.error());
    CHECK(m == "d'_c query (query compression) = -1 does not run: 0 = none, or 1 to 32,768");
    CHECK(m.find("q_lora_rank") == std::string::npos);
    CHECK(m.find("null") == std::string::npos);

    s = ModelSettings{};
    s.kv_heads = 3;
    CHECK(field_message(Field::KvHeads, s, "") == "KV heads = 3 does not run: it must divide the 4 query heads: 1, 2 or 4");
    s = ModelSettings{};
    s.rope_dim = 5;
    CHECK(field_message(Field::RopeDim, s, "") ==
          "d_r RoPE = 5 does not run: use an even number from 2 to 4,096 (RoPE turns pairs of numbers)");
    s = ModelSettings{};
    s.kv_lora_rank = 0;
    CHECK(field_message(Field::KvLoraRank, s, "") == "d_c latent = 0 does not run: use 1 to 32,768");
    s = ModelSettings{};
    s.top_k = -2;
    CHECK(field_message(Field::TopK, s, "") == "top-k = -2 does not run: 0 = all, or 1 to 1,048,576");
    CHECK(field_message(Field::Prompt, s, "the prompt is empty: type at least one character") ==
          "the prompt is empty: type at least one character");
}

TEST_CASE("view logic: what keeps the window busy is said in words, and quick commands say nothing", "[view]") {
    Session s(ModelSettings{}, SessionOptions{false, false});
    s.step(5);
    Commands c;
    CHECK(busy_text(s, c).empty());
    c.forward();
    c.step(3);
    c.select(2);
    c.reset();
    CHECK(busy_text(s, c).empty());
    c = Commands{};
    c.step(kBusySteps);
    CHECK(busy_text(s, c) == "Running " + std::to_string(kBusySteps) + " steps");

    ModelSettings m = s.settings();
    m.kind = AttnKind::MQA;
    c = Commands{};
    c.apply(m, Field::Kind);
    CHECK(busy_text(s, c) == "Rebuilding the model and running 5 steps");  // the 5 steps are replayed
    c = Commands{};                                                         // the lesson's Show me
    c.reset();
    c.apply(m, Field::None);
    c.step(32);
    CHECK(busy_text(s, c) == "Rebuilding the model and running 32 steps");
    m.backend = "gpu";
    c = Commands{};
    c.apply(m, Field::Backend);
    CHECK(busy_text(s, c) == "Switching to the gpu backend and running 5 steps");
    s.reset();
    CHECK(busy_text(s, c) == "Switching to the gpu backend");
}

TEST_CASE("timeline: a byte of a multi-byte character says which character and which byte", "[view_logic][utf8]") {
    // "aé€😀" as UTF-8 bytes, then a stray continuation byte and a character cut short.
    const std::vector<int64_t> b = {0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0x80, 0xE2, 0x82};
    CHECK(utf8_byte_role(b, 0).empty());                                  // ASCII
    CHECK(utf8_byte_role(b, 1) == "'\xC3\xA9' (U+00E9): byte 1 of 2");
    CHECK(utf8_byte_role(b, 2) == "'\xC3\xA9' (U+00E9): byte 2 of 2");
    CHECK(utf8_byte_role(b, 5) == "'\xE2\x82\xAC' (U+20AC): byte 3 of 3");
    CHECK(utf8_byte_role(b, 6) == "'\xF0\x9F\x98\x80' (U+1F600): byte 1 of 4");
    CHECK(utf8_byte_role(b, 9) == "'\xF0\x9F\x98\x80' (U+1F600): byte 4 of 4");
    CHECK(utf8_byte_role(b, 10).empty());                                 // a fifth continuation byte belongs to nothing
    CHECK(utf8_byte_role(b, 11) == "byte 1 of 3, incomplete");            // the next byte has not been generated yet
    CHECK(utf8_byte_role(b, 12) == "byte 2 of 3, incomplete");
    CHECK(utf8_byte_role(b, 13).empty());
    CHECK(utf8_byte_role({0xC0, 0x80}, 0).empty());                       // overlong
    CHECK(utf8_byte_role({0xED, 0xA0, 0x80}, 1).empty());                 // a surrogate
    CHECK(utf8_byte_role({0xC3, 0x41}, 0).empty());                       // lead byte without its continuation
}
