// The views rendered off screen (the screenshot command's code path), under xvfb-run:
// for every attention kind, after 16 steps each view gives an image that is not blank,
// differs from the other views and changes when the step changes; no GL error on the
// way. One test also runs the built binary's `screenshot` subcommand. Without a display
// the tests WARN and return.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "gl/gl_context.h"
#include "support/skip.h"
#include "views/registry.h"
#include "widgets/colormap.h"
#include "window/session_file.h"
#include "window/window.h"

using namespace mla;
using namespace mla::app;

namespace {

bool have_display() {
    const char* d = std::getenv("DISPLAY");
    if (d && *d) return true;
    mla::testing::skip("no X display (DISPLAY is not set); run the tests under xvfb-run -a");
    return false;
}

// Fraction of pixels that differ between two images of the same size (1 if the sizes differ).
double diff_fraction(const Image& a, const Image& b) {
    if (a.width != b.width || a.height != b.height) return 1.0;
    size_t diff = 0;
    for (size_t i = 0; i < a.rgba.size(); i += 4)
        if (a.rgba[i] != b.rgba[i] || a.rgba[i + 1] != b.rgba[i + 1] || a.rgba[i + 2] != b.rgba[i + 2]) ++diff;
    return static_cast<double>(diff) / static_cast<double>(a.rgba.size() / 4);
}

// Distinct colours: a blank or flat image has one or two.
size_t colours(const Image& img) {
    std::map<uint32_t, int> seen;
    for (size_t i = 0; i < img.rgba.size() && seen.size() < 64; i += 4 * 7)
        seen[(static_cast<uint32_t>(img.rgba[i]) << 16) | (img.rgba[i + 1] << 8) | img.rgba[i + 2]]++;
    return seen.size();
}

Image shot(const std::string& view, AttnKind kind, int64_t steps) {
    WindowOptions o;
    o.width = 1280;
    o.height = 800;
    o.view = view;
    o.steps = steps;
    o.view_only = true;
    ModelSettings m;
    m.kind = kind;
    return render_screenshot(o, m);
}

}  // namespace

TEST_CASE("screenshots: every view, every kind: not blank, distinct, changes with the step", "[gl][screenshot]") {
    if (!have_display()) return;
    gl::reset_error_count();
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        std::map<std::string, Image> at16;
        // The five views of the live model (Curves and Lesson do not follow the step).
        for (const std::string view : {"shapes", "cache", "attention", "absorption", "compare"}) {
            INFO("view " << view << ", kind " << to_string(kind));
            Image a = shot(view, kind, 16);
            REQUIRE(a.width > 100);
            REQUIRE(a.height > 100);
            CHECK_FALSE(a.blank());
            CHECK(colours(a) > 8);
            Image b = shot(view, kind, 15);
            CHECK(diff_fraction(a, b) > 0.0005);  // one token later the view shows something else
            at16[view] = std::move(a);
        }
        for (const auto& [v1, a] : at16)
            for (const auto& [v2, b] : at16)
                if (v1 < v2) {
                    INFO(v1 << " vs " << v2 << ", kind " << to_string(kind));
                    CHECK(diff_fraction(a, b) > 0.05);
                }
    }
    CHECK(gl::error_count() == 0);
}

TEST_CASE("screenshots: empty state renders before any step", "[gl][screenshot]") {
    if (!have_display()) return;
    for (const std::string& view : view_ids()) {
        INFO("view " << view);
        const Image a = shot(view, AttnKind::MLA, 0);
        CHECK_FALSE(a.blank());
    }
}

