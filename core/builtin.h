// The built-in models: the trained byte-level models in assets/models/<kind>-fortunes
// (see assets/models/README.md), or weights drawn from a seed by the project's own
// generator when no trained model has the requested sizes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "weights.h"

namespace mla {

enum class WeightsSource { Auto, Trained, Random };
WeightsSource parse_weights_source(const std::string& s);  // "auto", "trained", "random"

// The folder assets/<name>: next to the executable (<exe dir>/../assets, <exe dir>/assets),
// then the source tree's. Empty if none exists.
std::string find_assets_subdir(const std::string& name);

// The trained model folder whose config has exactly the sizes of `cfg`, or "" if none.
std::string trained_model_dir(const Config& cfg);

// Auto: trained when one matches cfg, else random(seed). Trained: throws InputError naming
// the sizes when none matches. Random: random_weights(cfg, seed).
std::shared_ptr<const Weights> builtin_weights(const Config& cfg, WeightsSource src, uint64_t seed,
                                               std::string* description = nullptr);

}  // namespace mla
