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
    auto slide = std::make_shared<int>(0);
    auto slide_theme = std::make_shared<std::string>();
    w->steps = 16;
    CLI::App* s = root.add_subcommand("screenshot", "render one view to a PNG (needs a display; works under xvfb-run -a)");
    s->add_option("--view", w->view, app::view_id_list() + " (required unless --session gives one)");
    s->add_option("--page", w->page, "with --view lesson: the page (from 1) to show, after its Show me");
    s->add_option("--out", *out, "PNG file to write")->required();
    s->add_option("--export-scale", *slide,
                  "1, 2 or 3: the view alone as the window's Export PNG saves it (no buttons, sidebar or tooltips), "
                  "that many times its pixels");
    s->add_option("--export-theme", *slide_theme, "with --export-scale: dark or light (default: --theme)");
    add_window_args(*s, *w, true);
    add_model_options(*s, *m, kPathOptions | kPromptOption | kSamplingOptions | kCacheDtypeOption);
    cmds.push_back({s, [m, w, out, s, slide, slide_theme]() {
                        // A session brings its own view and steps; --view and --steps still win.
                        if (w->view.empty() && w->session.empty())
                            throw InputError("--view is required (or --session FILE): " + app::view_id_list());
                        if (!w->session.empty() && s->get_option("--steps")->count() == 0) w->steps = 0;
                        const app::WindowOptions o = w->options();
                        if (!slide_theme->empty() && *slide == 0) throw InputError("--export-theme needs --export-scale 1, 2 or 3");
                        if (*slide != 0 && !o.session.empty())
                            throw InputError("--export-scale takes the view from --view, not from --session");
                        const app::Image img = *slide != 0 ? app::render_slide_picture(o, m->settings(), *slide, *slide_theme)
                                                           : app::render_screenshot(o, m->settings());
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
