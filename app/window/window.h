// The window: GLFW + OpenGL + Dear ImGui, the sidebar, the transport and timeline, and
// the views as tabs (or all at once, as tiles). Also renders a view off screen for
// `mla-lab screenshot` and runs the `--frames N` benchmark.
#pragma once

#include <string>

#include "session/session.h"
#include "window/export.h"

namespace mla::app {

struct WindowOptions {
    int width = 1600, height = 1000;
    float scale = 0;             // UI scale; 0 = the remembered one
    std::string theme;           // "dark" | "light" | "" = remembered
    std::string view;            // view to show: shapes | cache | attention | absorption | compare ("" = remembered)
    std::string layout;          // "tabs" | "tiles" | "" = remembered
    int64_t steps = 0;           // tokens to generate before the first frame
    int frames = 0;              // > 0: benchmark, render this many frames, print frame times, exit
    bool offscreen = false;      // hidden window, render into an off-screen framebuffer
    bool view_only = false;      // screenshot: crop to the view's area (no sidebar, no timeline)
    int64_t lesson_page = 0;     // > 0: open this lesson page (from 1) and run its Show me
    std::string convert;         // the Convert view's settings, "SOURCE,D_C,R[,STRATEGY[,SVD]]" ("" = its defaults)
    bool remember = true;        // read and write ~/.config/mla-lab/settings.json
    bool measure_heldout = false;  // screenshot: run the held-out check of the cache dtype before the frame
    bool present = false;        // start in presentation mode (window/presentation.h); full screen unless off screen
    // A session file (window/session_file.h) to start from: its model replaces the one passed
    // to run_window; its steps, view, layout and lesson page apply unless steps, view, layout
    // or lesson_page above are set. A field it cannot use is named (stderr and a notice).
    std::string session;
};

// Opens the window and runs until it is closed (or `frames` frames in benchmark mode).
// Returns the exit code. Throws InputError for bad settings or when no window can be made.
int run_window(const WindowOptions& o, const ModelSettings& m);

// Renders o.view after o.steps tokens, off screen, at o.width x o.height, a few frames so
// the layout settles, and returns the image. Throws InputError (no display, bad view).
Image render_screenshot(const WindowOptions& o, const ModelSettings& m);

// The view o.view alone, as the window's Export PNG saves it (no buttons, tooltips or sidebar;
// Curves without its controls): after o.steps steps, `scale` (1 to 3) times the pixels the
// view has on screen in a window of o.width x o.height at o.scale, in `theme` ("" = o.theme).
// Throws InputError (no display, a bad view, scale or theme).
Image render_slide_picture(const WindowOptions& o, const ModelSettings& m, int scale, const std::string& theme = "");

// "1600x1000" -> 1600, 1000; throws InputError.
void parse_size(const std::string& s, int& w, int& h);

}  // namespace mla::app
