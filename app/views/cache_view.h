// Cache: each layer's cache as slabs growing one row per token (MLA: a thin latent slab
// beside the RoPE-key slab; MHA: K and V per head; GQA: one per group, drawn shared by
// its heads), the bytes held, a live chart of cache bytes vs tokens for all four kinds
// of the same model with the current run marked, and the article's section 1: FLOPs per
// step with and without the cache.
#pragma once

#include "views/view.h"

namespace mla::app {

struct CacheView {
    static constexpr const char* kId = "cache";
    static constexpr const char* kTitle = "Cache";
    bool log_bytes = false;
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
