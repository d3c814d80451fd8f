#include "cli/model_options.h"

#include <algorithm>

#include "cli/cli.h"

#include "io/builtin.h"
#include "io/model_folder.h"

namespace mla::cli {

ModelSettings ModelOptions::settings() const {
    ModelSettings m = s;
    m.kind = parse_attn_kind(attn);
    m.mla_path = parse_mla_path(mla_path);
    m.weights = parse_weights_source(weights);
    m.cache_dtype = parse_cache_dtype(cache_dtype);
    if (kv_heads_opt && kv_heads_opt->count() > 0 && m.kind != AttnKind::GQA)
        throw InputError("--kv-heads applies to --attn gqa only (MHA has 4 KV heads, MQA 1, MLA a latent)");
    if (!(m.temperature >= 0.0f) || !(m.temperature <= 100.0f))
        throw InputError("--temperature must be between 0 (greedy) and 100");
    if (!model_dir.empty()) return m;  // a folder brings its own sizes
    if (m.weights != WeightsSource::Random) m.prompt = prompt_for_set(m.prompt, m.trained_set);
    validate_settings(m);
    return m;
}

std::shared_ptr<const Weights> ModelOptions::load_weights(const ModelSettings& m) const {
    if (!model_dir.empty()) return std::make_shared<const Weights>(load_model(model_dir));
    return settings_weights(m, m.kind);
}

void add_model_options(CLI::App& a, ModelOptions& m, unsigned groups) {
    const ModelSettings d;
    if (groups & kFolderOption)
        a.add_option("--model", m.model_dir, "model folder with config.json + model.safetensors (default: built-in)");
    a.add_option("--attn", m.attn, "built-in model's attention kind: mha, gqa, mqa or mla")->default_val(m.attn);
    m.kv_heads_opt = a.add_option("--kv-heads", m.s.kv_heads, "built-in GQA model: KV heads (divides the 4 query heads)")
                         ->default_val(d.kv_heads);
    a.add_option("--kv-lora-rank", m.s.kv_lora_rank, "built-in MLA model: latent rank d_c")->default_val(d.kv_lora_rank);
    a.add_option("--rope-dim", m.s.rope_dim, "built-in MLA model: decoupled RoPE dim d_r (even)")->default_val(d.rope_dim);
    a.add_option("--q-lora-rank", m.s.q_lora_rank, "built-in MLA model: query compression d'_c (0 = none)")
        ->default_val(d.q_lora_rank);
    if (groups & kPathOptions) {
        a.add_option("--mla-path", m.mla_path, "MLA path: cached-kv, recompute or absorbed")->default_val(m.mla_path);
        a.add_flag("--rope-on-latent", m.s.rope_on_latent, "MLA: RoPE on the compressed keys (breaks absorption)");
        a.add_flag("--no-cache", m.s.no_cache, "re-run the whole prefix every step");
    }
    if (groups & kCacheDtypeOption)
        a.add_option("--cache-dtype", m.cache_dtype,
                     "how the KV cache is stored: fp32, bf16, fp16 or fp8 (E4M3); the compute stays float32")
            ->default_val(m.cache_dtype);
    if (groups & kPromptOption)
        a.add_option("--prompt", m.s.prompt,
                     "prompt text (byte-level models; with --trained-on repeat, a line of the copy task unless given)")
            ->default_val(d.prompt);
    a.add_option("--weights", m.weights,
                 "built-in model: trained (assets/models), random (seeded), or auto = trained when one has these sizes")
        ->default_val(m.weights);
    a.add_option("--trained-on", m.s.trained_set,
                 "built-in model, trained weights: fortunes (English text) or repeat (a synthetic copy task)")
        ->default_val(d.trained_set);
    a.add_option("--weights-seed", m.s.seed, "built-in model with random weights: their seed")->default_val(d.seed);
    if (groups & kSamplingOptions) {
        a.add_option("--seed", m.s.sample_seed, "sampling seed (with --temperature > 0)")->default_val(d.sample_seed);
        a.add_option("--temperature", m.s.temperature, "0 = greedy, up to 100")->default_val(d.temperature);
        a.add_option("--top-k", m.s.top_k, "sample from the K most likely tokens only (0 = all)")->default_val(d.top_k);
        a.add_option("--top-p", m.s.top_p, "then from the fewest most likely tokens whose probability reaches P (1 = all)")
            ->default_val(d.top_p);
    }
    a.add_option("--backend", m.s.backend, "cpu or gpu (gpu needs a display with OpenGL 4.3)")->default_val(d.backend);
}

namespace {

// "" when `text` is a decimal integer in [lo, hi] (as text: no conversion can saturate).
std::string integer_problem(const std::string& text, bool is_unsigned) {
    const std::string range = is_unsigned ? "from 0 to 18446744073709551615"
                                          : "from -9223372036854775808 to 9223372036854775807";
    const bool negative = !text.empty() && text[0] == '-';
    const std::string digits = negative ? text.substr(1) : text;
    const bool plain = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!plain || (digits.size() > 1 && digits[0] == '0'))
        return "'" + text + "' is not a whole number in decimal digits; give one " + range;
    if (negative && is_unsigned) return text + " is negative; give a whole number " + range;
    const std::string limit = is_unsigned ? "18446744073709551615" : negative ? "9223372036854775808" : "9223372036854775807";
    if (digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit))
        return text + " is out of range; give a whole number " + range;
    return "";
}

}  // namespace

void strict_integers(CLI::App& root) {
    for (CLI::Option* o : root.get_options()) {
        const std::string type = o->get_type_name();
        if (type != "INT" && type != "UINT") continue;
        const bool is_unsigned = type == "UINT";
        o->check(CLI::Validator(
            [is_unsigned](std::string& text) { return integer_problem(text, is_unsigned); }, "", "decimal integer"));
    }
    for (CLI::App* sub : root.get_subcommands({})) strict_integers(*sub);
}

}  // namespace mla::cli
