// The window's remembered settings and its exports, with no window: JSON round trips,
// tolerant reading, files that never overwrite.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "session/session.h"
#include "window/export.h"
#include "window/ui_settings.h"

using namespace mla;
using namespace mla::app;

namespace {
SessionOptions light() {
    SessionOptions o;
    o.compare = false;
    o.paths = false;
    return o;
}
}  // namespace

TEST_CASE("settings: JSON round trip, tolerant reading", "[settings]") {
    UiSettings s;
    s.scale = 1.5f;
    s.dark = false;
    s.open_views = {"compare", "shapes"};
    s.active_view = "compare";
    s.tiles = true;
    s.play_speed = 8;
    s.export_dir = "/tmp/x";
    const UiSettings r = ui_settings_from_json(to_json(s));
    CHECK(r.scale == 1.5f);
    CHECK_FALSE(r.dark);
    CHECK(r.open_views == std::vector<std::string>{"shapes", "compare"});  // tab order
    CHECK(r.active_view == "compare");
    CHECK(r.tiles);
    CHECK(r.play_speed == 8);
    CHECK(r.export_dir == "/tmp/x");
    // bad fields keep the defaults
    const UiSettings d = ui_settings_from_json(nlohmann::json{{"scale", "big"}, {"open_views", {"nosuch", 3}}, {"active_view", "x"}});
    CHECK(d.scale == 1.0f);
    CHECK(d.open_views.empty());
    CHECK(d.active_view == "shapes");
    CHECK(ui_settings_from_json(nlohmann::json{{"scale", 99}}).scale == 3.0f);
}

TEST_CASE("settings: saved and loaded from a file; a broken file gives defaults and a warning", "[settings]") {
    const auto dir = std::filesystem::temp_directory_path() / "mla-lab-settings-test";
    std::filesystem::remove_all(dir);
    const std::string path = (dir / "sub" / "settings.json").string();
    UiSettings s;
    s.scale = 2.0f;
    std::string err;
    REQUIRE(save_ui_settings(s, path, &err));
    CHECK(load_ui_settings(path).scale == 2.0f);
    {
        std::ofstream f(path);
        f << "{not json";
    }
    std::string warn;
    CHECK(load_ui_settings(path, &warn) == UiSettings{});
    CHECK_THAT(warn, Catch::Contains("not valid JSON"));
    warn.clear();
    CHECK(load_ui_settings((dir / "missing.json").string(), &warn) == UiSettings{});
    CHECK(warn.empty());
    std::filesystem::remove_all(dir);
}

TEST_CASE("export: trace JSON, head CSV, file names that never overwrite", "[export]") {
    Session s(ModelSettings{}, light());
    s.step(3);
    const nlohmann::json j = trace_json(*s.trace(), s.config());
    CHECK(j["step"] == 2);
    CHECK(j["kind"] == "mla");
    CHECK(j["config"]["kv_lora_rank"] == 32);
    CHECK(j["cost"]["layers"].size() == 3);
    bool has_probs = false;
    for (const auto& t : j["tensors"])
        if (t["name"] == "att_probs" && t["layer"] == 0) {
            has_probs = true;
            CHECK(t["shape"] == nlohmann::json::array({4, 3}));
            CHECK(t["data"].size() == 12);
        }
    CHECK(has_probs);

    const std::string csv = head_csv(s.main().traces, s.token_labels(), 2, 0, 1);
    // header + 3 rows; row i has i+1 weights summing to 1 and empty cells after
    std::vector<std::string> lines;
    size_t a = 0;
    for (size_t b; (b = csv.find('\n', a)) != std::string::npos; a = b + 1) lines.push_back(csv.substr(a, b - a));
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "query \\ key,0:M,1:a,2:k");
    CHECK(lines[1].substr(0, 4) == "0:M,");
    CHECK(lines[1].back() == ',');   // the future keys are empty
    double sum = 0;
    std::string row = lines[3].substr(lines[3].find(',') + 1);
    for (size_t p = 0; p < row.size();) {
        const size_t q = row.find(',', p);
        sum += std::stod(row.substr(p, q == std::string::npos ? std::string::npos : q - p));
        if (q == std::string::npos) break;
        p = q + 1;
    }
    CHECK(sum == Approx(1.0).epsilon(1e-4));

    const auto dir = std::filesystem::temp_directory_path() / "mla-lab-export-test";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string p1 = export_path(dir.string(), "shapes-step2", "png");
    CHECK(std::filesystem::path(p1).filename() == "mla-lab-shapes-step2.png");
    REQUIRE(write_text(p1, "x"));
    CHECK(std::filesystem::path(export_path(dir.string(), "shapes-step2", "png")).filename() == "mla-lab-shapes-step2-2.png");
    std::filesystem::remove_all(dir);
}

TEST_CASE("exports: the default folder is the pictures folder's mla-lab", "[settings][export]") {
    const auto dir = std::filesystem::temp_directory_path() / "mla-export-dir-test";
    std::filesystem::create_directories(dir / "cfg");
    auto keep = [](const char* name) {
        const char* v = std::getenv(name);
        return std::pair<std::string, bool>(v ? v : "", v != nullptr);
    };
    const auto home = keep("HOME"), xdg = keep("XDG_PICTURES_DIR"), cfg = keep("XDG_CONFIG_HOME");
    setenv("HOME", "/home/teacher", 1);
    setenv("XDG_CONFIG_HOME", (dir / "cfg").c_str(), 1);
    setenv("XDG_PICTURES_DIR", "/data/slides", 1);
    CHECK(default_export_dir() == "/data/slides/mla-lab");
    unsetenv("XDG_PICTURES_DIR");
    std::ofstream(dir / "cfg" / "user-dirs.dirs") << "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\n"
                                                     "XDG_PICTURES_DIR=\"$HOME/Bilder\"\n";
    CHECK(default_export_dir() == "/home/teacher/Bilder/mla-lab");
    std::filesystem::remove(dir / "cfg" / "user-dirs.dirs");
    CHECK(default_export_dir() == "/home/teacher/Pictures/mla-lab");
    auto put_back = [](const char* name, const std::pair<std::string, bool>& v) {
        if (v.second) setenv(name, v.first.c_str(), 1);
        else unsetenv(name);
    };
    put_back("HOME", home);
    put_back("XDG_PICTURES_DIR", xdg);
    put_back("XDG_CONFIG_HOME", cfg);

    // The export settings are remembered, and bad values keep the defaults.
    UiSettings u;
    u.export_scale = 3;
    u.export_theme = "light";
    CHECK(ui_settings_from_json(to_json(u)) == u);
    nlohmann::json j = to_json(u);
    j["export_scale"] = 7;
    j["export_theme"] = "sepia";
    CHECK(ui_settings_from_json(j).export_scale == 2);
    CHECK(ui_settings_from_json(j).export_theme.empty());
    // Slide-ready names carry no prefix; earlier files are never overwritten.
    std::ofstream(dir / "curves-deepseek-v3-bf16.png") << "x";
    CHECK(std::filesystem::path(export_path(dir.string(), "curves-deepseek-v3-bf16", "png", "")).filename() ==
          "curves-deepseek-v3-bf16-2.png");
}
