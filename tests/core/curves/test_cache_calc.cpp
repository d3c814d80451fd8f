// The cache calculator on tiny hand-computed configs; bytes that must not overflow; config
// files that must be refused; the SVG and CSV writers.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "curves/cache_calc.h"
#include "curves/svg_plot.h"
#include "model/config.h"

using namespace mla;
using Catch::Matchers::Contains;

namespace {

// A minimal XML well-formedness check: balanced, properly nested tags; quoted attributes;
// one root element; no stray '<' or bare '&' in text. Returns "" when well-formed.
std::string xml_problem(const std::string& s) {
    std::vector<std::string> stack;
    int roots = 0;
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '&') {
            const size_t semi = s.find(';', i);
            if (semi == std::string::npos || semi - i > 8) return "bare '&' at " + std::to_string(i);
            i = semi + 1;
            continue;
        }
        if (s[i] != '<') {
            if (s[i] == '>') return "stray '>' at " + std::to_string(i);
            ++i;
            continue;
        }
        if (s.compare(i, 2, "<?") == 0) {
            const size_t e = s.find("?>", i);
            if (e == std::string::npos) return "unclosed <?";
            i = e + 2;
            continue;
        }
        if (s.compare(i, 4, "<!--") == 0) {
            const size_t e = s.find("-->", i);
            if (e == std::string::npos) return "unclosed comment";
            i = e + 3;
            continue;
        }
        // Find the end of the tag, skipping quoted attribute values.
        size_t j = i + 1;
        char quote = 0;
        for (; j < s.size(); ++j) {
            if (quote) {
                if (s[j] == quote) quote = 0;
                else if (s[j] == '<') return "'<' inside an attribute at " + std::to_string(j);
            } else if (s[j] == '"' || s[j] == '\'') {
                quote = s[j];
            } else if (s[j] == '>') {
                break;
            } else if (s[j] == '<') {
                return "'<' inside a tag at " + std::to_string(j);
            }
        }
        if (j >= s.size()) return "unclosed tag at " + std::to_string(i);
        std::string tag = s.substr(i + 1, j - i - 1);
        i = j + 1;
        if (tag.empty()) return "empty tag";
        if (tag[0] == '/') {
            const std::string name = tag.substr(1);
            if (stack.empty() || stack.back() != name) return "closing </" + name + "> does not match";
            stack.pop_back();
            continue;
        }
        const bool self_closing = tag.back() == '/';
        const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
        if (stack.empty()) ++roots;
        if (!self_closing) stack.push_back(name);
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    if (roots != 1) return std::to_string(roots) + " root elements";
    return "";
}

size_t count_of(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
}

std::string write_temp(const std::string& name, const std::string& text) {
    const std::string path = "/tmp/mla_lab_test_cache_calc_" + name + ".json";
    std::ofstream(path) << text;
    return path;
}

nlohmann::json llama_json() {
    return {{"model_type", "llama"},          {"vocab_size", 32000},   {"hidden_size", 4096},
            {"intermediate_size", 11008},     {"num_hidden_layers", 32}, {"num_attention_heads", 32},
            {"num_key_value_heads", 8},       {"max_position_embeddings", 4096},
            {"rms_norm_eps", 1e-5},           {"rope_theta", 10000.0}};
}

}  // namespace

TEST_CASE("tiny configs: elements per token per layer by hand", "[cache_calc]") {
    // Built-in family: D 64, L 3, H 4, Dh 16; MLA C 32, Dr 8, Dn 16, Dv 16.
    const Dtype fp32 = {"fp32", 4};
    const Config mha = builtin_config(AttnKind::MHA), gqa = builtin_config(AttnKind::GQA, 2),
                 mqa = builtin_config(AttnKind::MQA), mla = builtin_config(AttnKind::MLA);
    CHECK(own_layout(mha).elements_per_token_per_layer() == 2 * 4 * 16);
    CHECK(own_layout(gqa).elements_per_token_per_layer() == 2 * 2 * 16);
    CHECK(own_layout(mqa).elements_per_token_per_layer() == 2 * 16);
    CHECK(own_layout(mla).elements_per_token_per_layer() == 32 + 8);
    CHECK(bytes_per_token(own_layout(mha), fp32) == 128 * 3 * 4);
    CHECK(formula(own_layout(gqa), fp32) == "2 x 2 x 16 x 3 layers x 4 B = 768 B/token");
    CHECK(formula(own_layout(mqa), fp32) == "2 x 16 x 3 layers x 4 B = 384 B/token");

    // The MLA model's rows: every kind, the own one marked.
    const std::vector<CacheLayout> rows = cache_layouts(mla);
    REQUIRE(rows.size() == 5);
    CHECK(rows[0].kind == CacheKind::MHA);
    CHECK(rows[0].elements_per_token_per_layer() == 2 * 4 * 16);  // Dh = Dn
    CHECK(rows[1].kind == CacheKind::GQA);
    CHECK(rows[1].heads == 2);  // the divisor of 4 closest to 8 from below, strictly between 1 and 4
    CHECK(rows[3].kind == CacheKind::MLA);
    CHECK(rows[3].own);
    CHECK(rows[4].kind == CacheKind::MLACachedKV);
    CHECK(rows[4].elements_per_token_per_layer() == 4 * (16 + 8 + 16));

    // A model without MLA: the mla row defaults to C = 4 Dh, Dr = Dh / 2.
    CacheLayout l;
    REQUIRE(comparison_layout(mha, CacheKind::MLA, {}, l));
    CHECK(l.latent == 64);
    CHECK(l.rope_dim == 8);
    REQUIRE(comparison_layout(mha, CacheKind::MLACachedKV, {}, l));
    CHECK(l.elements_per_token_per_layer() == 4 * (16 + 8 + 16));
    // Chosen sizes.
    REQUIRE(comparison_layout(mha, CacheKind::MLA, {0, 100, 10}, l));
    CHECK(l.elements_per_token_per_layer() == 110);
}

