// The cost model against hand computations, and cache elements against the paper's formulas.
#include <catch2/catch.hpp>

#include "model/cost.h"

using namespace mla;

TEST_CASE("cache elements per token per layer follow the paper's Table 1", "[cost]") {
    // MHA 2 n_h d_h, GQA 2 n_g d_h, MQA 2 d_h, MLA d_c + d_r, cached-kv n_h (d_n + d_r + d_v)
    CHECK(cache_elements_per_token(builtin_config(AttnKind::MHA), MlaPath::Absorbed) == 2 * 4 * 16);
    CHECK(cache_elements_per_token(builtin_config(AttnKind::GQA, 2), MlaPath::Absorbed) == 2 * 2 * 16);
    CHECK(cache_elements_per_token(builtin_config(AttnKind::MQA), MlaPath::Absorbed) == 2 * 16);
    const Config mla = builtin_config(AttnKind::MLA);
    CHECK(cache_elements_per_token(mla, MlaPath::Absorbed) == 32 + 8);
    CHECK(cache_elements_per_token(mla, MlaPath::Recompute) == 32 + 8);
    CHECK(cache_elements_per_token(mla, MlaPath::CachedKV) == 4 * (16 + 8 + 16));
}

namespace {
Config small_gqa() {
    Config c;
    c.hidden_size = 8;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.head_dim = 4;
    c.intermediate_size = 16;
    c.vocab_size = 10;
    c.num_hidden_layers = 1;
    return c;
}
Config small_mla() {
    Config c = small_gqa();
    c.model_type = "deepseek_v2";
    c.head_dim = 0;
    c.num_key_value_heads = 2;
    c.kv_lora_rank = 4;
    c.qk_nope_head_dim = 2;
    c.qk_rope_head_dim = 2;
    c.v_head_dim = 2;
    return c;
}
}  // namespace

TEST_CASE("attention FLOPs match a hand count for a small config", "[cost]") {
    RunOptions o;
    // D=8, H=2, G=1, Dh=4, T=3: q,k,v 2*8*(8+4+4)=256; scores 2*2*3*4=48; values 48; out 2*8*8=128
    CHECK(attention_cost(small_gqa(), o, 3).attn_flops == 480);
    // MLA D=8, H=2, C=4, Dn=Dr=Dv=2, T=3: q 2*8*2*4=128, kv_a 2*8*6=96, out 2*2*2*8=64
    o.mla_path = MlaPath::Absorbed;   // + absorb 32 + scores 2*2*3*6=72 + values 2*2*3*4=48 + latent out 32
    CHECK(attention_cost(small_mla(), o, 3).attn_flops == 128 + 96 + 32 + 72 + 48 + 32 + 64);
    o.mla_path = MlaPath::CachedKV;   // + decompress 2*4*2*4=64 + scores 2*2*3*4=48 + values 2*2*3*2=24
    CHECK(attention_cost(small_mla(), o, 3).attn_flops == 128 + 96 + 64 + 48 + 24 + 64);
    o.mla_path = MlaPath::Recompute;  // + rebuild 2*3*4*2*4=192 + scores 48 + values 24
    CHECK(attention_cost(small_mla(), o, 3).attn_flops == 128 + 96 + 192 + 48 + 24 + 64);
}

TEST_CASE("cache traffic and weight bytes for a small config", "[cost]") {
    RunOptions o;
    LayerCost g = attention_cost(small_gqa(), o, 3, 2.0);
    CHECK(g.cache_read_bytes == 3 * 8 * 2);   // 3 tokens x 2 G Dh x 2 B
    CHECK(g.cache_write_bytes == 8 * 2);
    CHECK(g.weight_bytes == (8 * 16 + 8 * 8) * 2);
    CHECK(g.cache_elements == 24);
    o.mla_path = MlaPath::Absorbed;
    LayerCost m = attention_cost(small_mla(), o, 3, 4.0);
    CHECK(m.cache_read_bytes == 3 * 6 * 4);
    // q 8x8, kv_a 6x8, kv_a_layernorm 4, kv_b 8x4, o 8x4
    CHECK(m.weight_bytes == (64 + 48 + 4 + 32 + 32) * 4);
}

TEST_CASE("a step adds the MLP and lm_head; no-cache repeats the prefix", "[cost]") {
    RunOptions o;
    StepCost s = step_cost(small_gqa(), o, 3);
    CHECK(s.flops() == 480 + 2 * 3 * 8 * 16 + 2 * 8 * 10);
    CHECK(s.cache_elements() == 24);
    o.no_cache = true;
    StepCost n = step_cost(small_gqa(), o, 3);
    // positions 1, 2, 3: attention 2*8*16 + 2*8*8 + 32 t each, MLP each time, lm_head once
    const double attn = 3 * (256 + 128) + 32 * (1 + 2 + 3);
    CHECK(n.flops() == attn + 3 * 2 * 3 * 8 * 16 + 2 * 8 * 10);
    CHECK(n.cache_elements() == 0);
}
