#include "cli/window_options.h"

#include <memory>

namespace mla::cli {

app::ModelSettings CliModelArgs::settings() const {
    app::ModelSettings m;
    m.kind = parse_attn_kind(attn);
    m.mla_path = parse_mla_path(mla_path);
    m.backend = backend;
    m.prompt = prompt;
    m.kv_heads = kv_heads;
    m.kv_lora_rank = kv_lora_rank;
    m.rope_dim = rope_dim;
    m.q_lora_rank = q_lora_rank;
    m.weights = parse_weights_source(weights);
    m.trained_set = trained_on;
    if (m.weights != WeightsSource::Random) m.prompt = prompt_for_set(m.prompt, trained_on);
    m.seed = weights_seed;
    m.sample_seed = seed;
    m.temperature = temperature;
    m.no_cache = no_cache;
    m.rope_on_latent = rope_on_latent;
    app::validate_settings(m);
    return m;
}

app::WindowOptions CliWindowArgs::options() const {
    app::WindowOptions o;
    app::parse_size(size, o.width, o.height);
    o.theme = theme;
    o.view = view;
    o.layout = layout;
    o.view_only = view_only;
    if (page < 0) throw InputError("--page must be 1 or more");
    if (page > 0 && view != "lesson") throw InputError("--page needs --view lesson");
    o.lesson_page = page;
    o.scale = scale;
    if (steps < 0) throw InputError("--steps must be 0 or more");
    o.steps = steps;
    if (frames < 0) throw InputError("--frames must be 0 or more");
    o.frames = frames;
    return o;
}

void add_model_args(CLI::App& a, CliModelArgs& m) {
    a.add_option("--attn", m.attn, "attention kind of the built-in model: mha, gqa, mqa or mla")->default_val(m.attn);
    a.add_option("--kv-heads", m.kv_heads, "GQA: KV heads (divides the 4 query heads)")->default_val(m.kv_heads);
    a.add_option("--kv-lora-rank", m.kv_lora_rank, "MLA: latent rank d_c")->default_val(m.kv_lora_rank);
    a.add_option("--rope-dim", m.rope_dim, "MLA: decoupled RoPE dim d_r (even)")->default_val(m.rope_dim);
    a.add_option("--q-lora-rank", m.q_lora_rank, "MLA: query compression d'_c (0 = none)")->default_val(m.q_lora_rank);
    a.add_option("--mla-path", m.mla_path, "MLA path: cached-kv, recompute or absorbed")->default_val(m.mla_path);
    a.add_flag("--rope-on-latent", m.rope_on_latent, "MLA: RoPE on the compressed keys (breaks absorption)");
    a.add_flag("--no-cache", m.no_cache, "re-run the whole prefix every step");
    a.add_option("--prompt", m.prompt, "prompt text (with --trained-on repeat, a line of the copy task unless given)")->default_val(m.prompt);
    a.add_option("--weights", m.weights,
                 "trained (assets/models), random (seeded), or auto = trained when one has these sizes")->default_val(m.weights);
    a.add_option("--trained-on", m.trained_on, "trained weights: fortunes (English text) or repeat (a synthetic copy task)")
        ->default_val(m.trained_on);
    a.add_option("--weights-seed", m.weights_seed, "seed of random weights")->default_val(m.weights_seed);
    a.add_option("--seed", m.seed, "sampling seed (with --temperature > 0)")->default_val(m.seed);
    a.add_option("--temperature", m.temperature, "0 = greedy")->default_val(m.temperature);
    a.add_option("--backend", m.backend, "cpu or gpu")->default_val(m.backend);
}

void add_window_args(CLI::App& a, CliWindowArgs& w, bool screenshot) {
    a.add_option("--size", w.size, "window size in pixels, WIDTHxHEIGHT")->default_val(w.size);
    a.add_option("--steps", w.steps, "tokens to generate before the first frame")->default_val(w.steps);
    a.add_option("--theme", w.theme, screenshot ? "dark or light (default dark)" : "dark or light (default: remembered)");
    a.add_option("--scale", w.scale, screenshot ? "UI scale, 0.5 to 3 (default 1)" : "UI scale, 0.5 to 3 (default: remembered)");
    a.add_option("--layout", w.layout, "tabs (one view) or tiles (all open views)");
    if (screenshot) a.add_flag("--view-only", w.view_only, "crop the PNG to the view (no sidebar, no timeline)");
    if (!screenshot) {
        a.add_option("--view", w.view, "view to show first: shapes, cache, attention, absorption, compare, curves, lesson or quality");
        a.add_option("--frames", w.frames,
                     "benchmark: render N frames (all views as tiles unless --layout), print frame times and exit");
    }
}


void add_window_options(CLI::App& root, std::function<int()>& run_window) {
    auto m = std::make_shared<CliModelArgs>();
    auto w = std::make_shared<CliWindowArgs>();
    add_model_args(root, *m);
    add_window_args(root, *w, false);
    run_window = [m, w]() { return app::run_window(w->options(), m->settings()); };
}

}  // namespace mla::cli
