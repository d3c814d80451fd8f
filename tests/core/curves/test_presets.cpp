// Every preset parses, has the right head dim and kind, and gives the cache sizes of
// reference/model-presets.md (bf16, batch 1) exactly.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "curves/cache_calc.h"
#include "model/config.h"
#include "model/cost.h"

using namespace mla;

namespace {

const Dtype kBf16 = {"bf16", 2};

struct Expected {
    const char* name;
    CacheKind kind;
    int64_t layers, heads, kv_heads, head_dim;  // head_dim: Dh, or Dn for MLA
    int64_t elements;                           // per token per layer
    uint64_t bytes_per_token;                   // bf16
};

// reference/model-presets.md
const Expected kExpected[] = {
    {"deepseek-v2", CacheKind::MLA, 60, 128, 128, 128, 576, 69120},
    {"deepseek-v2-lite", CacheKind::MLA, 27, 16, 16, 128, 576, 31104},
    {"deepseek-v3", CacheKind::MLA, 61, 128, 128, 128, 576, 70272},
    {"llama-2-7b", CacheKind::MHA, 32, 32, 32, 128, 8192, 524288},
    {"llama-2-70b", CacheKind::GQA, 80, 64, 8, 128, 2048, 327680},
    {"llama-3-8b", CacheKind::GQA, 32, 32, 8, 128, 2048, 131072},
    {"llama-3-70b", CacheKind::GQA, 80, 64, 8, 128, 2048, 327680},
    {"mistral-7b", CacheKind::GQA, 32, 32, 8, 128, 2048, 131072},
    {"falcon-7b", CacheKind::MQA, 32, 71, 1, 64, 128, 8192},
    {"qwen2.5-7b", CacheKind::GQA, 28, 28, 4, 128, 1024, 57344},
    {"gpt2", CacheKind::MHA, 12, 12, 12, 64, 1536, 36864},
};

CacheLayout layout_of(const Config& c, CacheKind k) {
    for (const CacheLayout& l : cache_layouts(c))
        if (l.kind == k) return l;
    FAIL("no layout of kind " << to_string(k));
    return {};
}

}  // namespace

TEST_CASE("every preset of model-presets.md is present", "[presets]") {
    const std::vector<std::string> names = preset_names();
    for (const Expected& e : kExpected) {
        INFO(e.name);
        CHECK(std::find(names.begin(), names.end(), e.name) != names.end());
    }
}

TEST_CASE("presets parse with their real fields and give the reference cache sizes", "[presets]") {
    for (const Expected& e : kExpected) {
        INFO(e.name);
        const Config c = load_preset(e.name);
        CHECK(c.num_hidden_layers == e.layers);
        CHECK(c.num_attention_heads == e.heads);
        CHECK(c.num_key_value_heads == e.kv_heads);
        CHECK((c.is_mla() ? c.qk_nope_head_dim : c.head_dim) == e.head_dim);
        const CacheLayout own = own_layout(c);
        CHECK(own.kind == e.kind);
        CHECK(own.elements_per_token_per_layer() == e.elements);
        CHECK(bytes_per_token(own, kBf16) == e.bytes_per_token);
        CHECK(cache_bytes(own, kBf16, 100000) == e.bytes_per_token * 100000);
        // The own row is marked and is the only one of its kind with default choices.
        const std::vector<CacheLayout> rows = cache_layouts(c);
        CHECK(std::count_if(rows.begin(), rows.end(), [](const CacheLayout& l) { return l.own; }) == 1);
        // The cost model counts the same cache.
        CHECK(cache_elements_per_token(c, MlaPath::Absorbed) == e.elements);
    }
}

TEST_CASE("bytes at 100,000 tokens in bf16 match the reference table", "[presets]") {
    auto at100k = [](const char* name) { return cache_bytes(own_layout(load_preset(name)), kBf16, 100000); };
    CHECK(at100k("llama-2-7b") == 52428800000ull);   // 52.43 GB
    CHECK(at100k("llama-2-70b") == 32768000000ull);  // 32.77 GB
    CHECK(at100k("llama-3-8b") == 13107200000ull);   // 13.11 GB
    CHECK(at100k("llama-3-70b") == 32768000000ull);
    CHECK(at100k("mistral-7b") == 13107200000ull);   // full context; the window caps it at 4096 tokens
    CHECK(at100k("falcon-7b") == 819200000ull);      // 0.82 GB
    CHECK(at100k("qwen2.5-7b") == 5734400000ull);    // 5.73 GB
    CHECK(at100k("gpt2") == 3686400000ull);          // 3.69 GB
    CHECK(format_gb(at100k("llama-2-7b")) == "52.43 GB");
    CHECK(format_gb(at100k("falcon-7b")) == "0.82 GB");
    CHECK(format_gb(at100k("qwen2.5-7b")) == "5.73 GB");
    CHECK(format_gb(at100k("gpt2")) == "3.69 GB");
}

