// Where the project's files are: assets/ (the fonts, model presets, trained models and
// lesson text, README.md "Layout") and the user's own settings.
#pragma once

#include <string>
#include <vector>

namespace mla {

// The folder assets/<name>, the first that exists of: $MLA_LAB_ASSETS/<name>, <exe dir>/assets,
// <exe dir>/../assets (the build tree links build/assets to the source's), and
// <exe dir>/../share/mla-lab/assets (where `cmake --install` puts them). Empty if none.
std::string find_assets_subdir(const std::string& name);
std::vector<std::string> assets_candidates(const std::string& name);  // the folders looked in, in order
// "no lesson folder found (looked in ...); ...": the message when find_assets_subdir finds none.
std::string assets_not_found(const std::string& name);

// $XDG_CONFIG_HOME/mla-lab/<file> (default ~/.config/mla-lab/<file>); "" when no home
// folder is known. The window's settings and the lesson's progress live there.
std::string user_config_path(const std::string& file);

}  // namespace mla
