// The curves chart (views/curves_view.h) drawn to a PNG through the app's own renderer, for
// `mla-lab plot --out FILE.png`: a hidden GLFW window with an OpenGL 3.3 context, an ImGui
// frame that calls draw_curves_chart() (the same code as the window's Curves view), then
// glReadPixels of the BACK buffer before any swap, rows flipped so the image's top row is the
// chart's top (read_pixels), and stb_image_write (write_png). Needs a display; works under
// `xvfb-run -a`. With none, a clear InputError (the CLI exits 2). FILE.svg needs no display.
#pragma once

#include <string>

#include "views/curves_view.h"
#include "window/export.h"

namespace mla::app {

struct PlotPngOptions {
    int width = 1200, height = 760;  // pixels
    bool dark = false;               // light by default: a chart file usually goes into a document
    float scale = 1.0f;              // text size: 16 px x scale
};

// Renders the chart of `d` (with the axes and units of `s`) off screen. Throws InputError when
// there is nothing to plot or no window can be made (no display).
Image render_curves_image(const CurvesData& d, const CurvesSettings& s, const PlotPngOptions& o = {});

// render_curves_image, then writes the PNG. Throws InputError on failure.
void write_curves_png(const std::string& path, const CurvesData& d, const CurvesSettings& s, const PlotPngOptions& o = {});

}  // namespace mla::app
