// Compare: the same prompt run by MHA, GQA, MQA and MLA in lockstep (the session's
// compare lanes): the attention map of a chosen layer and head side by side, the cache
// bytes and FLOPs of each step, and a diagram of which query heads read which keys and
// values.
#pragma once

#include <vector>

#include "views/view.h"
#include "widgets/heatmap.h"

namespace mla::app {

struct CompareView {
    static constexpr const char* kId = "compare";
    static constexpr const char* kTitle = "Compare";
    int layer = 0, head = 0;
    std::vector<widgets::Heatmap> maps;   // one per kind
    float vmax = 1;
    uint64_t built_rev = ~0ull;
    int64_t built_step = -2;
    int built_layer = -1, built_head = -1;
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
