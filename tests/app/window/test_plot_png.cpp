// `mla-lab plot --out FILE.png` draws the Curves chart through the app's renderer: the image
// must have the asked size and not be blank, and the PNG file must be written. Needs a
// display (run under xvfb-run -a); without one the test is skipped (support/skip.h).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "support/skip.h"
#include "window/plot_png.h"

using namespace mla;
using namespace mla::app;

TEST_CASE("plot png: the curves chart renders off screen and is not blank", "[gl]") {
    const char* display = std::getenv("DISPLAY");
    if (!display || !*display) {
        mla::testing::skip("no X display (DISPLAY is not set); run under xvfb-run -a");
        return;
    }
    const CurvesSettings s;
    const CurvesData d = curves_data(preset_models({"deepseek-v3", "llama-3-8b"}), s);
    REQUIRE(d.series.size() == 4);
    PlotPngOptions o;
    o.width = 900;
    o.height = 600;
    Image img;
    try {
        img = render_curves_image(d, s, o);
    } catch (const InputError& e) {
        mla::testing::skip(e.what());
        return;
    }
    CHECK(img.width == 900);
    CHECK(img.height == 600);
    REQUIRE(img.rgba.size() == static_cast<size_t>(900 * 600 * 4));
    CHECK(!img.blank());
    std::set<uint32_t> colours;
    for (size_t i = 0; i < img.rgba.size(); i += 4)
        colours.insert(static_cast<uint32_t>(img.rgba[i]) << 16 | static_cast<uint32_t>(img.rgba[i + 1]) << 8 | img.rgba[i + 2]);
    CHECK(colours.size() > 20);  // text, axes, four coloured curves, anti-aliasing
    // Light theme: the top-left corner is the white background (the image is not upside down
    // into the dark plot area, and not black).
    CHECK(img.rgba[0] == 255);

    const std::string path = (std::filesystem::temp_directory_path() / "mla-curves-test.png").string();
    write_curves_png(path, d, s, o);
    std::ifstream f(path, std::ios::binary);
    char sig[8] = {};
    f.read(sig, 8);
    CHECK(std::string(sig + 1, 3) == "PNG");
    std::filesystem::remove(path);

    CHECK_THROWS_AS(render_curves_image(CurvesData{}, s, o), InputError);  // nothing to plot
}
