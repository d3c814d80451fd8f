// Absorption: the recompute path and the absorbed path of MLA side by side, with the
// shape of every tensor each one builds; live per step: the largest difference between
// the paths (the session runs all three paths on the same tokens), FLOPs and bytes of
// each at the current length and how they grow; the switch that puts RoPE on the
// compressed keys, and why the difference then jumps.
#pragma once

#include <vector>

#include "views/view.h"
#include "views/view_logic.h"

namespace mla::app {

struct AbsorptionView {
    static constexpr const char* kId = "absorption";
    static constexpr const char* kTitle = "Absorption";
    bool log_flops = true;
    void draw(const Frame& f, Commands& cmds);

private:
    struct Memo {                   // the chart's series: they change with the run, not the frame
        uint64_t revision = ~0ull;  // Session::revision() they were made for
        int64_t max_T = 0;
        std::vector<Series> flops;
    } memo_;
};

}  // namespace mla::app
