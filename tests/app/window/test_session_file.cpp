// Session files with no window: the JSON round trip, tolerant reading (each unusable field
// named, with its default), files that are refused, the recent-sessions list, and a session
// whose model runs in a Session.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "session/session.h"
#include "window/session_file.h"
#include "window/ui_settings.h"

using namespace mla;
using namespace mla::app;

namespace {

std::string temp_path(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "mla-session-test";
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

bool has_problem(const std::vector<std::string>& problems, const std::string& part) {
    for (const std::string& p : problems)
        if (p.find(part) != std::string::npos) return true;
    return false;
}

SessionFile sample() {
    SessionFile s;
    s.model.kind = AttnKind::GQA;
    s.model.kv_heads = 1;
    s.model.temperature = 0.7f;
    s.model.top_k = 5;
    s.model.top_p = 0.9f;
    s.model.sample_seed = 42;
    s.model.cache_dtype = CacheDtype::BF16;
    s.model.prompt = "The cache grows";
    s.steps = 24;
    s.shown_step = 20;
    s.view = "attention";
    s.layout = "tiles";
    s.lesson_page = "04-mqa-gqa/2";
    s.has_curves = true;
    s.curves.models = {"deepseek-v3", "llama-3-8b"};
    s.curves.configs = {"/tmp/some/config.json"};
    s.curves.settings.dtype = "fp8";
    s.curves.settings.batch = 8;
    s.curves.settings.kinds = {CacheKind::MHA, CacheKind::MLA};
    s.curves.settings.log = false;
    s.curves.settings.fits_gb = 40;
    return s;
}

}  // namespace

TEST_CASE("session file: written and read back gives the same session, with no problem", "[session-file]") {
    const SessionFile s = sample();
    std::vector<std::string> problems;
    const SessionFile back = session_from_json(nlohmann::json::parse(to_json(s).dump()), &problems);
    CHECK(problems.empty());
    CHECK(back == s);

    const std::string path = temp_path("round-trip.json");
    save_session_file(s, path);
    CHECK(load_session_file(path, &problems) == s);
    CHECK(problems.empty());
    CHECK(nlohmann::json::parse(std::ifstream(path)).at("mla_lab_session") == kSessionVersion);

    // The defaults too (no Curves state).
    CHECK(session_from_json(to_json(SessionFile{}), &problems) == SessionFile{});
    CHECK(problems.empty());
}

TEST_CASE("session file: each field it cannot use is named and takes its default; the rest is kept", "[session-file]") {
    nlohmann::json j = to_json(sample());
    j["model"]["kv_heads"] = 3;               // runs alone, but 3 does not divide the 4 query heads
    j["model"]["temperature"] = "warm";       // wrong type
    j["model"]["top_p"] = 1.5;                // out of range
    j["model"]["colour"] = "blue";            // unknown
    j["view"] = "heatmaps";                   // no such view
    j["steps"] = -4;
    j["curves"]["batch"] = 0;
    j["curves"]["kinds"] = {"mha", "mla-compressed"};
    j["theme"] = "dark";                      // not a session field
    std::vector<std::string> problems;
    const SessionFile s = session_from_json(j, &problems);
    CAPTURE(problems);
    CHECK(has_problem(problems, "model.kv_heads"));
    CHECK(has_problem(problems, "'temperature'"));
    CHECK(has_problem(problems, "'top_p'"));
    CHECK(has_problem(problems, "'colour'"));
    CHECK(has_problem(problems, "'view' is 'heatmaps'"));
    CHECK(has_problem(problems, "'steps'"));
    CHECK(has_problem(problems, "'batch'"));
    CHECK(has_problem(problems, "mla-compressed"));
    CHECK(has_problem(problems, "'theme'"));
    CHECK(has_problem(problems, "shown_step 20 is past steps 0"));
    CHECK(problems.size() == 10);
    const ModelSettings d;
    CHECK(s.model.kv_heads == d.kv_heads);
    CHECK(s.model.temperature == d.temperature);
    CHECK(s.model.top_p == d.top_p);
    CHECK(s.steps == 0);
    CHECK(s.shown_step == 0);  // past the steps: the newest
    CHECK(s.view.empty());
    CHECK(s.curves.settings.batch == 1);
    CHECK(s.curves.settings.kinds == std::vector<CacheKind>{CacheKind::MHA});  // the default list
    // kept
    CHECK(s.model.kind == AttnKind::GQA);
    CHECK(s.model.top_k == 5);
    CHECK(s.model.prompt == "The cache grows");
    CHECK(s.layout == "tiles");
    CHECK(s.curves.settings.dtype == "fp8");
    CHECK(s.curves.models == std::vector<std::string>{"deepseek-v3", "llama-3-8b"});
    // what the reader gives always runs
    Session run(s.model, SessionOptions{false, false});
    CHECK(run.settings().kind == AttnKind::GQA);
}

TEST_CASE("session file: a model whose whole cannot run falls back field by field", "[session-file]") {
    nlohmann::json j = {{"mla_lab_session", 1},
                        {"model", {{"kind", "mla"}, {"kv_lora_rank", 0}, {"rope_dim", 7}, {"prompt", ""}}}};
    std::vector<std::string> problems;
    const SessionFile s = session_from_json(j, &problems);
    CAPTURE(problems);
    CHECK(has_problem(problems, "model.kv_lora_rank"));
    CHECK(has_problem(problems, "model.rope_dim"));
    CHECK(has_problem(problems, "model.prompt"));
    CHECK_NOTHROW(validate_settings(s.model));
    CHECK(s.model.kind == AttnKind::MLA);

    problems.clear();
    session_from_json(nlohmann::json{{"model", {{"kind", "mha"}}}}, &problems);
    CHECK(has_problem(problems, "mla_lab_session"));  // read, but said
    problems.clear();
    session_from_json(nlohmann::json{{"mla_lab_session", 7}}, &problems);
    CHECK(has_problem(problems, "version 7"));
    problems.clear();
    CHECK(session_from_json(nlohmann::json::array({1, 2}), &problems) == SessionFile{});
    CHECK(problems.size() == 1);
}

TEST_CASE("session file: a file that is not a JSON object is refused with one line naming it", "[session-file]") {
    std::vector<std::string> problems;
    const std::string bad = temp_path("not-json.json");
    write(bad, "{\"mla_lab_session\": 1, \"model\": ");
    try {
        load_session_file(bad, &problems);
        FAIL("a file cut short was read");
    } catch (const InputError& e) {
        const std::string m = e.what();
        CHECK(m.find("not-json.json") != std::string::npos);
        CHECK(m.find('\n') == std::string::npos);
    }
    const std::string list = temp_path("list.json");
    write(list, "[1, 2, 3]");
    CHECK_THROWS_WITH(load_session_file(list, &problems), Catch::Contains("JSON object"));
    CHECK_THROWS_AS(load_session_file(temp_path("missing.json"), &problems), InputError);

    // A problem read from a file names the file.
    const std::string odd = temp_path("odd.json");
    write(odd, "{\"mla_lab_session\": 1, \"steps\": \"many\"}");
    load_session_file(odd, &problems);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].rfind(odd + ": ", 0) == 0);

    // Saving where no file can be made throws and leaves nothing.
    CHECK_THROWS_AS(save_session_file(sample(), "/proc/mla-lab/session.json"), InputError);
}

TEST_CASE("session file: recent sessions, newest first, once each, at most eight", "[session-file]") {
    UiSettings u;
    for (int i = 0; i < 10; ++i) remember_session(u, "/s/" + std::to_string(i) + ".json");
    remember_session(u, "/s/5.json");
    REQUIRE(u.recent_sessions.size() == kMaxRecentSessions);
    CHECK(u.recent_sessions[0] == "/s/5.json");
    CHECK(u.recent_sessions[1] == "/s/9.json");
    CHECK(std::count(u.recent_sessions.begin(), u.recent_sessions.end(), "/s/5.json") == 1);
    CHECK(ui_settings_from_json(to_json(u)) == u);
    nlohmann::json j = to_json(u);
    j["recent_sessions"] = {"/a.json", 3, "/a.json", "", "/b.json"};
    CHECK(ui_settings_from_json(j).recent_sessions == std::vector<std::string>{"/a.json", "/b.json"});
}
