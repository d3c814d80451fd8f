// The built-in models: the trained byte-level models in assets/models/<kind>-<set> (see
// assets/models/README.md; sets "fortunes", English text, the default, and "repeat", a
// synthetic copy task), or weights drawn from a seed by the project's own generator when
// no trained model has the requested sizes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/weights.h"

namespace mla {

enum class WeightsSource { Auto, Trained, Random };
WeightsSource parse_weights_source(const std::string& s);  // "auto", "trained", "random"

inline constexpr const char* kDefaultTrainedSet = "fortunes";

// The article's prompt, and one for the "repeat" models (each line a random 8-letter word
// written three times): after it they write "kvcachez" once more, then a new line.
inline constexpr const char* kArticlePrompt = "Make a travel plan for Spain";
inline constexpr const char* kRepeatPrompt = "mlalabxy mlalabxy mlalabxy\nkvcachez kvcachez ";

// The prompt to run with the weights of `set`: the article's prompt becomes kRepeatPrompt for
// the repeat set and kRepeatPrompt the article's for any other; any other prompt is kept.
std::string prompt_for_set(const std::string& prompt, const std::string& set);

// The trained sets in assets/models: every X with a folder <kind>-X/config.json for each of
// mha, gqa, mqa and mla, the default first, then by name.
std::vector<std::string> trained_sets();
// Throws InputError naming the known sets when `set` is not one of them.
void check_trained_set(const std::string& set);

// The trained model folder of `set` whose config has exactly the sizes of `cfg`, or "" if none.
std::string trained_model_dir(const Config& cfg, const std::string& set = kDefaultTrainedSet);

// Auto: trained (of `set`) when one matches cfg, else random(seed). Trained: throws
// InputError naming the sizes when none matches. Random: random_weights(cfg, seed).
// `description` says which in words ("trained model mla-fortunes", "random weights, seed 1");
// `trained` says whether a trained folder was loaded.
std::shared_ptr<const Weights> builtin_weights(const Config& cfg, WeightsSource src, uint64_t seed,
                                               std::string* description = nullptr,
                                               const std::string& set = kDefaultTrainedSet, bool* trained = nullptr);

}  // namespace mla
