// Absorption: the recompute path and the absorbed path of MLA side by side, with the
// shape of every tensor each one builds; live per step: the largest difference between
// the paths (the session runs all three paths on the same tokens), FLOPs and bytes of
// each at the current length and how they grow; the switch that puts RoPE on the
// compressed keys, and why the difference then jumps.
#pragma once

#include "views/view.h"

namespace mla::app {

struct AbsorptionView {
    static constexpr const char* kId = "absorption";
    static constexpr const char* kTitle = "Absorption";
    bool log_flops = true;
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