TEST_CASE("dtypes and bytes", "[cache_calc]") {
    CHECK(parse_dtype("fp32").bytes == 4);
    CHECK(parse_dtype("float32").bytes == 4);
    CHECK(parse_dtype("bf16").bytes == 2);
    CHECK(parse_dtype("bfloat16").name == "bf16");
    CHECK(parse_dtype("fp16").bytes == 2);
    CHECK(parse_dtype("fp8").bytes == 1);
    CHECK_THROWS_WITH(parse_dtype("int4"), Contains("int4") && Contains("bf16"));
    CHECK(parse_cache_kind("mla-cached-kv") == CacheKind::MLACachedKV);
    CHECK_THROWS_WITH(parse_cache_kind("mlaa"), Contains("mla-cached-kv"));

    // Llama-2-70B-like GQA: the formula with its terms filled in.
    const Config c = config_from_json([] {
        nlohmann::json j = llama_json();
        j["num_hidden_layers"] = 80;
        j["hidden_size"] = 8192;
        j["num_attention_heads"] = 64;
        return j;
    }());
    const CacheLayout own = own_layout(c);
    CHECK(formula(own, parse_dtype("bf16")) == "2 x 8 x 128 x 80 layers x 2 B = 327,680 B/token");
    CHECK(bytes_per_token(own, parse_dtype("fp8")) == 163840);
    CHECK(cache_bytes(own, parse_dtype("fp32"), 1000, 4) == 655360ull * 1000 * 4);
}

TEST_CASE("1M tokens and beyond: exact, no overflow; past 2^64 refused", "[cache_calc]") {
    CacheLayout mha;  // DeepSeek-V3 MHA: 2 x 128 x 128 x 61 layers
    mha.kind = CacheKind::MHA;
    mha.layers = 61;
    mha.heads = 128;
    mha.head_dim = 128;
    const Dtype bf16 = {"bf16", 2};
    CHECK(cache_bytes(mha, bf16, 1000000) == 3997696000000ull);
    CHECK(cache_bytes(mha, bf16, 1000000, 64) == 255852544000000ull);
    CHECK(cache_bytes(mha, bf16, 1000000000000ull) == 3997696000000000000ull);  // 10^12 tokens: 4.0 EB
    CHECK_THROWS_AS(cache_bytes(mha, bf16, 1000000000000ull, 8), InputError);
    CHECK_THROWS_WITH(cache_bytes(mha, bf16, 1000000000000ull, 8), Contains("overflows"));
    CHECK(format_gb(cache_bytes(mha, bf16, 1000000)) == "3,997.7 GB");
}

TEST_CASE("fits in N GB", "[cache_calc]") {
    CHECK(gb_to_bytes(80) == 80000000000ull);
    CHECK(max_tokens_in(80000000000ull, 70272) == 1138433);     // DeepSeek-V3 MLA, bf16
    CHECK(max_tokens_in(80000000000ull, 3997696) == 20011);     // DeepSeek-V3 MHA
    CHECK(max_tokens_in(80000000000ull, 3997696, 2) == 10005);
    CHECK(max_tokens_in(100, 3997696) == 0);
    CHECK_THROWS_AS(gb_to_bytes(0), InputError);
    CHECK_THROWS_AS(gb_to_bytes(-5), InputError);
}

