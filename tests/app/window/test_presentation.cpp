// Presentation mode's rules with no window: F5 toggles, Esc leaves (unless a field or popup
// holds it), which view is presented in tabs and in tiles, the scale of its type; and the
// --present flag of `mla-lab` and `mla-lab screenshot` reaching WindowOptions.
#include <catch2/catch.hpp>

#include <algorithm>

#include <CLI/CLI.hpp>

#include "cli/window_options.h"
#include "support/run_cli.h"
#include "window/presentation.h"

using namespace mla;
using namespace mla::app;

TEST_CASE("presentation: F5 toggles, Esc leaves, Esc held by a field does not", "[presentation]") {
    using K = Presentation::Key;
    UiSettings ui;
    ui.active_view = "attention";
    Presentation p;
    CHECK(p.key(false, false, false) == K::None);
    CHECK(p.key(false, true, false) == K::None);  // Esc when not presenting: nothing to leave
    REQUIRE(p.key(true, false, false) == K::Enter);
    p.enter(ui, "");
    CHECK(p.on);
    CHECK(p.view == "attention");
    CHECK(p.key(false, false, false) == K::None);
    CHECK(p.key(false, true, true) == K::None);   // Esc cancels the typing first
    CHECK(p.key(true, false, true) == K::Leave);  // F5 is never typed
    REQUIRE(p.key(false, true, false) == K::Leave);
    p.leave();
    CHECK_FALSE(p.on);
    CHECK(p.view.empty());
    CHECK(p.key(true, false, false) == K::Enter);
}

TEST_CASE("presentation: the shown tab, the focused tile or the first tile", "[presentation]") {
    UiSettings ui;
    ui.open_views = {"shapes", "cache", "compare"};
    ui.active_view = "cache";
    CHECK(presented_view(ui, "compare") == "cache");  // tabs: the shown tab, whatever was focused
    ui.tiles = true;
    CHECK(presented_view(ui, "compare") == "compare");
    CHECK(presented_view(ui, "") == "shapes");
    CHECK(presented_view(ui, "lesson") == "shapes");  // a tile since closed
    ui.open_views.clear();
    CHECK(presented_view(ui, "") == "cache");
    Presentation p;
    ui.open_views = {"attention", "lesson"};
    p.enter(ui, "lesson");
    CHECK(p.view == "lesson");
}

TEST_CASE("presentation: the type is larger than the chosen scale and legible in the window", "[presentation]") {
    CHECK(presentation_scale(1.0f, 800) == Approx(1.25f));
    CHECK(presentation_scale(2.0f, 1080) == Approx(2.5f));
    CHECK(presentation_scale(1.0f, 2160) == 3.0f);  // 2160 / 640 = 3.375, capped
    CHECK(presentation_scale(0.5f, 1200) == Approx(1.9f));  // 1200 / 640 = 1.875, in steps of 0.05
    CHECK(presentation_scale(1.0f, 1000) > 1.0f);
    CHECK(presentation_scale(2.8f, 600) == 3.0f);
}

namespace {
app::WindowOptions parse(bool screenshot, std::vector<std::string> args) {
    CLI::App a;
    cli::CliWindowArgs w;
    cli::add_window_args(a, w, screenshot);
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    a.parse(args);
    return w.options();
}
}  // namespace

TEST_CASE("presentation: --present for the window and for screenshots", "[presentation][cli]") {
    CHECK_FALSE(parse(false, {}).present);
    CHECK(parse(false, {"--present"}).present);
    CHECK(parse(true, {"--present", "--size", "1280x720"}).present);
    CHECK_FALSE(parse(true, {"--size", "1280x720"}).present);
    const auto help = mla::test::run_cli("screenshot --help");
    CHECK(help.text.find("--present") != std::string::npos);
    CHECK(mla::test::run_cli("--help").text.find("--present") != std::string::npos);
}
