// A saved session: what a teacher sets up before class and opens again. One JSON file with
// the model settings (the ModelSettings fields by their own names: kind, kv_heads, ...,
// prompt, the sampling), how many steps were run and which one is shown, the open view and
// the layout, the lesson page and the Curves view's selections:
//
//   {"mla_lab_session": 1,
//    "model": {"kind": "mla", "kv_lora_rank": 32, ..., "prompt": "Make a travel plan for Spain"},
//    "steps": 24, "shown_step": 24, "view": "attention", "layout": "tabs",
//    "lesson_page": "04-mqa-gqa/2",
//    "curves": {"models": ["deepseek-v3", "llama-3-8b"], "configs": ["/home/me/Qwen2.5-7B/config.json"],
//               "own": true, "kinds": ["mha"], "dtype": "bf16", "batch": 1, ...}}
//
// Reading is tolerant: a field that is unknown, of the wrong type or out of range is named
// in a problem ("model.kv_heads: 3 does not divide the 4 query heads; using 2") and takes
// its default; only a file that is not a JSON object is refused. Written with AtomicFile.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "io/model_settings.h"
#include "views/curves_view.h"

namespace mla::app {

inline constexpr int kSessionVersion = 1;
inline constexpr int64_t kMaxSessionSteps = int64_t{1} << 20;  // more than any model's context

struct SessionCurves {
    std::vector<std::string> models;   // selected presets, by name
    std::vector<std::string> configs;  // opened config.json files (selected)
    CurvesSettings settings;
    bool operator==(const SessionCurves& o) const;
};

struct SessionFile {
    ModelSettings model;
    int64_t steps = 0;           // tokens fed (prompt and generated), as the header counts them
    int64_t shown_step = 0;      // the step shown, from 1; 0 = the newest
    std::string view;            // the view shown ("" = leave as it is)
    std::string layout;          // "tabs" | "tiles" | "" = leave as it is
    std::string lesson_page;     // "04-mqa-gqa/2" (lesson_state.h page_key); "" = none
    bool has_curves = false;     // curves holds the Curves view's state
    SessionCurves curves;
    bool operator==(const SessionFile&) const = default;
};

nlohmann::json to_json(const SessionFile& s);

// Never throws: every field it cannot use is named in *problems and left at its default.
SessionFile session_from_json(const nlohmann::json& j, std::vector<std::string>* problems);

// Throws InputError (one line, naming the file) when the file cannot be read or is not a JSON
// object; everything else is session_from_json's problems.
SessionFile load_session_file(const std::string& path, std::vector<std::string>* problems);

// Throws InputError when the file cannot be written (nothing is left half-written).
void save_session_file(const SessionFile& s, const std::string& path);

}  // namespace mla::app
