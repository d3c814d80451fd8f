#include "model/config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/json_read.h"

namespace mla {

const char* display_name(AttnKind k) {
    switch (k) {
        case AttnKind::MHA: return "MHA";
        case AttnKind::GQA: return "GQA";
        case AttnKind::MQA: return "MQA";
        case AttnKind::MLA: return "MLA";
    }
    return "?";
}

const char* to_string(AttnKind k) {
    switch (k) {
        case AttnKind::MHA: return "mha";
        case AttnKind::GQA: return "gqa";
        case AttnKind::MQA: return "mqa";
        case AttnKind::MLA: return "mla";
    }
    return "?";
}

const char* to_string(MlaPath p) {
    switch (p) {
        case MlaPath::CachedKV: return "cached-kv";
        case MlaPath::Recompute: return "recompute";
        case MlaPath::Absorbed: return "absorbed";
    }
    return "?";
}

const char* to_string(RopeLayout l) { return l == RopeLayout::Interleaved ? "interleaved" : "half"; }

AttnKind parse_attn_kind(const std::string& s) {
    if (s == "mha") return AttnKind::MHA;
    if (s == "gqa") return AttnKind::GQA;
    if (s == "mqa") return AttnKind::MQA;
    if (s == "mla") return AttnKind::MLA;
    throw InputError("attention kind '" + s + "' is not known; use mha, gqa, mqa or mla");
}

MlaPath parse_mla_path(const std::string& s) {
    if (s == "cached-kv") return MlaPath::CachedKV;
    if (s == "recompute") return MlaPath::Recompute;
    if (s == "absorbed") return MlaPath::Absorbed;
    throw InputError("MLA path '" + s + "' is not known; use cached-kv, recompute or absorbed");
}

AttnKind Config::attn_kind() const {
    if (is_mla()) return AttnKind::MLA;
    if (num_key_value_heads == num_attention_heads) return AttnKind::MHA;
    if (num_key_value_heads == 1) return AttnKind::MQA;
    return AttnKind::GQA;
}

namespace {

[[noreturn]] void fail(const std::string& field, int64_t value, const std::string& valid) {
    throw InputError(field + " = " + std::to_string(value) + " is not valid: " + valid, field);
}

void positive(const char* field, int64_t v) {
    if (v <= 0) fail(field, v, "it must be a positive integer");
}

void at_most(const char* field, int64_t v, int64_t limit) {
    if (v > limit)
        fail(field, v, "it must be at most " + std::to_string(limit) + " (16 times what the largest real models use)");
}

// Every size field below its bound (config.h), so that no later product overflows.
void check_bounds(const Config& c) {
    at_most("vocab_size", c.vocab_size, kMaxVocabSize);
    at_most("hidden_size", c.hidden_size, kMaxHiddenSize);
    at_most("intermediate_size", c.intermediate_size, kMaxIntermediateSize);
    at_most("num_hidden_layers", c.num_hidden_layers, kMaxLayers);
    at_most("num_attention_heads", c.num_attention_heads, kMaxHeads);
    at_most("num_key_value_heads", c.num_key_value_heads, kMaxHeads);
    at_most("head_dim", c.head_dim, kMaxHeadDim);
    at_most("max_position_embeddings", c.max_position_embeddings, kMaxPositions);
    at_most("q_lora_rank", c.q_lora_rank, kMaxLoraRank);
    at_most("kv_lora_rank", c.kv_lora_rank, kMaxLoraRank);
    at_most("qk_nope_head_dim", c.qk_nope_head_dim, kMaxHeadDim);
    at_most("qk_rope_head_dim", c.qk_rope_head_dim, kMaxHeadDim);
    at_most("v_head_dim", c.v_head_dim, kMaxHeadDim);
    at_most("sliding_window", c.sliding_window, kMaxPositions);
    at_most("n_routed_experts", c.n_routed_experts, kMaxExperts);
    at_most("first_k_dense_replace", c.first_k_dense_replace, kMaxLayers);
    if (c.intermediate_size < 0) fail("intermediate_size", c.intermediate_size, "it must be a positive integer");
    if (c.first_k_dense_replace < 0) fail("first_k_dense_replace", c.first_k_dense_replace, "it must be 0 or more");
    if (c.n_routed_experts < 0) fail("n_routed_experts", c.n_routed_experts, "it must be positive, or null for a dense model");
}

}  // namespace

void validate(const Config& c, bool for_running) {
    positive("vocab_size", c.vocab_size);
    positive("hidden_size", c.hidden_size);
    positive("num_hidden_layers", c.num_hidden_layers);
    positive("num_attention_heads", c.num_attention_heads);
    positive("max_position_embeddings", c.max_position_embeddings);
    check_bounds(c);
    if (for_running) positive("intermediate_size", c.intermediate_size);
    if (!(c.rms_norm_eps > 0.0) || c.rms_norm_eps > 1e-1)
        throw InputError("rms_norm_eps = " + std::to_string(c.rms_norm_eps) +
                         " is not valid: it must be in (0, 0.1], typically 1e-6", "rms_norm_eps");
    if (!(c.rope_theta > 1.0) || !(c.rope_theta <= 1e12))
        throw InputError("rope_theta = " + std::to_string(c.rope_theta) +
                         " is not valid: it must be greater than 1 and at most 1e12, typically 10000", "rope_theta");
    if (c.is_mla()) {
        // Dn = 0: every dimension of the key rotates (a model converted with all its pairs kept).
        if (c.qk_nope_head_dim < 0) fail("qk_nope_head_dim", c.qk_nope_head_dim, "it must be 0 or more");
        positive("qk_rope_head_dim", c.qk_rope_head_dim);
        positive("v_head_dim", c.v_head_dim);
        if (c.qk_rope_head_dim % 2 != 0)
            fail("qk_rope_head_dim", c.qk_rope_head_dim, "RoPE rotates pairs, so it must be even");
        if (c.q_lora_rank < 0) fail("q_lora_rank", c.q_lora_rank, "it must be positive, or null for no query compression");
        if (c.num_key_value_heads != c.num_attention_heads && c.num_key_value_heads != 0)
            throw InputError("num_key_value_heads = " + std::to_string(c.num_key_value_heads) +
                             " is not valid for an MLA model: MLA has one latent shared by all heads, "
                             "so HF configs repeat num_attention_heads (" +
                             std::to_string(c.num_attention_heads) + ") here", "num_key_value_heads");
        if (c.mla_rope_key_heads <= 0 || c.mla_rope_key_heads > c.num_attention_heads ||
            c.num_attention_heads % c.mla_rope_key_heads != 0)
            fail("mla_rope_key_heads", c.mla_rope_key_heads,
                 "it must divide num_attention_heads (" + std::to_string(c.num_attention_heads) +
                     "); 1 is DeepSeek's one shared rotary key");
        if (!c.mla_rope_pairs.empty()) {
            const int64_t base = c.mla_rope_pairs_head_dim;
            if (base <= 0 || base % 2 != 0 || base > kMaxHeadDim)
                fail("mla_rope_pairs_head_dim", base, "it must be the source model's head_dim: even, 2 to " +
                                                          std::to_string(kMaxHeadDim));
            const int64_t want = c.num_hidden_layers * c.mla_rope_key_heads * (c.qk_rope_head_dim / 2);
            if (static_cast<int64_t>(c.mla_rope_pairs.size()) != want)
                throw InputError("mla_rope_pairs holds " + std::to_string(c.mla_rope_pairs.size()) +
                                 " indices; it must hold num_hidden_layers x mla_rope_key_heads x qk_rope_head_dim/2 = " +
                                 std::to_string(want), "mla_rope_pairs");
            for (int32_t p : c.mla_rope_pairs)
                if (p < 0 || p >= base / 2)
                    fail("mla_rope_pairs", p, "each index must be a frequency pair of the source head, 0 to " +
                                                  std::to_string(base / 2 - 1));
        }
    } else {
        if (c.mla_rope_key_heads != 1 || !c.mla_kv_norm || !c.mla_rope_pairs.empty())
            throw InputError("mla_rope_key_heads / mla_kv_norm / mla_rope_pairs are MLA fields, but kv_lora_rank is not set",
                             "kv_lora_rank");
        if (c.q_lora_rank > 0)
            fail("q_lora_rank", c.q_lora_rank, "query compression is an MLA field; set kv_lora_rank for an MLA model, or leave it null");
        if (c.qk_nope_head_dim > 0 || c.qk_rope_head_dim > 0 || c.v_head_dim > 0)
            throw InputError("qk_nope_head_dim / qk_rope_head_dim / v_head_dim are MLA fields, but kv_lora_rank is not set; "
                             "set kv_lora_rank for an MLA model or remove them", "kv_lora_rank");
        positive("num_key_value_heads", c.num_key_value_heads);
        positive("head_dim", c.head_dim);
        if (c.num_key_value_heads > c.num_attention_heads || c.num_attention_heads % c.num_key_value_heads != 0)
            throw InputError("num_key_value_heads = " + std::to_string(c.num_key_value_heads) +
                             " is not valid: it must divide num_attention_heads (" +
                             std::to_string(c.num_attention_heads) + ")", "num_key_value_heads");
        if (c.head_dim % 2 != 0) fail("head_dim", c.head_dim, "RoPE rotates pairs, so it must be even");
    }
    if (c.sliding_window < 0) fail("sliding_window", c.sliding_window, "it must be positive, or null for none");
    if (for_running) {
        if (c.n_routed_experts > 0)
            fail("n_routed_experts", c.n_routed_experts,
                 "mixture-of-experts layers are not supported by the engine; use a dense model (null), "
                 "or the cache calculator, which reads this config as it is");
        if (!c.rope_scaling_type.empty())
            throw InputError("rope_scaling.type = \"" + c.rope_scaling_type +
                             "\" is not supported by the engine; only plain RoPE (rope_scaling null) runs", "rope_scaling");
        if (c.sliding_window > 0)
            fail("sliding_window", c.sliding_window, "sliding-window attention is not supported by the engine; use null");
    }
}

namespace {

using nlohmann::json;

constexpr const char* kWhere = "config.json";

int64_t get_int(const json& j, const char* key, bool required, int64_t fallback) {
    const std::optional<int64_t> v = json_int(j, key, kWhere);
    if (!v) {
        if (required) throw InputError(std::string(kWhere) + ": field '" + key + "' is missing; it must be an integer", key);
        return fallback;
    }
    return *v;
}

double get_num(const json& j, const char* key, double fallback) {
    return json_number(j, key, kWhere).value_or(fallback);
}

Config config_from_object(const json& j) {
    if (!j.is_object()) throw InputError("config.json: the top level must be a JSON object, got " + excerpt(j));
    Config c;
    if (auto it = j.find("model_type"); it != j.end() && it->is_string()) c.model_type = it->get<std::string>();
    const bool deepseek = c.model_type.rfind("deepseek", 0) == 0;
    c.vocab_size = get_int(j, "vocab_size", true, 0);
    // GPT-2 and Falcon spell the sizes differently; read their names too.
    const bool gpt2 = c.model_type == "gpt2";
    c.hidden_size = get_int(j, gpt2 ? "n_embd" : "hidden_size", true, 0);
    c.num_hidden_layers = get_int(j, gpt2 ? "n_layer" : "num_hidden_layers", true, 0);
    c.num_attention_heads = get_int(j, gpt2 ? "n_head" : "num_attention_heads", true, 0);
    // GPT-2's default inner size is 4 D; a D too large for that is refused by validate().
    const int64_t gpt2_inner = c.hidden_size > 0 && c.hidden_size <= kMaxHiddenSize ? 4 * c.hidden_size : 0;
    c.intermediate_size = get_int(j, gpt2 ? "n_inner" : "intermediate_size", false, gpt2 ? gpt2_inner : 0);
    // Falcon-7B's config.json has no max_position_embeddings; FalconConfig's default is 2048.
    const bool falcon = c.model_type == "falcon";
    c.max_position_embeddings = get_int(j, gpt2 ? "n_positions" : "max_position_embeddings", !gpt2 && !falcon, 2048);
    c.kv_lora_rank = get_int(j, "kv_lora_rank", false, 0);
    if (c.model_type == "falcon" && !j.contains("num_key_value_heads")) {
        // Falcon-7B: multi_query = true means one KV head.
        const bool mq = json_bool(j, "multi_query", kWhere).value_or(false);
        c.num_key_value_heads = mq ? 1 : get_int(j, "num_kv_heads", false, c.num_attention_heads);
    } else {
        c.num_key_value_heads = get_int(j, "num_key_value_heads", false, c.num_attention_heads);
    }
    c.head_dim = get_int(j, "head_dim", false, c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0);
    c.rms_norm_eps = get_num(j, gpt2 ? "layer_norm_epsilon" : "rms_norm_eps", 1e-6);
    if (c.model_type == "falcon") c.rms_norm_eps = get_num(j, "layer_norm_epsilon", 1e-5);
    c.rope_theta = get_num(j, "rope_theta", 10000.0);
    c.tie_word_embeddings = json_bool(j, "tie_word_embeddings", kWhere).value_or(false);
    if (c.kv_lora_rank > 0) {
        c.q_lora_rank = get_int(j, "q_lora_rank", false, 0);
        c.qk_nope_head_dim = get_int(j, "qk_nope_head_dim", true, 0);
        c.qk_rope_head_dim = get_int(j, "qk_rope_head_dim", true, 0);
        c.v_head_dim = get_int(j, "v_head_dim", true, 0);
        c.head_dim = 0;
        c.mla_rope_key_heads = get_int(j, "mla_rope_key_heads", false, 1);
        c.mla_kv_norm = json_bool(j, "mla_kv_norm", kWhere).value_or(true);
        if (auto it = j.find("mla_rope_pairs"); it != j.end() && !it->is_null()) {
            // [layer][group][pair], flattened; the shape is checked by validate().
            const auto bad = [&] {
                return InputError("config.json: field 'mla_rope_pairs' must be an array (layers) of arrays (rotary "
                                  "key groups) of frequency-pair indices, got " + excerpt(*it), "mla_rope_pairs");
            };
            if (!it->is_array() || it->size() > static_cast<size_t>(kMaxLayers)) throw bad();
            for (const json& layer : *it) {
                if (!layer.is_array() || layer.size() > static_cast<size_t>(kMaxHeads)) throw bad();
                for (const json& group : layer) {
                    if (!group.is_array() || group.size() > static_cast<size_t>(kMaxHeadDim)) throw bad();
                    for (const json& p : group) {
                        if (!p.is_number_integer()) throw bad();
                        const int64_t v = p.get<int64_t>();
                        c.mla_rope_pairs.push_back(v < 0 || v > kMaxHeadDim ? -1 : static_cast<int32_t>(v));
                    }
                }
            }
            c.mla_rope_pairs_head_dim = get_int(j, "mla_rope_pairs_head_dim", true, 0);
        }
    } else {
        for (const char* k : {"q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"})
            if (j.contains(k) && !j[k].is_null())
                throw InputError(std::string("config.json: field '") + k +
                                 "' is an MLA field, but kv_lora_rank is missing; add kv_lora_rank or remove it", k);
    }
    // DeepSeek checkpoints rotate adjacent pairs; HF's rope_interleave or our rope_layout may say otherwise.
    c.rope_layout = deepseek ? RopeLayout::Interleaved : RopeLayout::Half;
    if (auto it = j.find("rope_layout"); it != j.end()) {
        if (*it == "interleaved") c.rope_layout = RopeLayout::Interleaved;
        else if (*it == "half") c.rope_layout = RopeLayout::Half;
        else throw InputError("config.json: field 'rope_layout' must be \"interleaved\" or \"half\", got " + excerpt(*it),
                              "rope_layout");
    }
    if (auto it = j.find("rope_interleave"); it != j.end() && it->is_boolean())
        c.rope_layout = it->get<bool>() ? RopeLayout::Interleaved : RopeLayout::Half;
    c.sliding_window = get_int(j, "sliding_window", false, 0);
    if (auto it = j.find("use_sliding_window"); it != j.end() && it->is_boolean() && !it->get<bool>()) c.sliding_window = 0;
    c.n_routed_experts = get_int(j, "n_routed_experts", false, 0);
    c.first_k_dense_replace = get_int(j, "first_k_dense_replace", false, 0);
    if (const std::optional<int64_t> v = json_int(j, "num_local_experts", kWhere)) c.n_routed_experts = *v;  // Mixtral
    if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            throw InputError("config.json: field 'rope_scaling' must be an object or null, got " + excerpt(*it), "rope_scaling");
        const std::string where = "config.json: rope_scaling";
        const std::string t = json_string(*it, "type", where).value_or(json_string(*it, "rope_type", where).value_or("unknown"));
        if (t != "default") c.rope_scaling_type = t;
    }
    if (auto it = j.find("torch_dtype"); it != j.end() && it->is_string()) c.torch_dtype = it->get<std::string>();
    return c;
}

}  // namespace

