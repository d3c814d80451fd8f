// The window's command-line options, shared by `mla-lab` (the window) and `mla-lab
// screenshot`, parsed into window/window.h's WindowOptions; the model's are ModelOptions.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/model_options.h"
#include "window/window.h"

namespace mla::cli {

struct CliWindowArgs {
    std::string size = "1600x1000", theme, view, layout;
    bool view_only = false, heldout = false, present = false;
    float scale = 0;
    int64_t steps = 0;
    int frames = 0;
    int64_t page = 0;                // screenshot --view lesson --page N
    std::string convert;             // screenshot --view convert --convert SOURCE,D_C,R[,STRATEGY[,SVD]]
    std::string session;             // --session FILE
    app::WindowOptions options() const;   // throws InputError
};

void add_window_args(CLI::App& a, CliWindowArgs& w, bool screenshot);

}  // namespace mla::cli
