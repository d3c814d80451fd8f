#include "cli/window_options.h"

#include <memory>

#include "views/registry.h"

namespace mla::cli {

app::WindowOptions CliWindowArgs::options() const {
    app::WindowOptions o;
    app::parse_size(size, o.width, o.height);
    o.theme = theme;
    o.view = view;
    o.layout = layout;
    o.view_only = view_only;
    o.measure_heldout = heldout;
    o.present = present;
    if (page < 0) throw InputError("--page must be 1 or more");
    if (page > 0 && view != "lesson") throw InputError("--page needs --view lesson");
    o.lesson_page = page;
    if (!convert.empty() && view != "convert") throw InputError("--convert needs --view convert");
    o.convert = convert;
    o.session = session;
    o.scale = scale;
    if (steps < 0) throw InputError("--steps must be 0 or more");
    o.steps = steps;
    if (frames < 0) throw InputError("--frames must be 0 or more");
    o.frames = frames;
    return o;
}

void add_window_args(CLI::App& a, CliWindowArgs& w, bool screenshot) {
    a.add_option("--size", w.size, "window size in pixels, WIDTHxHEIGHT")->default_val(w.size);
    a.add_option("--steps", w.steps, "tokens to generate before the first frame")->default_val(w.steps);
    a.add_option("--theme", w.theme, screenshot ? "dark or light (default dark)" : "dark or light (default: remembered)");
    a.add_option("--scale", w.scale, screenshot ? "UI scale, 0.5 to 3 (default 1)" : "UI scale, 0.5 to 3 (default: remembered)");
    a.add_option("--layout", w.layout, "tabs (one view) or tiles (all open views)");
    a.add_flag("--present", w.present,
               screenshot ? "presentation mode: the view alone under the presentation bar, large type (no change of monitor)"
                          : "start in presentation mode: full screen, one view, large type (F5 toggles, Esc leaves)");
    a.add_option("--session", w.session,
                 "a saved session (JSON): its model, prompt, sampling, steps, view, layout, lesson page and Curves; "
                 "--steps, --view, --layout and --page given here win, the model options are the session's");
    if (screenshot) {
        a.add_flag("--view-only", w.view_only, "crop the PNG to the view (no sidebar, no timeline)");
        a.add_option("--convert", w.convert,
                     "with --view convert: SOURCE,D_C,R[,STRATEGY[,SVD]], e.g. gqa-fortunes,24,4,norm,split");
        a.add_flag("--heldout", w.heldout,
                   "with --cache-dtype: measure the held-out loss first (the Cache and Absorption views show it)");
    }
    if (!screenshot) {
        a.add_option("--view", w.view, "view to show first: " + app::view_id_list());
        a.add_option("--frames", w.frames,
                     "benchmark: render N frames (all views as tiles unless --layout), print frame times and exit");
    }
}


void add_window_options(CLI::App& root, std::function<int()>& run_window) {
    auto m = std::make_shared<ModelOptions>();
    auto w = std::make_shared<CliWindowArgs>();
    add_model_options(root, *m, kPathOptions | kPromptOption | kSamplingOptions | kCacheDtypeOption);
    add_window_args(root, *w, false);
    run_window = [m, w]() { return app::run_window(w->options(), m->settings()); };
}

}  // namespace mla::cli
