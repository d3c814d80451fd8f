// Where the project's files are: assets/ (the fonts, model presets, trained models and
// lesson text, README.md "Layout") and the user's own settings.
#pragma once

#include <string>

namespace mla {

// The folder assets/<name>: next to the executable (<exe dir>/../assets, <exe dir>/assets),
// then the source tree's. Empty if none exists.
std::string find_assets_subdir(const std::string& name);

// $XDG_CONFIG_HOME/mla-lab/<file> (default ~/.config/mla-lab/<file>); "" when no home
// folder is known. The window's settings and the lesson's progress live there.
std::string user_config_path(const std::string& file);

}  // namespace mla
