// The sidebar: the model's settings (attention kind, its sizes, the MLA path, seed,
// temperature, backend, prompt). Every change is sent as one command; a setting that
// cannot run shows the session's message under its field while the last good model
// keeps running.
#pragma once

#include <string>
#include <vector>

#include "views/view.h"

namespace mla::app {

struct Sidebar {
    ModelSettings edit;            // what the fields show (may hold a value that failed)
    ModelSettings seen;            // the session's settings when `edit` was last synced
    bool synced = false;
    std::vector<std::string> sets;  // trained sets in assets/models (read once, on first draw)
    bool sets_read = false;
    std::string prompt_edit;       // the prompt box (applied when it loses focus or on Enter)
    bool gpu_checked = false, gpu_ok = false;
    std::string gpu_reason;
    void draw(const Frame& f, Commands& cmds);
};

}  // namespace mla::app