TEST_CASE("GQA group counts: chosen, defaulted, impossible", "[cache_calc]") {
    const Config llama = config_from_json(llama_json());  // H 32, G 8
    CacheLayout l;
    REQUIRE(comparison_layout(llama, CacheKind::GQA, {}, l));
    CHECK(l.heads == 8);
    REQUIRE(comparison_layout(llama, CacheKind::GQA, {4, 0, 0}, l));
    CHECK(l.heads == 4);
    CHECK_THROWS_WITH(comparison_layout(llama, CacheKind::GQA, {5, 0, 0}, l), Contains("G = 5") && Contains("2, 4, 8, 16"));
    CHECK_THROWS_AS(comparison_layout(llama, CacheKind::GQA, {32, 0, 0}, l), InputError);
    // The model's own GQA row stays; a chosen G adds a second gqa row.
    std::vector<CacheLayout> rows = cache_layouts(llama, {CacheKind::GQA}, {4, 0, 0});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].own);
    CHECK(rows[0].heads == 8);
    CHECK_FALSE(rows[1].own);
    CHECK(rows[1].heads == 4);

    // Falcon-7B's 71 heads (prime): no group count between MQA and MHA.
    nlohmann::json fj = {{"model_type", "falcon"}, {"vocab_size", 65024}, {"hidden_size", 4544},
                         {"num_hidden_layers", 32}, {"num_attention_heads", 71}, {"multi_query", true},
                         {"max_position_embeddings", 2048}};
    const Config falcon = config_from_json(fj);
    CHECK_FALSE(comparison_layout(falcon, CacheKind::GQA, {}, l));
    rows = cache_layouts(falcon);
    CHECK(rows.size() == 4);
    CacheRequest r;
    const CacheReport rep = cache_report("falcon", falcon, r);
    bool noted = false;
    for (const std::string& n : rep.notes) noted = noted || n.find("no gqa row") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("cache_report: one row per token count and kind; the window caps what is held", "[cache_calc]") {
    nlohmann::json j = llama_json();
    j["sliding_window"] = 4096;
    const Config c = config_from_json(j);
    CacheRequest r;
    r.tokens = {1000, 100000};
    r.kinds = {CacheKind::GQA, CacheKind::MLA};
    const CacheReport rep = cache_report("mistral-like", c, r);
    REQUIRE(rep.rows.size() == 4);
    CHECK(rep.rows[0].tokens == 1000);
    CHECK(rep.rows[0].tokens_held == 1000);
    CHECK(rep.rows[0].bytes == rep.rows[0].bytes_held);
    CHECK(rep.rows[2].tokens == 100000);
    CHECK(rep.rows[2].layout.own);
    CHECK(rep.rows[2].bytes == 13107200000ull);
    CHECK(rep.rows[2].tokens_held == 4096);
    CHECK(rep.rows[2].bytes_held == 131072ull * 4096);
    CHECK(rep.rows[2].formula == "2 x 8 x 128 x 32 layers x 2 B = 131,072 B/token");
    CHECK_THROWS_AS(cache_report("x", c, [] { CacheRequest q; q.batch = 0; return q; }()), InputError);
}

TEST_CASE("config files lacking a field, with a wrong type, or impossible are refused, naming the field", "[cache_calc]") {
    SECTION("missing field") {
        nlohmann::json j = llama_json();
        j.erase("hidden_size");
        const std::string path = write_temp("missing", j.dump());
        CHECK_THROWS_AS(load_calc_config(path), InputError);
        CHECK_THROWS_WITH(load_calc_config(path), Contains("hidden_size") && Contains(path));
    }
    SECTION("wrong type") {
        nlohmann::json j = llama_json();
        j["num_hidden_layers"] = "32";
        CHECK_THROWS_WITH(load_calc_config(write_temp("type", j.dump())), Contains("num_hidden_layers"));
    }
    SECTION("impossible: KV heads that do not divide the query heads") {
        nlohmann::json j = llama_json();
        j["num_key_value_heads"] = 5;
        CHECK_THROWS_WITH(load_calc_config(write_temp("kvheads", j.dump())), Contains("num_key_value_heads"));
    }
    SECTION("impossible: zero layers") {
        nlohmann::json j = llama_json();
        j["num_hidden_layers"] = 0;
        CHECK_THROWS_WITH(load_calc_config(write_temp("layers", j.dump())), Contains("num_hidden_layers"));
    }
    SECTION("impossible: MLA with an odd RoPE dim") {
        nlohmann::json j = llama_json();
        j["num_key_value_heads"] = 32;
        j["kv_lora_rank"] = 512;
        j["qk_nope_head_dim"] = 128;
        j["qk_rope_head_dim"] = 63;
        j["v_head_dim"] = 128;
        CHECK_THROWS_WITH(load_calc_config(write_temp("rope", j.dump())), Contains("qk_rope_head_dim"));
    }
    SECTION("MLA field missing") {
        nlohmann::json j = llama_json();
        j["kv_lora_rank"] = 512;
        j["qk_nope_head_dim"] = 128;
        j["qk_rope_head_dim"] = 64;
        CHECK_THROWS_WITH(load_calc_config(write_temp("vdim", j.dump())), Contains("v_head_dim"));
    }
    SECTION("not JSON, not there") {
        CHECK_THROWS_WITH(load_calc_config(write_temp("garbage", "{ not json")), Contains("not valid JSON"));
        CHECK_THROWS_AS(load_calc_config("/nonexistent/config.json"), InputError);
    }
}