TEST_CASE("DeepSeek-V3: MHA 3,997,696 vs MLA 70,272 B/token, 56.9x and 71.1x", "[presets]") {
    const Config c = load_preset("deepseek-v3");
    const CacheLayout mha = layout_of(c, CacheKind::MHA);
    const CacheLayout mla = layout_of(c, CacheKind::MLA);
    const CacheLayout ckv = layout_of(c, CacheKind::MLACachedKV);
    CHECK(mla.own);
    CHECK_FALSE(mha.own);
    CHECK(mha.elements_per_token_per_layer() == 32768);  // 2 x 128 heads x 128 (the paper's d_h = Dn)
    CHECK(mla.elements_per_token_per_layer() == 576);    // 512 + 64, not 512
    CHECK(ckv.elements_per_token_per_layer() == 40960);  // 128 x (128 + 64 + 128)
    CHECK(bytes_per_token(mha, kBf16) == 3997696);
    CHECK(bytes_per_token(mla, kBf16) == 70272);
    CHECK(cache_bytes(mha, kBf16, 100000) == 399769600000ull);
    CHECK(cache_bytes(mla, kBf16, 100000) == 7027200000ull);
    CHECK(format_gb(cache_bytes(mha, kBf16, 100000)) == "399.8 GB");
    CHECK(format_gib(cache_bytes(mha, kBf16, 100000)) == "372.3 GiB");
    CHECK(format_gb(cache_bytes(mla, kBf16, 100000)) == "7.03 GB");
    CHECK(format_gib(cache_bytes(mla, kBf16, 100000)) == "6.54 GiB");
    CHECK(format_ratio(cache_ratio(mha, mla)) == "56.9x");
    CHECK(format_ratio(cache_ratio(ckv, mla)) == "71.1x");
    CHECK_THAT(cache_ratio(mha, mla), Catch::Matchers::WithinAbs(32768.0 / 576.0, 1e-12));
    CHECK(formula(mla, kBf16) == "(512 + 64) x 61 layers x 2 B = 70,272 B/token");
    CHECK(formula(mha, kBf16) == "2 x 128 x 128 x 61 layers x 2 B = 3,997,696 B/token");
    CHECK(formula(ckv, kBf16) == "128 x (128 + 64 + 128) x 61 layers x 2 B = 4,997,120 B/token");
    // The cost model's cached-kv path holds the same.
    CHECK(cache_elements_per_token(c, MlaPath::CachedKV) == 40960);

    const std::string note = article_units_note("deepseek-v3", c);
    CHECK(note.find("399.8 GB vs MLA 7.03 GB = 372.3 GiB vs 6.54 GiB") != std::string::npos);
}

TEST_CASE("DeepSeek-V2-Lite: 221,184 vs 31,104 B/token, only 7.1x", "[presets]") {
    const Config c = load_preset("deepseek-v2-lite");
    CHECK(c.q_lora_rank == 0);  // null in the file: no query compression
    const CacheLayout mha = layout_of(c, CacheKind::MHA);
    const CacheLayout mla = layout_of(c, CacheKind::MLA);
    CHECK(bytes_per_token(mha, kBf16) == 221184);
    CHECK(bytes_per_token(mla, kBf16) == 31104);
    CHECK(format_ratio(cache_ratio(mha, mla)) == "7.1x");
}

TEST_CASE("preset details: head dims, windows, and what the engine would refuse", "[presets]") {
    const Config falcon = load_preset("falcon-7b");
    CHECK(falcon.head_dim == 64);  // 4544 / 71
    CHECK(falcon.num_key_value_heads == 1);
    CHECK(falcon.max_position_embeddings == 2048);  // not in the real file: FalconConfig's default
    CHECK(falcon.rope_theta == 10000.0);
    CHECK(load_preset("gpt2").head_dim == 64);
    CHECK(load_preset("gpt2").max_position_embeddings == 1024);
    CHECK(load_preset("mistral-7b").sliding_window == 4096);
    CHECK(load_preset("qwen2.5-7b").sliding_window == 0);  // use_sliding_window: false
    CHECK(load_preset("llama-3-8b").rope_theta == 500000.0);

    const Config v3 = load_preset("deepseek-v3");
    CHECK(v3.model_type == "deepseek_v3");
    CHECK(v3.q_lora_rank == 1536);
    CHECK(v3.vocab_size == 129280);
    CHECK(v3.first_k_dense_replace == 3);
    CHECK(v3.n_routed_experts == 256);
    CHECK(v3.rope_scaling_type == "yarn");
    CHECK(v3.head_dim == 0);  // hidden / heads = 56 is not the head dim
    // The calculator reads it; the engine refuses to run it, naming the field.
    CHECK_NOTHROW(validate(v3, false));
    CHECK_THROWS_WITH(validate(v3, true), Catch::Matchers::Contains("n_routed_experts"));
}

TEST_CASE("an unknown preset lists the valid names", "[presets]") {
    CHECK_THROWS_AS(load_preset("llama-4"), InputError);
    CHECK_THROWS_WITH(load_preset("llama-4"), Catch::Matchers::Contains("llama-4") &&
                                                  Catch::Matchers::Contains("deepseek-v3") &&
                                                  Catch::Matchers::Contains("gpt2"));
    CHECK_THROWS_AS(load_preset("../CMakeLists"), InputError);
}