TEST_CASE("screenshots: the CLI writes a PNG and refuses a bad view", "[gl][screenshot]") {
    if (!have_display()) return;
    const auto dir = std::filesystem::temp_directory_path() / "mla-lab-screenshot-test";
    std::filesystem::create_directories(dir);
    const std::string out = (dir / "cache.png").string();
    std::filesystem::remove(out);
    const std::string bin = MLA_BIN_DIR "/mla-lab";
    const std::string cmd = bin + " screenshot --view cache --attn gqa --steps 8 --size 1024x700 --out " + out + " > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream f(out, std::ios::binary);
    REQUIRE(f);
    char sig[8] = {};
    f.read(sig, 8);
    CHECK(std::string(sig + 1, 3) == "PNG");
    const std::string bad = bin + " screenshot --view nosuch --out " + out + " 2> /dev/null";
    CHECK(std::system(bad.c_str()) != 0);
    // Beyond the model's context: refused with the limit, nothing written.
    const std::string full = (dir / "full.png").string();
    std::filesystem::remove(full);
    const std::string far = bin + " screenshot --view cache --steps 5000 --out " + full + " 2> /dev/null";
    CHECK(WEXITSTATUS(std::system(far.c_str())) == 2);
    CHECK(!std::filesystem::exists(full));
    // A full disk (ulimit -f 8: writes past 8 KiB fail): exit 2, no file, no temporary file.
    const std::string limited = "sh -c \"trap '' XFSZ; ulimit -f 8; exec " + bin + " screenshot --view cache --out " + full +
                                "\" 2> /dev/null";
    CHECK(WEXITSTATUS(std::system(limited.c_str())) == 2);
    CHECK(!std::filesystem::exists(full));
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        INFO(e.path());
        CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
    }
}

TEST_CASE("screenshots: a session file opens in the state it saved; a malformed one opens on defaults", "[gl][screenshot][session-file]") {
    if (!have_display()) return;
    const auto dir = std::filesystem::temp_directory_path() / "mla-lab-session-shot";
    std::filesystem::create_directories(dir);
    SessionFile saved;
    saved.model.kind = AttnKind::GQA;
    saved.model.kv_heads = 1;
    saved.model.prompt = "The cache grows";
    saved.steps = 20;
    saved.shown_step = 12;
    saved.view = "attention";
    const std::string path = (dir / "gqa.json").string();
    save_session_file(saved, path);

    WindowOptions o;
    o.width = 1280;
    o.height = 800;
    o.view_only = true;
    o.session = path;
    const Image from_file = render_screenshot(o, ModelSettings{});  // the session's model, not this one

    WindowOptions by_hand = o;
    by_hand.session.clear();
    by_hand.view = "attention";
    by_hand.steps = 20;
    ModelSettings m;
    m.kind = AttnKind::GQA;
    m.kv_heads = 1;
    m.prompt = "The cache grows";
    const Image newest = render_screenshot(by_hand, m);
    CHECK_FALSE(from_file.blank());
    CHECK(diff_fraction(from_file, newest) > 0);  // step 12 shown, not step 20
    saved.shown_step = 0;
    save_session_file(saved, path);
    CHECK(diff_fraction(render_screenshot(o, ModelSettings{}), newest) == 0);

    // Fields that cannot be used: named on stderr (and in a notice), defaults for them.
    const std::string odd = (dir / "odd.json").string();
    std::ofstream(odd) << R"({"mla_lab_session": 1, "model": {"kind": "mha", "kv_heads": "x", "glow": 1},
                              "steps": 8, "view": "nosuch", "layout": "sideways"})";
    const std::string odd_png = (dir / "odd.png").string(), err = (dir / "odd.err").string();
    std::filesystem::remove(odd_png);
    const std::string run_odd = std::string(MLA_BIN_DIR "/mla-lab") + " screenshot --session " + odd + " --out " + odd_png +
                                " > /dev/null 2> " + err;
    CHECK(std::system(run_odd.c_str()) == 0);
    CHECK(std::filesystem::exists(odd_png));
    std::stringstream said;
    said << std::ifstream(err).rdbuf();
    for (const char* part : {"'kv_heads' must be an integer", "'glow'", "'nosuch'", "'sideways'"}) {
        INFO(said.str());
        CHECK(said.str().find(part) != std::string::npos);
    }

    // Not a JSON object: refused by the CLI with exit 2, nothing written.
    const std::string broken = (dir / "broken.json").string();
    std::ofstream(broken) << "{\"mla_lab_session\": 1,";
    const std::string out = (dir / "never.png").string();
    std::filesystem::remove(out);
    const std::string cmd = std::string(MLA_BIN_DIR "/mla-lab") + " screenshot --session " + broken + " --out " + out + " 2> /dev/null";
    CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 2);
    CHECK(!std::filesystem::exists(out));
}

