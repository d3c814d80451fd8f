// Cache: each layer's cache as slabs growing one row per token (MLA: a thin latent slab
// beside the RoPE-key slab; MHA: K and V per head; GQA: one per group, drawn shared by
// its heads), the bytes held, a live chart of cache bytes vs tokens for all four kinds
// of the same model with the current run marked, and the article's section 1: FLOPs per
// step with and without the cache.
#pragma once

#include <vector>

#include "views/view.h"
#include "views/view_logic.h"

namespace mla::app {

struct CacheView {
    static constexpr const char* kId = "cache";
    static constexpr const char* kTitle = "Cache";
    bool log_bytes = false;
    void draw(const Frame& f, Commands& cmds);

private:
    struct Memo {                   // the charts' series: they change with the run, not the frame
        uint64_t revision = ~0ull;  // Session::revision() they were made for
        int64_t max_T = 0;
        std::vector<Series> bytes, flops;
    } memo_;
};

}  // namespace mla::app
