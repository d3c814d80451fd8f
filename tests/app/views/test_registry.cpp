// views/registry.h: one list of views, from which the settings, the lesson's view names, the
// messages and the command-line help are derived.
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "views/registry.h"
#include "window/ui_settings.h"

using namespace mla;
using namespace mla::app;

namespace {
std::string run(const std::string& cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"), pclose);
    REQUIRE(p);
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
    return out;
}
}  // namespace

TEST_CASE("view registry: ten views in tab order, each with an id, a title and a draw", "[views]") {
    const std::vector<std::string> expect = {"shapes", "cache", "attention", "absorption", "compare",
                                             "curves", "lesson", "quality", "predictions", "convert"};
    CHECK(view_ids() == expect);
    std::set<std::string> titles;
    for (const ViewEntry& v : view_registry()) {
        CHECK(v.draw != nullptr);
        CHECK(std::string(v.title).size() > 0);
        titles.insert(v.title);
        CHECK(find_view(v.id) == &v);
    }
    CHECK(titles.size() == view_registry().size());
    CHECK(find_view("nosuch") == nullptr);
    CHECK(find_view("Shapes") == nullptr);  // ids, not titles
}

TEST_CASE("view registry: messages, the lesson's names and the settings come from it", "[views]") {
    CHECK(view_id_list() == "shapes, cache, attention, absorption, compare, curves, lesson, quality, predictions or convert");
    CHECK(view_id_list({"a"}) == "a");
    CHECK(view_id_list({"a", "b"}) == "a or b");
    CHECK_NOTHROW(check_view(""));
    CHECK_NOTHROW(check_view("quality"));
    try {
        check_view("heatmap");
        FAIL("no error");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()) == "view 'heatmap' is not known; use " + view_id_list());
    }
    const LessonEnv env = lesson_env();
    CHECK(env.views.size() == view_ids().size() - 1);
    for (const std::string& v : env.views) CHECK(v != "lesson");
    CHECK(UiSettings{}.open_views == view_ids());
}

TEST_CASE("view registry: the command line's --view help and message list every view", "[views][cli]") {
    const std::string bin = std::string(MLA_BIN_DIR) + "/mla-lab";
    const std::string help = run(bin + " screenshot --help");
    for (const std::string& id : view_ids()) CHECK(help.find(id) != std::string::npos);
    const std::string bad = run(bin + " screenshot --view nosuch --out /tmp/x.png");
    CHECK(bad.find("mla-lab: error: view 'nosuch' is not known; use " + view_id_list()) != std::string::npos);
}
