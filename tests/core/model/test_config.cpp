// Config validation: every impossible combination is refused with a message that names the
// field, the value and what would be valid.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "model/config.h"

using namespace mla;
using Catch::Contains;

TEST_CASE("the built-in configs are valid and switch kinds", "[config]") {
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        Config c = builtin_config(k);
        CHECK_NOTHROW(validate(c));
        CHECK(c.attn_kind() == k);
        CHECK(c.hidden_size == 64);
        CHECK(c.num_attention_heads == 4);
    }
}

TEST_CASE("impossible configs are refused with the field named", "[config]") {
    Config c = builtin_config(AttnKind::GQA);
    c.num_key_value_heads = 3;
    CHECK_THROWS_WITH(validate(c), Contains("num_key_value_heads = 3") && Contains("divide num_attention_heads (4)"));
    c = builtin_config(AttnKind::MHA);
    c.head_dim = 15;
    CHECK_THROWS_WITH(validate(c), Contains("head_dim = 15") && Contains("even"));
    c = builtin_config(AttnKind::MLA);
    c.qk_rope_head_dim = 7;
    CHECK_THROWS_WITH(validate(c), Contains("qk_rope_head_dim = 7"));
    c = builtin_config(AttnKind::MHA);
    c.hidden_size = 0;
    CHECK_THROWS_WITH(validate(c), Contains("hidden_size = 0") && Contains("positive"));
    c = builtin_config(AttnKind::MHA);
    c.num_attention_heads = -2;
    CHECK_THROWS_WITH(validate(c), Contains("num_attention_heads = -2"));
    c = builtin_config(AttnKind::MHA);
    c.v_head_dim = 16;  // an MLA field on a non-MLA model
    CHECK_THROWS_WITH(validate(c), Contains("v_head_dim") && Contains("kv_lora_rank"));
    c = builtin_config(AttnKind::MHA);
    c.q_lora_rank = 8;
    CHECK_THROWS_WITH(validate(c), Contains("q_lora_rank = 8"));
    c = builtin_config(AttnKind::MLA);
    c.num_key_value_heads = 2;
    CHECK_THROWS_WITH(validate(c), Contains("num_key_value_heads = 2") && Contains("MLA"));
    c = builtin_config(AttnKind::MLA);
    c.n_routed_experts = 64;
    CHECK_THROWS_WITH(validate(c), Contains("n_routed_experts = 64") && Contains("mixture-of-experts"));
    CHECK_NOTHROW(validate(c, false));  // the cache calculator still reads it
    c = builtin_config(AttnKind::MLA);
    c.rope_scaling_type = "yarn";
    CHECK_THROWS_WITH(validate(c), Contains("rope_scaling") && Contains("yarn"));
}

TEST_CASE("config.json parsing names missing fields and wrong types", "[config]") {
    nlohmann::json j = config_to_json(builtin_config(AttnKind::MLA));
    Config back = config_from_json(j);
    CHECK(back.kv_lora_rank == 32);
    CHECK(back.qk_rope_head_dim == 8);
    CHECK(back.rope_layout == RopeLayout::Interleaved);
    CHECK(back.attn_kind() == AttnKind::MLA);
    auto broken = j;
    broken.erase("hidden_size");
    CHECK_THROWS_WITH(config_from_json(broken), Contains("'hidden_size' is missing"));
    broken = j;
    broken["num_hidden_layers"] = "three";
    CHECK_THROWS_WITH(config_from_json(broken), Contains("'num_hidden_layers' must be an integer"));
    broken = config_to_json(builtin_config(AttnKind::GQA));
    broken["v_head_dim"] = 16;
    CHECK_THROWS_WITH(config_from_json(broken), Contains("'v_head_dim' is an MLA field"));
    CHECK_THROWS_WITH(load_config_file("/nonexistent/config.json"), Contains("cannot open"));
    Config llama = config_from_json(config_to_json(builtin_config(AttnKind::GQA)));
    CHECK(llama.rope_layout == RopeLayout::Half);
    CHECK(llama.num_key_value_heads == 2);
}

TEST_CASE("attention kinds and MLA paths parse from their names", "[config]") {
    CHECK(parse_attn_kind("gqa") == AttnKind::GQA);
    CHECK(parse_mla_path("cached-kv") == MlaPath::CachedKV);
    CHECK_THROWS_WITH(parse_attn_kind("mhaa"), Contains("use mha, gqa, mqa or mla"));
    CHECK_THROWS_WITH(parse_mla_path("fast"), Contains("cached-kv, recompute or absorbed"));
}
