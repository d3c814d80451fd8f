// UI settings remembered between runs: UI scale, theme, which views are open and which
// one is shown, the layout, the play speed, the export folder, the recent session files. Stored as JSON in
// $XDG_CONFIG_HOME/mla-lab/settings.json (default ~/.config/mla-lab/settings.json).
// A missing or unreadable file gives the defaults; unknown fields are ignored.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "views/registry.h"

namespace mla::app {

inline constexpr size_t kMaxRecentSessions = 8;

struct UiSettings {
    float scale = 1.0f;                           // UI scale, 0.5 .. 3
    bool dark = true;
    std::vector<std::string> open_views = view_ids();  // views/registry.h: all, in tab order
    std::string active_view = "shapes";
    bool tiles = false;                           // all open views at once instead of tabs
    float play_speed = 4.0f;                      // tokens per second
    std::string export_dir;                       // "" = default_export_dir()
    int export_scale = 2;                         // Export PNG: 1, 2 or 3 times the pixels on screen
    std::string export_theme;                     // Export PNG: "" = as shown, "dark", "light"
    std::vector<std::string> recent_sessions;     // session files opened or saved, newest first, at most kMaxRecentSessions
    bool operator==(const UiSettings&) const = default;
};

nlohmann::json to_json(const UiSettings& s);
// Puts `path` first in s.recent_sessions (once), keeping at most kMaxRecentSessions.
void remember_session(UiSettings& s, const std::string& path);
UiSettings ui_settings_from_json(const nlohmann::json& j);  // tolerant: bad fields keep defaults

std::string default_settings_path();  // "" when no home folder is known
// Where exports go unless the user picked a folder: $XDG_PICTURES_DIR/mla-lab (the variable, or
// its line in $XDG_CONFIG_HOME/user-dirs.dirs), else ~/Pictures/mla-lab; "." without a home.
std::string default_export_dir();
// Missing file: defaults, no warning. Unreadable: defaults and *warning says why.
UiSettings load_ui_settings(const std::string& path, std::string* warning = nullptr);
// Creates the folder. Returns false and sets *error on failure.
bool save_ui_settings(const UiSettings& s, const std::string& path, std::string* error = nullptr);

}  // namespace mla::app