Config config_from_json(const json& j) {
    try {
        return config_from_object(j);
    } catch (const json::exception& e) {  // a type the getters above did not foresee
        throw InputError(std::string("config.json: ") + json_reason(e));
    }
}

Config load_config_file(const std::string& path) {
    const json j = read_json_file(path, "; give the path of a config.json");
    try {
        return config_from_json(j);
    } catch (const InputError& e) {
        const std::string what = e.what();
        // "config.json: field ..." -> "<path>: field ..."
        const std::string tail = what.rfind("config.json: ", 0) == 0 ? what.substr(13) : what;
        throw InputError(path + ": " + tail, e.field);
    }
}

nlohmann::json config_to_json(const Config& c) {
    json j;
    const bool m = c.is_mla();
    // The fields below have Llama's names; GPT-2 and Falcon spell theirs differently, so a
    // config read from theirs is written back as what it now is.
    j["model_type"] = c.model_type == "gpt2" || c.model_type == "falcon" ? std::string("llama") : c.model_type;
    j["architectures"] = json::array({m ? "DeepseekV2ForCausalLM" : "LlamaForCausalLM"});
    j["vocab_size"] = c.vocab_size;
    j["hidden_size"] = c.hidden_size;
    j["intermediate_size"] = c.intermediate_size;
    j["num_hidden_layers"] = c.num_hidden_layers;
    j["num_attention_heads"] = c.num_attention_heads;
    j["num_key_value_heads"] = m ? c.num_attention_heads : c.num_key_value_heads;
    j["max_position_embeddings"] = c.max_position_embeddings;
    j["rms_norm_eps"] = c.rms_norm_eps;
    j["rope_theta"] = c.rope_theta;
    j["rope_layout"] = to_string(c.rope_layout);
    j["tie_word_embeddings"] = c.tie_word_embeddings;
    j["rope_scaling"] = nullptr;
    j["torch_dtype"] = "float32";
    if (m) {
        j["q_lora_rank"] = c.q_lora_rank > 0 ? json(c.q_lora_rank) : json(nullptr);
        j["kv_lora_rank"] = c.kv_lora_rank;
        j["qk_nope_head_dim"] = c.qk_nope_head_dim;
        j["qk_rope_head_dim"] = c.qk_rope_head_dim;
        j["v_head_dim"] = c.v_head_dim;
        j["n_routed_experts"] = nullptr;
        if (c.mla_rope_key_heads != 1) j["mla_rope_key_heads"] = c.mla_rope_key_heads;
        if (!c.mla_kv_norm) j["mla_kv_norm"] = false;
        if (!c.mla_rope_pairs.empty()) {
            const int64_t Gr = c.mla_rope_key_heads, P = c.qk_rope_head_dim / 2;
            json layers = json::array();
            for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
                json groups = json::array();
                for (int64_t g = 0; g < Gr; ++g) {
                    json pairs = json::array();
                    for (int64_t i = 0; i < P; ++i) pairs.push_back(c.mla_rope_pairs[static_cast<size_t>((l * Gr + g) * P + i)]);
                    groups.push_back(pairs);
                }
                layers.push_back(groups);
            }
            j["mla_rope_pairs"] = layers;
            j["mla_rope_pairs_head_dim"] = c.mla_rope_pairs_head_dim;
        }
    } else {
        j["head_dim"] = c.head_dim;
    }
    return j;
}

