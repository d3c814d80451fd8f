#include "io/builtin.h"

#include <algorithm>
#include <filesystem>

#include "base/assets.h"
#include "io/model_folder.h"

namespace fs = std::filesystem;

namespace mla {

WeightsSource parse_weights_source(const std::string& s) {
    if (s == "auto") return WeightsSource::Auto;
    if (s == "trained") return WeightsSource::Trained;
    if (s == "random") return WeightsSource::Random;
    throw InputError("weights '" + s + "' is not known; use auto, trained or random", "weights");
}

namespace {
bool same_sizes(const Config& a, const Config& b) {
    return a.vocab_size == b.vocab_size && a.hidden_size == b.hidden_size &&
           a.intermediate_size == b.intermediate_size && a.num_hidden_layers == b.num_hidden_layers &&
           a.num_attention_heads == b.num_attention_heads && a.is_mla() == b.is_mla() &&
           (a.is_mla() ? (a.kv_lora_rank == b.kv_lora_rank && a.q_lora_rank == b.q_lora_rank &&
                          a.qk_nope_head_dim == b.qk_nope_head_dim && a.qk_rope_head_dim == b.qk_rope_head_dim &&
                          a.v_head_dim == b.v_head_dim)
                       : (a.num_key_value_heads == b.num_key_value_heads && a.head_dim == b.head_dim)) &&
           a.rope_layout == b.rope_layout && a.rope_theta == b.rope_theta &&
           a.tie_word_embeddings == b.tie_word_embeddings;
}
}  // namespace

std::vector<std::string> trained_sets() {
    std::vector<std::string> sets;
    const std::string models = find_assets_subdir("models");
    if (models.empty()) return sets;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(models, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("mla-", 0) != 0 || !e.is_directory()) continue;
        const std::string set = name.substr(4);
        bool all = true;
        for (const char* k : {"mha", "gqa", "mqa", "mla"})
            all = all && fs::is_regular_file(fs::path(models) / (std::string(k) + "-" + set) / "config.json", ec);
        if (all) sets.push_back(set);
    }
    std::sort(sets.begin(), sets.end(), [](const std::string& a, const std::string& b) {
        if ((a == kDefaultTrainedSet) != (b == kDefaultTrainedSet)) return a == kDefaultTrainedSet;
        return a < b;
    });
    return sets;
}

std::string prompt_for_set(const std::string& prompt, const std::string& set) {
    const bool repeat = set == "repeat";
    if (repeat && prompt == kArticlePrompt) return kRepeatPrompt;
    if (!repeat && prompt == kRepeatPrompt) return kArticlePrompt;
    return prompt;
}

void check_trained_set(const std::string& set) {
    const std::vector<std::string> sets = trained_sets();
    if (std::find(sets.begin(), sets.end(), set) != sets.end()) return;
    std::string known;
    for (const std::string& s : sets) known += (known.empty() ? "" : ", ") + s;
    throw InputError("trained set '" + set + "' is not known; use " + (known.empty() ? "none (no assets/models folder was found)" : known), "trained_set");
}

std::string trained_model_dir(const Config& cfg, const std::string& set) {
    const std::string models = find_assets_subdir("models");
    if (models.empty()) return "";
    const std::string dir = (fs::path(models) / (std::string(to_string(cfg.attn_kind())) + "-" + set)).string();
    std::error_code ec;
    if (!fs::is_regular_file(fs::path(dir) / "config.json", ec)) return "";
    try {
        if (same_sizes(load_config_file((fs::path(dir) / "config.json").string()), cfg)) return dir;
    } catch (const InputError&) {
    }
    return "";
}

std::shared_ptr<const Weights> builtin_weights(const Config& cfg, WeightsSource src, uint64_t seed,
                                               std::string* description, const std::string& set, bool* trained) {
    if (trained) *trained = false;
    if (src != WeightsSource::Random) {
        const std::string dir = trained_model_dir(cfg, set);
        if (!dir.empty()) {
            if (description) *description = "trained model " + fs::path(dir).filename().string();
            if (trained) *trained = true;
            return std::make_shared<const Weights>(load_model(dir));
        }
        if (src == WeightsSource::Trained)
            throw InputError("no trained model has these sizes (trained: the built-in sizes of each kind, GQA with 2 "
                             "KV heads, MLA with d_c = 32, d_r = 8 and no query compression); use random weights", "weights");
    }
    if (description) *description = "random weights, seed " + std::to_string(seed);
    return std::make_shared<const Weights>(random_weights(cfg, seed));
}

}  // namespace mla
