#include "window/ui_settings.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/assets.h"
#include "base/json_read.h"
#include "base/text_file.h"
#include "model/config.h"  // InputError

namespace mla::app {

nlohmann::json to_json(const UiSettings& s) {
    nlohmann::json j;
    j["scale"] = s.scale;
    j["theme"] = s.dark ? "dark" : "light";
    j["open_views"] = s.open_views;
    j["active_view"] = s.active_view;
    j["layout"] = s.tiles ? "tiles" : "tabs";
    j["play_speed"] = s.play_speed;
    j["export_dir"] = s.export_dir;
    j["export_scale"] = s.export_scale;
    j["export_theme"] = s.export_theme;
    j["recent_sessions"] = s.recent_sessions;
    return j;
}

void remember_session(UiSettings& s, const std::string& path) {
    auto& r = s.recent_sessions;
    r.erase(std::remove(r.begin(), r.end(), path), r.end());
    r.insert(r.begin(), path);
    if (r.size() > kMaxRecentSessions) r.resize(kMaxRecentSessions);
}

UiSettings ui_settings_from_json(const nlohmann::json& j) {
    UiSettings s;
    if (!j.is_object()) return s;
    const auto& ids = view_ids();
    auto known = [&](const std::string& v) { return std::find(ids.begin(), ids.end(), v) != ids.end(); };
    // In double first: a float cast of 1e300 is undefined, and NaN would pass a clamp.
    auto clamped = [&](const char* key, float lo, float hi, float& out) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number()) return;
        const double v = it->get<double>();
        if (std::isfinite(v)) out = static_cast<float>(std::clamp(v, static_cast<double>(lo), static_cast<double>(hi)));
    };
    clamped("scale", 0.5f, 3.0f, s.scale);
    if (auto it = j.find("theme"); it != j.end() && it->is_string()) s.dark = it->get<std::string>() != "light";
    if (auto it = j.find("open_views"); it != j.end() && it->is_array()) {
        s.open_views.clear();
        for (const auto& v : *it)  // keep the tab order of view_ids()
            if (v.is_string() && known(v.get<std::string>())) s.open_views.push_back(v.get<std::string>());
        std::vector<std::string> ordered;
        for (const std::string& id : ids)
            if (std::find(s.open_views.begin(), s.open_views.end(), id) != s.open_views.end()) ordered.push_back(id);
        s.open_views = ordered;
    }
    if (auto it = j.find("active_view"); it != j.end() && it->is_string() && known(it->get<std::string>()))
        s.active_view = it->get<std::string>();
    if (auto it = j.find("layout"); it != j.end() && it->is_string()) s.tiles = it->get<std::string>() == "tiles";
    clamped("play_speed", 0.25f, 60.0f, s.play_speed);
    if (auto it = j.find("export_dir"); it != j.end() && it->is_string()) s.export_dir = it->get<std::string>();
    if (auto it = j.find("export_scale"); it != j.end() && it->is_number_integer()) {
        const auto v = it->get<int64_t>();
        if (v >= 1 && v <= 3) s.export_scale = static_cast<int>(v);
    }
    if (auto it = j.find("export_theme"); it != j.end() && it->is_string()) {
        const std::string v = it->get<std::string>();
        if (v.empty() || v == "dark" || v == "light") s.export_theme = v;
    }
    if (auto it = j.find("recent_sessions"); it != j.end() && it->is_array())
        for (const auto& v : *it)
            if (v.is_string() && !v.get<std::string>().empty() && s.recent_sessions.size() < kMaxRecentSessions &&
                std::find(s.recent_sessions.begin(), s.recent_sessions.end(), v.get<std::string>()) == s.recent_sessions.end())
                s.recent_sessions.push_back(v.get<std::string>());
    return s;
}

std::string default_settings_path() { return user_config_path("settings.json"); }

std::string default_export_dir() {
    const char* home = std::getenv("HOME");
    const std::string h = home && *home ? home : "";
    auto expand = [&](std::string v) {  // "$HOME/Pictures" as user-dirs.dirs writes it
        if (v.rfind("$HOME", 0) == 0) v = h + v.substr(5);
        return v;
    };
    std::string pictures;
    if (const char* x = std::getenv("XDG_PICTURES_DIR"); x && *x) pictures = expand(x);
    if (pictures.empty()) {
        const char* cfg = std::getenv("XDG_CONFIG_HOME");
        const std::string dirs = (cfg && *cfg ? std::string(cfg) : h + "/.config") + "/user-dirs.dirs";
        std::ifstream in(dirs);
        for (std::string line; pictures.empty() && std::getline(in, line);) {
            const std::string key = "XDG_PICTURES_DIR=";
            if (line.rfind(key, 0) != 0) continue;
            std::string v = line.substr(key.size());
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            pictures = expand(v);
        }
    }
    if (pictures.empty() && !h.empty()) pictures = h + "/Pictures";
    return pictures.empty() ? "." : pictures + "/mla-lab";
}

UiSettings load_ui_settings(const std::string& path, std::string* warning) {
    if (path.empty()) return {};
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};  // the first run: nothing saved yet
    try {
        return ui_settings_from_json(read_json_file(path, "", int64_t{1} << 20));
    } catch (const InputError& e) {
        if (warning) *warning = std::string(e.what()) + "; using the default settings";
        return {};
    }
}

bool save_ui_settings(const UiSettings& s, const std::string& path, std::string* error) {
    if (path.empty()) return false;
    try {
        write_file_atomic(path, to_json(s).dump(2) + "\n");
    } catch (const InputError& e) {
        if (error) *error = e.what();
        return false;
    }
    return true;
}

}  // namespace mla::app