std::vector<float> Config::rope_inv_freq(int64_t layer, int64_t group, int64_t dim) const {
    // As Hugging Face: 1 / theta^(2i/dim) in float32 from a double power.
    const int64_t half = dim / 2;
    std::vector<float> f(static_cast<size_t>(half));
    const bool pairs = group >= 0 && !mla_rope_pairs.empty();
    const double base = pairs ? static_cast<double>(mla_rope_pairs_head_dim) : static_cast<double>(dim);
    for (int64_t i = 0; i < half; ++i) {
        const double p = pairs ? mla_rope_pairs[static_cast<size_t>((layer * mla_rope_key_heads + group) * half + i)]
                               : static_cast<double>(i);
        f[static_cast<size_t>(i)] = static_cast<float>(std::pow(static_cast<double>(static_cast<float>(rope_theta)), -2.0 * p / base));
    }
    return f;
}

Config builtin_config(AttnKind kind, int64_t kv_heads) {
    Config c;
    c.vocab_size = 256;
    c.hidden_size = 64;
    c.intermediate_size = 176;
    c.num_hidden_layers = 3;
    c.num_attention_heads = 4;
    c.max_position_embeddings = 1024;
    c.rms_norm_eps = 1e-6;
    c.rope_theta = 10000.0;
    c.head_dim = 16;
    switch (kind) {
        case AttnKind::MHA: c.num_key_value_heads = 4; break;
        case AttnKind::GQA: c.num_key_value_heads = kv_heads > 0 ? kv_heads : 2; break;
        case AttnKind::MQA: c.num_key_value_heads = 1; break;
        case AttnKind::MLA:
            c.model_type = "deepseek_v2";
            c.rope_layout = RopeLayout::Interleaved;
            c.num_key_value_heads = 4;
            c.head_dim = 0;
            c.q_lora_rank = 0;
            c.kv_lora_rank = 32;
            c.qk_nope_head_dim = 16;
            c.qk_rope_head_dim = 8;
            c.v_head_dim = 16;
            break;
    }
    return c;
}

}  // namespace mla