TEST_CASE("number formatting", "[cache_calc]") {
    CHECK(with_commas(0) == "0");
    CHECK(with_commas(999) == "999");
    CHECK(with_commas(1000) == "1,000");
    CHECK(with_commas(327680) == "327,680");
    CHECK(with_commas(18446744073709551615ull) == "18,446,744,073,709,551,615");
    CHECK(format_gb(13107200000ull) == "13.11 GB");
    CHECK(format_gb(36864000) == "0.0369 GB");
    CHECK(format_gb(0) == "0 GB");
    CHECK(format_gib(1073741824ull) == "1.00 GiB");
    CHECK(format_bytes_short(1e9) == "1 GB");
    CHECK(format_bytes_short(1e13) == "10 TB");
    CHECK(format_tokens_short(1000) == "1k");
    CHECK(format_tokens_short(1e6) == "1M");
    CHECK(format_tokens_short(100) == "100");
    CHECK(format_ratio(56.888) == "56.9x");
}

TEST_CASE("curve context lengths: 1-2-5 per decade, windows included", "[cache_calc]") {
    CurveRequest r;
    r.min_tokens = 1000;
    r.max_tokens = 1000000;
    const std::vector<uint64_t> t = curve_tokens(r);
    const std::vector<uint64_t> want = {1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000};
    CHECK(t == want);
    const std::vector<uint64_t> tw = curve_tokens(r, {4096});
    CHECK(tw.size() == want.size() + 1);
    CHECK(tw[2] == 4096);
    r.log_x = false;
    r.min_tokens = 0;
    CHECK(curve_tokens(r).size() == 21);
    r.log_x = true;
    CHECK_THROWS_AS(curve_tokens(r), InputError);  // log axis from 0
}

TEST_CASE("SVG is well-formed with one path per series; CSV has one row per context length", "[cache_calc][plot]") {
    const Config v3 = load_preset("deepseek-v3");
    nlohmann::json mj = llama_json();
    mj["sliding_window"] = 4096;
    const std::vector<CurveModel> models = {{"deepseek-v3", v3}, {"mistral & co <7b>", config_from_json(mj)}};

    CurveRequest r;
    r.kinds = {CacheKind::MHA, CacheKind::MLA};
    const std::vector<CurveSeries> series = curve_series(models, r);
    REQUIRE(series.size() == 4);
    CHECK(series[1].label == "deepseek-v3 mla (own)");
    CHECK(series[3].window == 4096);
    // Capped at the window: flat after 4096 tokens.
    CHECK(series[3].bytes.back() == 4096ull * 36864);
    CHECK(series[0].bytes.back() == 3997696ull * 1000000);

    const std::vector<CurveCallout> callouts = curve_callouts(models, series);
    REQUIRE(callouts.size() == 1);
    CHECK(callouts[0].mla_series == 1);
    CHECK(callouts[0].mha_series == 0);
    CHECK(callouts[0].text.find("56.9x") != std::string::npos);

    for (bool log : {true, false}) {
        PlotOptions o;
        o.log = log;
        o.subtitle = "bf16, batch 1";
        CurveRequest rr = r;
        rr.log_x = log;
        rr.min_tokens = log ? 1000 : 0;
        const std::vector<CurveSeries> s = curve_series(models, rr);
        const std::string svg = plot_svg(s, curve_callouts(models, s), o);
        INFO(svg.substr(0, 400));
        CHECK(xml_problem(svg) == "");
        CHECK(count_of(svg, "<path ") == s.size());
        CHECK(count_of(svg, "<svg ") == 1);
        CHECK(svg.find("<title>") != std::string::npos);
        CHECK(svg.find("56.9x") != std::string::npos);
        CHECK(svg.find("mistral &amp; co &lt;7b&gt;") != std::string::npos);
    }
    CHECK(xml_problem("<a><b></a></b>") != "");  // the checker does check
    CHECK(xml_problem("<a x=\"1\"><b/>t &amp; u</a>") == "");

    const std::string csv = plot_csv(series);
    const size_t lines = count_of(csv, "\n");
    CHECK(lines == 1 + series[0].tokens.size());
    CHECK(csv.rfind("tokens,deepseek-v3 mha [bytes],deepseek-v3 mla (own) [bytes],", 0) == 0);
    CHECK(csv.find("\n1000000,3997696000000,70272000000,") != std::string::npos);
}
