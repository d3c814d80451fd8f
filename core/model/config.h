// Model configuration, with Hugging Face config.json field names.
//
// Shape legend used across core/:
//   D  = hidden_size            L  = num_hidden_layers       V = vocab_size
//   H  = num_attention_heads    G  = num_key_value_heads     Dh = head_dim (MHA/GQA/MQA)
//   C  = kv_lora_rank (d_c)     Cq = q_lora_rank (d'_c, 0 = no query compression)
//   Dn = qk_nope_head_dim       Dr = qk_rope_head_dim        Dv = v_head_dim
//   F  = intermediate_size      T  = tokens in the cache
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.h"

namespace mla {

enum class AttnKind { MHA, GQA, MQA, MLA };
enum class MlaPath { CachedKV, Recompute, Absorbed };
enum class RopeLayout { Interleaved, Half };  // DeepSeek: adjacent pairs; Llama: (i, i + d/2)

const char* to_string(AttnKind k);   // "mha", "gqa", "mqa", "mla"
const char* display_name(AttnKind k);  // "MHA", "GQA", "MQA", "MLA": for text a person reads
const char* to_string(MlaPath p);    // "cached-kv", "recompute", "absorbed"
const char* to_string(RopeLayout l); // "interleaved", "half"
AttnKind parse_attn_kind(const std::string& s);  // throws InputError naming the valid values
MlaPath parse_mla_path(const std::string& s);

struct Config {
    std::string model_type = "llama";  // "llama" (MHA/GQA/MQA) or "deepseek_v2" (MLA)
    int64_t vocab_size = 256;
    int64_t hidden_size = 64;          // D
    int64_t intermediate_size = 128;   // F
    int64_t num_hidden_layers = 2;     // L
    int64_t num_attention_heads = 4;   // H
    int64_t num_key_value_heads = 4;   // G (for MLA models HF repeats H here; unused)
    int64_t head_dim = 16;             // Dh (MHA/GQA/MQA)
    int64_t max_position_embeddings = 2048;
    double rms_norm_eps = 1e-6;
    double rope_theta = 10000.0;
    RopeLayout rope_layout = RopeLayout::Half;
    bool tie_word_embeddings = false;
    // MLA (model_type deepseek_v2 / deepseek_v3)
    int64_t q_lora_rank = 0;           // Cq, 0 = no query compression (HF null)
    int64_t kv_lora_rank = 0;          // C
    int64_t qk_nope_head_dim = 0;      // Dn
    int64_t qk_rope_head_dim = 0;      // Dr
    int64_t v_head_dim = 0;            // Dv
    // MLA as a conversion from MHA/GQA leaves it (MHA2MLA's layout); the defaults are DeepSeek's.
    //   Gr = mla_rope_key_heads: rotary keys per token, query head h reads key h / (H/Gr); the
    //        cache holds C + Gr*Dr per token. DeepSeek shares one (Gr = 1).
    //   mla_kv_norm: RMSNorm on c_KV (kv_a_layernorm). A converted model has none: the latent
    //        is then linear in x, so full rank reproduces the source exactly.
    //   mla_rope_pairs: empty, or (L, Gr, Dr/2) frequency indices: pair j of group g in layer l
    //        rotates at theta^(-2 p / mla_rope_pairs_head_dim), p = mla_rope_pairs[(l*Gr + g)*Dr/2 + j]
    //        (partial RoPE keeps the source's own frequencies). Empty: p = j over Dr.
    int64_t mla_rope_key_heads = 1;    // Gr
    bool mla_kv_norm = true;
    std::vector<int32_t> mla_rope_pairs;
    int64_t mla_rope_pairs_head_dim = 0;
    // Fields read for the cache calculator; a model that needs them to run is refused.
    int64_t sliding_window = 0;        // 0 = none
    int64_t n_routed_experts = 0;      // 0 = dense
    int64_t first_k_dense_replace = 0;
    std::string rope_scaling_type;     // "" = none
    std::string torch_dtype = "float32";

    bool is_mla() const { return kv_lora_rank > 0; }
    AttnKind attn_kind() const;        // MLA if kv_lora_rank > 0; else from H and G
    int64_t q_head_dim() const { return is_mla() ? qk_nope_head_dim + qk_rope_head_dim : head_dim; }
    int64_t kv_groups() const { return num_attention_heads / num_key_value_heads; }  // query heads per KV head
    // MLA: elements of one cached latent row, C + Gr*Dr (the latent and the rotary keys).
    int64_t mla_row() const { return kv_lora_rank + mla_rope_key_heads * qk_rope_head_dim; }
    // The float32 RoPE inverse frequencies (Dr/2) of MLA layer l's rotary group g, or of a
    // head of `dim` with the standard ladder theta^(-2i/dim) when g < 0 (MHA/GQA/MQA).
    std::vector<float> rope_inv_freq(int64_t layer, int64_t group, int64_t dim) const;
};

// Upper bounds of the size fields: what the largest real configs need, times 16 (in
// brackets: the largest we know of; assets/presets and shared/reference/model-presets.md).
// With these, every product the cost model and the cache calculator form fits int64, and
// a hostile config is refused in microseconds instead of looping or allocating for ever.
constexpr int64_t kMaxVocabSize = int64_t{1} << 22;          // 4,194,304 (Gemma 3: 262,144)
constexpr int64_t kMaxHiddenSize = int64_t{1} << 18;         // 262,144 (Llama-3.1-405B: 16,384)
constexpr int64_t kMaxIntermediateSize = int64_t{1} << 20;   // 1,048,576 (Llama-3.1-405B: 53,248)
constexpr int64_t kMaxLayers = 2048;                         // (Llama-3.1-405B: 126)
constexpr int64_t kMaxHeads = 2048;                          // H and G (Llama-3.1-405B, DeepSeek-V3: 128)
constexpr int64_t kMaxHeadDim = 4096;                        // Dh, Dn, Dr, Dv (Gemma: 256)
constexpr int64_t kMaxLoraRank = int64_t{1} << 15;           // 32,768: C and Cq (DeepSeek-V3: 512, 1,536)
constexpr int64_t kMaxPositions = int64_t{1} << 28;          // 268,435,456 (Llama 4 Scout: 10,485,760)
constexpr int64_t kMaxExperts = 4096;                        // (DeepSeek-V3: 256)

// Checks every field and every combination; throws InputError naming the field, the value
// and what would be valid. `for_running` adds what the engine needs to run the model
// (no mixture-of-experts, no YaRN); the cache calculator checks without it.
void validate(const Config& c, bool for_running = true);

// HF config.json <-> Config. Parsing names a missing field or a wrong type.
Config config_from_json(const nlohmann::json& j);
Config load_config_file(const std::string& path);
nlohmann::json config_to_json(const Config& c);

// The built-in byte-level model family: one switch gives MHA, GQA, MQA or MLA with the
// same hidden size, layers and query heads. kv_heads is used for GQA only (0 = default).
Config builtin_config(AttnKind kind, int64_t kv_heads = 0);

}  // namespace mla
