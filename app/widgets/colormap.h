// Colour maps and a colour bar.
//
// - colormap(t): viridis, perceptually uniform and colour-blind safe, dark purple (t = 0)
//   to yellow (t = 1). A 256-entry table built at compile time from viridis's published
//   anchor colours (see colormap.cpp).
// - categorical_color(i): series colours (Okabe-Ito, colour-blind safe), readable on
//   both the dark and the light ImGui style. Cycles after 7.
// - ColorBar: a vertical bar showing the map over [vmin, vmax] with tick labels, placed
//   as an ImGui item (advances the cursor), drawn next to a heatmap.
//
//     ColorBar("##probs", ImVec2(0, map_height), 0.0f, 1.0f, AxisFormat::Number, "p");
#pragma once

#include <imgui.h>

#include <cstdint>

#include "widgets/plot.h"  // AxisFormat

namespace mla::widgets {

// Number of entries in the viridis table.
inline constexpr int kColormapSize = 256;

// Viridis colour of t in [0, 1] (clamped; NaN gives entry 0). Alpha = 255.
ImU32 colormap(float t);

// The same as RGB bytes: rgb[0..2] of entry round(t * 255).
void colormap_rgb(float t, uint8_t rgb[3]);

// Colour of v in [vmin, vmax] (vmin == vmax maps everything to the middle).
inline float colormap_t(float v, float vmin, float vmax) {
    return vmax > vmin ? (v - vmin) / (vmax - vmin) : 0.5f;
}

// Series colour i (i >= 0) from the Okabe-Ito palette: orange, sky blue, bluish green,
// vermillion, blue, reddish purple, yellow; then repeats.
ImU32 categorical_color(int i);

// Vertical colour bar as an ImGui item. size: pixels; x <= 0 = a width relative to the
// font size (bar plus tick labels), y <= 0 = 12 lines of text. vmin at the bottom,
// vmax at the top, 1-2-5 ticks labelled with `format`. label (or nullptr) is drawn
// above the bar. Returns true while hovered (a tooltip shows the value under the mouse).
bool ColorBar(const char* id, ImVec2 size, float vmin, float vmax,
              AxisFormat format = AxisFormat::Number, const char* label = nullptr);

}  // namespace mla::widgets
