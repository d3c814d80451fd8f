#include "io/model_settings.h"

#include <cmath>
#include <cstdio>

namespace mla {

Field field_of(const InputError& e, Field fallback) {
    struct Name { const char* name; Field f; };
    static const Name names[] = {
        // config.json fields of the built-in model
        {"num_key_value_heads", Field::KvHeads}, {"kv_lora_rank", Field::KvLoraRank},
        {"qk_rope_head_dim", Field::RopeDim},    {"q_lora_rank", Field::QLoraRank},
        {"qk_nope_head_dim", Field::KvLoraRank},
        // settings fields
        {"kind", Field::Kind},                   {"kv_heads", Field::KvHeads},
        {"rope_dim", Field::RopeDim},            {"mla_path", Field::MlaPath},
        {"rope_on_latent", Field::RopeOnLatent}, {"no_cache", Field::NoCache},
        {"cache_dtype", Field::CacheDtype},
        {"weights", Field::Weights},             {"trained_set", Field::Weights},
        {"seed", Field::Seed},                   {"sample_seed", Field::SampleSeed},
        {"temperature", Field::Temperature},     {"backend", Field::Backend},
        {"top_k", Field::TopK},                  {"top_p", Field::TopP},
        {"prompt", Field::Prompt},
    };
    for (const Name& n : names)
        if (e.field == n.name) return n.f;
    return fallback;
}

Config model_config(const ModelSettings& s, AttnKind kind) {
    Config c = builtin_config(kind, kind == AttnKind::GQA ? s.kv_heads : 0);
    if (kind == AttnKind::GQA) c.num_key_value_heads = s.kv_heads;  // builtin_config treats <= 0 as "default"
    if (kind == AttnKind::MLA) {
        c.kv_lora_rank = s.kv_lora_rank;
        c.qk_rope_head_dim = s.rope_dim;
        c.q_lora_rank = s.q_lora_rank;
    }
    return c;
}

RunOptions run_options(const ModelSettings& s, AttnKind kind) {
    RunOptions o;
    o.mla_path = s.mla_path;
    o.rope_on_latent = kind == AttnKind::MLA && s.rope_on_latent;
    o.no_cache = s.no_cache;
    o.cache_dtype = s.cache_dtype;
    return o;
}

void validate_settings(const ModelSettings& s) {
    if (s.kv_lora_rank <= 0)  // below 1 the config is no longer MLA, so validate() cannot say it
        throw InputError("kv_lora_rank = " + std::to_string(s.kv_lora_rank) +
                             " is not valid: the latent rank d_c must be a positive integer",
                         "kv_lora_rank");
    if (!(s.temperature >= 0.0f) || !(s.temperature <= 100.0f))
        throw InputError("temperature = " + std::to_string(s.temperature) +
                             " is not valid: use 0 (greedy) or a positive number up to 100",
                         "temperature");
    if (s.top_k < 0 || s.top_k > 1 << 20)
        throw InputError("top_k = " + std::to_string(s.top_k) + " is not valid: use 0 (all tokens) or a positive count",
                         "top_k");
    if (!(s.top_p > 0.0f) || !(s.top_p <= 1.0f))
        throw InputError("top_p = " + std::to_string(s.top_p) +
                             " is not valid: use a probability mass above 0 and at most 1 (1 = all tokens)",
                         "top_p");
    if (s.prompt.empty()) throw InputError("the prompt is empty: type at least one character", "prompt");
    if (s.weights != WeightsSource::Random) check_trained_set(s.trained_set);
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        const Config c = model_config(s, k);
        validate(c);
        if (static_cast<int64_t>(s.prompt.size()) > c.max_position_embeddings)
            throw InputError("the prompt has " + std::to_string(s.prompt.size()) +
                                 " bytes, more than the model's context of " +
                                 std::to_string(c.max_position_embeddings) + " tokens",
                             "prompt");
    }
    if (s.rope_on_latent && model_config(s, AttnKind::MLA).qk_nope_head_dim % 2 != 0)
        throw InputError("RoPE on the compressed keys needs an even qk_nope_head_dim", "rope_on_latent");
}

std::shared_ptr<const Weights> settings_weights(const ModelSettings& s, AttnKind kind, std::string* description,
                                                bool* trained) {
    return builtin_weights(model_config(s, kind), s.weights, s.seed, description, s.trained_set, trained);
}

std::vector<int64_t> byte_tokens(const std::string& text) {
    return std::vector<int64_t>(reinterpret_cast<const unsigned char*>(text.data()),
                                reinterpret_cast<const unsigned char*>(text.data()) + text.size());
}

std::string token_text(int64_t id, TokenStyle style, int64_t vocab) {
    if (vocab != 256) return "<" + std::to_string(id) + ">";
    if (style == TokenStyle::Label) {
        if (id == ' ') return "\xE2\x90\xA3";  // U+2423 OPEN BOX
        if (id == '\n') return "\\n";
        if (id == '\t') return "\\t";
        if (id >= 33 && id <= 126) return std::string(1, static_cast<char>(id));
    } else {
        if (id == '\n') return "\n";
        if (id >= 32 && id < 127) return std::string(1, static_cast<char>(id));
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(id & 0xFF));
    return buf;
}

}  // namespace mla
