// The command-line options shared by `mla-lab` (the window) and `mla-lab screenshot`: the
// model's settings and the window's, parsed into the window's types (window/window.h).
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "window/window.h"

namespace mla::cli {

struct CliModelArgs {
    std::string attn = "mla", mla_path = "absorbed", backend = "cpu", prompt = app::ModelSettings{}.prompt, weights = "auto",
                trained_on = kDefaultTrainedSet;
    int64_t kv_heads = 2, kv_lora_rank = 32, rope_dim = 8, q_lora_rank = 0;
    uint64_t weights_seed = 1, seed = 1;
    float temperature = 0;
    bool no_cache = false, rope_on_latent = false;
    app::ModelSettings settings() const;  // throws InputError naming the bad option's field
};

struct CliWindowArgs {
    std::string size = "1600x1000", theme, view, layout;
    bool view_only = false;
    float scale = 0;
    int64_t steps = 0;
    int frames = 0;
    int64_t page = 0;                // screenshot --view lesson --page N
    app::WindowOptions options() const;   // throws InputError
};

void add_model_args(CLI::App& a, CliModelArgs& m);
void add_window_args(CLI::App& a, CliWindowArgs& w, bool screenshot);

}  // namespace mla::cli
