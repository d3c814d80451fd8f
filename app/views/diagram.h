// Draws a Diagram (view_logic.h): tensor boxes with sides proportional to their dims,
// elbow arrows from inputs to outputs, the equation number before each name, the new
// row of each cache marked. Shared by the Shapes and Absorption views.
#pragma once

#include <imgui.h>

#include "views/view.h"
#include "views/view_logic.h"

namespace mla::app {

struct DiagramDraw {
    int hovered = -1;         // node under the mouse, -1 if none
    float used_height = 0;    // pixels actually used
};

// Draws `d` in the rectangle at the cursor of `size` pixels (an ImGui item). `trace` and
// `layer` give live shapes and values for the hover tooltip (may be null). Node dims are
// taken from the trace record of the same name when there is one.
DiagramDraw draw_diagram(const char* id, const Diagram& d, const Trace* trace, int layer, ImVec2 size,
                         const Frame& f);

}  // namespace mla::app