TEST_CASE("screenshots: Export PNG's picture is the view alone, at 1x, 2x or 3x, in the chosen theme", "[gl][screenshot][export]") {
    if (!have_display()) return;
    WindowOptions o;
    o.width = 1280;
    o.height = 720;
    o.steps = 12;
    for (const std::string& view : {std::string("attention"), std::string("curves")}) {
        INFO("view " << view);
        o.view = view;
        WindowOptions crop = o;
        crop.view_only = true;
        const Image on_screen = render_screenshot(crop, ModelSettings{});   // the view's area, with its buttons
        const Image one = render_slide_picture(o, ModelSettings{}, 1);
        const Image two = render_slide_picture(o, ModelSettings{}, 2);
        const Image light = render_slide_picture(o, ModelSettings{}, 1, "light");
        CHECK(one.width == on_screen.width);
        CHECK(one.height == on_screen.height);
        CHECK(std::abs(two.width - 2 * one.width) <= 1);
        CHECK(std::abs(two.height - 2 * one.height) <= 1);
        CHECK(colours(one) > 8);
        CHECK(diff_fraction(one, on_screen) > 0.01);  // no buttons (Curves: no controls either)
        CHECK(diff_fraction(one, light) > 0.3);       // another background
    }
    CHECK_THROWS_AS(render_slide_picture(o, ModelSettings{}, 4), InputError);
    CHECK_THROWS_AS(render_slide_picture(o, ModelSettings{}, 1, "sepia"), InputError);
}

TEST_CASE("session on the GPU backend: a scripted run with no GL error", "[gl][session]") {
    std::string why;
    if (!gl::ensure_context(&why)) {
        mla::testing::skip(why);
        return;
    }
    gl::reset_error_count();
    ModelSettings m;
    m.backend = "gpu";
    Session s(m);
    REQUIRE(s.backend_name() == "gpu");
    Commands c;
    c.step(12);
    c.select(4);
    s.apply(c);
    CHECK(s.selected() == 4);
    ModelSettings k = s.settings();
    k.kind = AttnKind::MHA;
    c.apply(k, Field::Kind);
    s.apply(c);
    CHECK(s.config().attn_kind() == AttnKind::MHA);
    ModelSettings bad = s.settings();
    bad.rope_dim = 5;
    c.apply(bad, Field::RopeDim);
    s.apply(c);
    CHECK(s.error_field() == Field::RopeDim);
    ModelSettings good = s.settings();
    good.rope_dim = 16;
    c.apply(good, Field::RopeDim);
    c.step(2);
    s.apply(c);
    CHECK(s.error().empty());
    CHECK(s.steps() == 14);
    CHECK(s.selected() == 13);
    CHECK(s.compare(AttnKind::MLA).cfg.qk_rope_head_dim == 16);
    for (const PathDiff& d : s.path_diffs()) CHECK(d.absorbed_vs_recompute < 1e-3);
    CHECK(gl::error_count() == 0);
}

TEST_CASE("screenshots: the Quality view draws the four trained models", "[gl][screenshot][quality]") {
    if (!have_display()) return;
    gl::reset_error_count();
    const Image a = shot("quality", AttnKind::MLA, 4);
    CHECK_FALSE(a.blank());
    CHECK(colours(a) > 8);
    // Each kind's colour (the Cache view's: MHA 0, GQA 1, MQA 3, MLA 2) is on screen: its
    // curve, its point on the trade-off chart and its swatch in the table.
    for (int c : {0, 1, 3, 2}) {
        const ImU32 col = widgets::categorical_color(c);
        const uint8_t r = col & 0xFF, g = (col >> 8) & 0xFF, b = (col >> 16) & 0xFF;
        size_t n = 0;
        for (size_t i = 0; i < a.rgba.size(); i += 4) n += a.rgba[i] == r && a.rgba[i + 1] == g && a.rgba[i + 2] == b;
        INFO("colour " << c);
        CHECK(n > 200);
    }
    CHECK(diff_fraction(a, shot("curves", AttnKind::MLA, 4)) > 0.05);
    CHECK(gl::error_count() == 0);
}
