// mla-lab: with no subcommand it opens the window; subcommands work with no display
// (but screenshot). See DESIGN.md "Command line".
#include <cstdio>
#include <exception>
#include <new>

#include "base/error.h"
#include "cli/cli.h"

int main(int argc, char** argv) {
    CLI::App app{"MLA Lab: a simulator that teaches Multi-Head Latent Attention", "mla-lab"};
    app.require_subcommand(0, 1);
    mla::cli::Commands cmds;
    mla::cli::add_model_commands(app, cmds);
    mla::cli::add_cache_commands(app, cmds);
    mla::cli::add_train_command(app, cmds);
    mla::cli::add_screenshot_command(app, cmds);
    mla::cli::add_eval_command(app, cmds);
    mla::cli::add_tokenize_command(app, cmds);
    mla::cli::add_convert_command(app, cmds);
    std::function<int()> run_window;
    mla::cli::add_window_options(app, run_window);
    mla::cli::strict_integers(app);
    try {
        app.parse(argc, argv);
        for (auto& c : cmds)
            if (c.sub->parsed()) return c.run();
        return run_window();
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "mla-lab: error: %s (see mla-lab --help)\n", e.what());
        return 2;
    } catch (const mla::InputError& e) {
        std::fprintf(stderr, "mla-lab: error: %s\n", e.what());
        return 2;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "mla-lab: error: out of memory; choose smaller sizes\n");
        return 2;
    } catch (const std::exception& e) {  // a bug, not bad input: say so in one line
        std::fprintf(stderr, "mla-lab: internal error: %s\n", e.what());
        return 70;
    }
}
