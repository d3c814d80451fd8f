// Where the project's data files are: assets/ holds the fonts, model presets, trained models
// and lesson text (README.md "Layout").
#pragma once

#include <string>

namespace mla {

// The folder assets/<name>: next to the executable (<exe dir>/../assets, <exe dir>/assets),
// then the source tree's. Empty if none exists.
std::string find_assets_subdir(const std::string& name);

}  // namespace mla
