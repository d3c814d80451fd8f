// What to run, in one struct: the built-in model's attention kind and sizes, the MLA path
// and options, where the weights come from, the prompt and the sampling. The CLI's options,
// the window's sidebar, session files and the lesson's Show me all fill this one struct; its
// defaults are the app's (the trained MLA model on the article's prompt, greedy).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/builtin.h"
#include "model/config.h"
#include "model/cost.h"
#include "model/weights.h"

namespace mla {

struct ModelSettings {
    AttnKind kind = AttnKind::MLA;
    int64_t kv_heads = 2;         // GQA: KV heads (divides the 4 query heads)
    int64_t kv_lora_rank = 32;    // MLA: d_c, the latent rank
    int64_t rope_dim = 8;         // MLA: d_r, the decoupled RoPE part of a head
    int64_t q_lora_rank = 0;      // MLA: d'_c, query compression (0 = none)
    MlaPath mla_path = MlaPath::Absorbed;
    bool rope_on_latent = false;  // MLA: RoPE on the compressed keys (breaks absorption)
    bool no_cache = false;        // re-run the whole prefix every step
    CacheDtype cache_dtype = CacheDtype::F32;  // how the KV cache is stored (the compute stays float32)
    WeightsSource weights = WeightsSource::Auto;  // trained (assets/models) when one has these sizes, else random
    std::string trained_set = kDefaultTrainedSet;  // trained weights: "fortunes" (English) or "repeat" (copy task)
    uint64_t seed = 1;            // random weights (the CLI's --weights-seed)
    uint64_t sample_seed = 1;     // sampling (the CLI's --seed); used when temperature > 0
    float temperature = 0.0f;     // 0 = greedy; at most 100
    int64_t top_k = 0;            // sample from the k most likely tokens only (0 = all)
    float top_p = 1.0f;           // then from the fewest most likely whose mass reaches p (1 = all)
    std::string backend = "cpu";  // "cpu" or "gpu"
    std::string prompt = kArticlePrompt;
    bool operator==(const ModelSettings&) const = default;
};

// The setting a message belongs to (the sidebar shows it under that field).
enum class Field { None, Kind, KvHeads, KvLoraRank, RopeDim, QLoraRank, MlaPath, RopeOnLatent, NoCache, CacheDtype,
                   Weights, Seed, SampleSeed, Temperature, TopK, TopP, Backend, Prompt };

// The setting an InputError is about, from its typed field (a config.json field of the
// built-in model, or a settings field); `fallback` when it names none of them.
Field field_of(const InputError& e, Field fallback = Field::None);

// The built-in model of `kind` with the sizes of `s` (kv_heads for GQA; d_c, d_r and d'_c
// for MLA). Not validated.
Config model_config(const ModelSettings& s, AttnKind kind);
RunOptions run_options(const ModelSettings& s, AttnKind kind);

// Checks everything a run of `s` needs, for every kind (the window runs all four side by
// side): the configs, the trained set, the temperature and the prompt. Throws InputError
// whose field names the setting (field_of gives it).
void validate_settings(const ModelSettings& s);

// The weights of `kind` with the sizes of `s`, from s.weights (builtin_weights).
std::shared_ptr<const Weights> settings_weights(const ModelSettings& s, AttnKind kind,
                                                std::string* description = nullptr, bool* trained = nullptr);

// The prompt's bytes as token ids (the built-in models read bytes).
std::vector<int64_t> byte_tokens(const std::string& text);

// A token as text. Text: what `generate` prints (printable ASCII and newlines as
// themselves, other bytes as \xNN). Label: a timeline chip or heatmap label (space as U+2423,
// newline and tab as \n and \t, other bytes as \xNN). A vocabulary that is not bytes: <id>.
enum class TokenStyle { Text, Label };
std::string token_text(int64_t id, TokenStyle style, int64_t vocab = 256);

}  // namespace mla
