// Attention: the attention weights of every layer and head as heatmaps in a grid (click
// one to enlarge it), rows = query tokens, columns = key tokens, the causal triangle
// (future keys masked), a hover readout, a colour bar with its range, viridis
// (colour-blind safe). One GL texture per map, rebuilt only when the run or the step changes.
#pragma once

#include <vector>

#include "views/view.h"
#include "widgets/heatmap.h"

namespace mla::app {

struct AttentionView {
    static constexpr const char* kId = "attention";
    static constexpr const char* kTitle = "Attention";
    int layer = 0, head = 0;       // the enlarged map
    bool enlarged = false;
    bool full_range = false;       // colour range 0..1 instead of 0..largest weight shown
    std::vector<widgets::Heatmap> maps;  // layer * H + head
    float vmax = 1;
    uint64_t built_rev = ~0ull;
    int64_t built_step = -2;
    bool built_full = false;
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
