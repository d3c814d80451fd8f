// mla-lab screenshot --view NAME | --session FILE --out FILE.png [--steps N] [--attn ...] [--size WxH]:
// renders one view off screen after N steps and writes the PNG (needs an X display;
// works under xvfb-run -a).
#include <cstdio>
#include <memory>

#include "cli/cli.h"
#include "cli/window_options.h"
#include "views/registry.h"

namespace mla::cli {

void add_screenshot_command(CLI::App& root, Commands& cmds) {
    auto m = std::make_shared<ModelOptions>();
    auto w = std::make_shared<CliWindowArgs>();
    auto out = std::make_shared<std::string>();
    w->steps = 16;
    CLI::App* s = root.add_subcommand("screenshot", "render one view to a PNG (needs a display; works under xvfb-run -a)");
    s->add_option("--view", w->view, app::view_id_list() + " (required unless --session gives one)");
    s->add_option("--page", w->page, "with --view lesson: the page (from 1) to show, after its Show me");
    s->add_option("--out", *out, "PNG file to write")->required();
    add_window_args(*s, *w, true);
    add_model_options(*s, *m, kPathOptions | kPromptOption | kSamplingOptions | kCacheDtypeOption);
    cmds.push_back({s, [m, w, out, s]() {
                        // A session brings its own view and steps; --view and --steps still win.
                        if (w->view.empty() && w->session.empty())
                            throw InputError("--view is required (or --session FILE): " + app::view_id_list());
                        if (!w->session.empty() && s->get_option("--steps")->count() == 0) w->steps = 0;
                        const app::WindowOptions o = w->options();
                        const app::Image img = app::render_screenshot(o, m->settings());
                        std::string err;
                        if (!app::write_png(*out, img, &err)) throw InputError(err);
                        if (o.session.empty())
                            std::printf("wrote %s (%dx%d, view %s after %lld steps)\n", out->c_str(), img.width, img.height,
                                        o.view.c_str(), static_cast<long long>(o.steps));
                        else
                            std::printf("wrote %s (%dx%d, session %s)\n", out->c_str(), img.width, img.height, o.session.c_str());
                        return 0;
                    }});
}

}  // namespace mla::cli
