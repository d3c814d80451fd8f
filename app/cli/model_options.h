// The options of every command that runs a model (generate, forward, verify, the window,
// screenshot), written once and parsed into one ModelSettings (io/model_settings.h).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "io/model_settings.h"
#include "model/weights.h"

namespace mla::cli {

struct ModelOptions {
    ModelSettings s;               // numbers and switches bind straight to it
    std::string model_dir;         // --model DIR (empty = the built-in model)
    std::string attn = "mla", mla_path = "absorbed", weights = "auto", cache_dtype = "fp32";  // parsed by settings()
    CLI::Option* kv_heads_opt = nullptr;
    // The settings, checked: names the option at fault in an InputError.
    ModelSettings settings() const;
    // --model DIR's weights, or the built-in model's of settings().kind.
    std::shared_ptr<const Weights> load_weights(const ModelSettings& s) const;
};

// Which options a command takes beyond the built-in model's kind, sizes, weights and backend.
enum ModelOptionGroups : unsigned {
    kFolderOption = 1,     // --model DIR
    kPathOptions = 2,      // --mla-path, --rope-on-latent, --no-cache
    kPromptOption = 4,     // --prompt
    kSamplingOptions = 8,  // --seed, --temperature
    kCacheDtypeOption = 16,  // --cache-dtype
};
void add_model_options(CLI::App& a, ModelOptions& m, unsigned groups);

}  // namespace mla::cli
