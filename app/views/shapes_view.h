// Shapes: the data flow of one attention layer for the current token. Boxes with sides
// proportional to their dims, labelled with name and live shape; the equation of each
// step with the current sizes; the caches the step appends to.
#pragma once

#include "views/view.h"

namespace mla::app {

struct ShapesView {
    static constexpr const char* kId = "shapes";
    static constexpr const char* kTitle = "Shapes";
    int layer = 0;
    bool show_equations = true;
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
