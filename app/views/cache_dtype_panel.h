// The stored cache dtype and what it costs, shared by the Cache and Absorption views: the
// bytes held against an fp32 cache, the largest logit change against the same run with an
// fp32 cache (each MLA path when the paths run), and the held-out loss check.
#pragma once

#include "views/view.h"

namespace mla::app {

// `per_path`: a row per MLA path (the Absorption view); otherwise the main lane's row.
void cache_dtype_effect(const Frame& f, Commands& cmds, bool per_path);

}  // namespace mla::app
