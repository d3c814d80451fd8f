// Every page of the shipped lesson loads with the app's model mapping, and its "Show me"
// reaches the state it promises, through a Session with no window: the attention kind and
// sizes, the steps, and the cache's bytes per token equal to the page's own figure. Also:
// navigation, the progress file, and a broken chapter leaving the others usable.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "session/lesson_state.h"
#include "session/session.h"
#include "views/lesson_view.h"
#include "views/registry.h"
#include "support/temp_dir.h"

using namespace mla;
using namespace mla::app;
using Catch::Matchers::Contains;

namespace {

// Bytes per token the session's cache holds now, all layers, fp32: read from the last
// step's trace (what the cache view draws), not from the lesson's own arithmetic.
double trace_bytes_per_token(const Session& s) {
    const Trace* t = s.main().trace(s.steps() - 1);
    REQUIRE(t != nullptr);
    int64_t elements = 0;
    for (int64_t e : t->cache_elements_per_layer) elements += e;
    return static_cast<double>(elements) * 4.0 / static_cast<double>(t->cache_tokens);
}


}  // namespace

TEST_CASE("lesson show me: Show me with no keys is the session's default state", "[lesson]") {
    ModelSettings current;
    current.backend = "gpu";
    current.kind = AttnKind::MQA;
    current.temperature = 0.7f;
    ModelSettings expect;
    expect.backend = "gpu";  // the machine's choice is kept; the rest is the page's
    CHECK(show_me_settings(ShowMe{}, current) == expect);
}

TEST_CASE("lesson show me: every page loads and every Show me reaches its state", "[lesson]") {
    const Lesson l = load_app_lesson(lesson_env());
    for (const LessonError& e : l.errors) FAIL(e.str());
    REQUIRE(l.page_count() >= 16);

    SessionOptions light;  // the main lane only: Show me is about the main model
    light.compare = false;
    light.paths = false;
    Session s(ModelSettings{}, light);
    Commands warm;
    warm.step(5);  // start from a state that is not any page's
    s.apply(warm);

    int checked_bytes = 0;
    for (int i = 0; i < l.page_count(); ++i) {
        const LessonPage& p = *page_at(l, i);
        INFO(page_key(l, i) << " \"" << p.title << "\"");
        REQUIRE(p.has_show);
        Commands c;
        push_show_me(p.show, s, c);
        s.apply(c);
        REQUIRE(s.error().empty());
        CHECK(in_show_me_state(p.show, s));
        CHECK(s.settings().kind == p.show.model.kind);
        CHECK(s.config().attn_kind() == p.show.model.kind);
        CHECK(s.steps() == p.show.steps);
        CHECK(s.settings().prompt == p.show.model.prompt);
        CHECK(s.options().no_cache == p.show.model.no_cache);
        if (p.show.model.kind == AttnKind::GQA) CHECK(s.config().num_key_value_heads == p.show.model.kv_heads);
        if (p.show.model.kind == AttnKind::MLA) {
            CHECK(s.config().kv_lora_rank == p.show.model.kv_lora_rank);
            CHECK(s.config().qk_rope_head_dim == p.show.model.rope_dim);
            CHECK(s.options().mla_path == p.show.model.mla_path);
            CHECK(s.options().rope_on_latent == p.show.model.rope_on_latent);
        }
        const Config& cfg = s.config();
        CHECK(p.show.layer < cfg.num_hidden_layers);
        CHECK(p.show.head < cfg.num_attention_heads);
        REQUIRE(s.steps() > 0);
        REQUIRE(s.trace() != nullptr);
        // The page's own figures of this model agree with the running session's cache.
        for (const LessonValue& v : p.values) {
            if (v.name != "bytes_per_token" || !v.plain) continue;
            if (!v.kind.empty() && parse_attn_kind(v.kind) != p.show.model.kind) continue;
            if (p.show.model.no_cache) continue;  // nothing is held
            INFO("{{" << v.expr << "}} on line " << v.line << " = " << v.text);
            CHECK(v.value == trace_bytes_per_token(s));
            ++checked_bytes;
        }
    }
    CHECK(checked_bytes >= 5);  // the MHA, MQA, GQA, MLA and cached-kv pages at least
}

TEST_CASE("lesson show me: the GQA page leaves GQA with its KV heads and its bytes per token", "[lesson]") {
    const Lesson l = load_app_lesson(lesson_env());
    REQUIRE(l.errors.empty());
    const LessonPage* gqa = nullptr;
    for (int i = 0; i < l.page_count(); ++i)
        if (page_at(l, i)->show.model.kind == AttnKind::GQA && page_at(l, i)->show.view == "cache") gqa = page_at(l, i);
    REQUIRE(gqa != nullptr);
    Session s;  // with the Compare and Absorption lanes, as in the window
    Commands c;
    push_show_me(gqa->show, s, c);
    s.apply(c);
    CHECK(s.config().attn_kind() == AttnKind::GQA);
    CHECK(s.config().num_key_value_heads == 2);
    CHECK(s.steps() == 32);
    CHECK_THAT(gqa->answer, Contains("768 B"));  // 2 x 2 x 16 x 3 layers x 4 B
    CHECK(trace_bytes_per_token(s) == 768);
    CHECK(describe_show_me(gqa->show) == "GQA with 2 KV heads; 32 steps; Cache view");
}

TEST_CASE("lesson show me: the app env accepts what the sidebar accepts", "[lesson]") {
    const LessonEnv env = lesson_env();
    CHECK(std::find(env.views.begin(), env.views.end(), "cache") != env.views.end());
    CHECK(std::find(env.views.begin(), env.views.end(), "lesson") == env.views.end());
    std::vector<LessonError> errors;
    parse_lesson_chapter("# C\n## P\nText.\n@show kind=mla rope_dim=7\n", "c.md", env, errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 4);
    CHECK_THAT(errors[0].message, Contains("qk_rope_head_dim"));
    errors.clear();
    parse_lesson_chapter("# C\n## P\nText.\n@show prompt=\"\"\n", "c.md", env, errors);
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0].message, Contains("empty"));
}

TEST_CASE("lesson show me: describe", "[lesson]") {
    ShowMe s;
    s.steps = 32;
    s.view = "absorption";
    s.model.rope_on_latent = true;
    CHECK(describe_show_me(s) == "MLA (d_c = 32, d_r = 8), absorbed path, RoPE on the compressed keys; 32 steps; Absorption view");
    s = ShowMe{};
    s.model.kind = AttnKind::MHA;
    s.model.no_cache = true;
    s.steps = 1;
    s.view = "attention";
    s.head = 0;
    CHECK(describe_show_me(s) == "MHA, no cache; 1 step; Attention view, layer 0, head 0");
}

TEST_CASE("lesson show me: navigation across chapters, and the progress file", "[lesson]") {
    TempDir d;
    d.write("01-a.md", "# A\n## A1\nText.\n## A2\nText.\n");
    d.write("02-b.md", "# B\n## B1\nText.\n## B2\nText.\n## B3\nText.\n");
    const Lesson l = load_lesson(d.path.string(), lesson_env());
    REQUIRE(l.page_count() == 5);
    CHECK(page_key(l, 0) == "01-a/1");
    CHECK(page_key(l, 4) == "02-b/3");
    CHECK(page_ref(l, 3).chapter == 1);
    CHECK(page_ref(l, 3).page == 1);
    CHECK(page_index(l, 1, 2) == 4);

    LessonProgress p;
    p.go(l, 0);
    p.prev(l);
    CHECK(p.page == 0);        // stays on the first page
    p.next(l);
    p.next(l);
    CHECK(p.page == 2);        // crosses into chapter 2
    p.next_chapter(l);
    CHECK(p.page == 2);        // no chapter after the last
    p.next(l);
    p.prev_chapter(l);
    CHECK(p.page == 2);        // first page of this chapter
    p.prev_chapter(l);
    CHECK(p.page == 0);        // then the chapter before
    p.go(l, 99);
    CHECK(p.page == 4);
    CHECK(p.seen_count(l) == 5);
    p.reveal(l, 4, true);
    CHECK(p.is_revealed(l, 4));

    const std::string path = (d.path / "cfg" / "lesson.json").string();
    std::string err;
    REQUIRE(save_lesson_progress(p, l, path, &err));
    const LessonProgress back = load_lesson_progress(path, l);
    CHECK(back.page == 4);
    CHECK(back.seen == p.seen);
    CHECK(back.revealed.empty());  // answers are asked again each run

    // a page that no longer exists is dropped; a bad file gives a fresh start
    nlohmann::json j = {{"page", "02-b/7"}, {"seen", {"01-a/1", "zz/1", 3}}};
    const LessonProgress q = lesson_progress_from_json(j, l);
    CHECK(q.page == 0);
    CHECK(q.seen == std::set<std::string>{"01-a/1"});
    std::ofstream(path) << "{ not json";
    CHECK(load_lesson_progress(path, l) == LessonProgress{});
    CHECK(load_lesson_progress((d.path / "none.json").string(), l) == LessonProgress{});
}

TEST_CASE("lesson show me: a broken chapter is named and the others still run", "[lesson]") {
    TempDir d;
    d.write("01-ok.md", "# OK\n## Page\nMQA holds {{bytes_per_token mqa}}.\n@show kind=mqa steps=4 view=cache\n");
    d.write("02-broken.md", "# Broken\n## Page\nText.\n@show kind=gqa kv_heads=3 steps=4\n");
    const Lesson l = load_app_lesson(lesson_env(), d.path.string());
    REQUIRE(l.chapters.size() == 1);
    REQUIRE(l.errors.size() == 1);
    CHECK_THAT(l.errors[0].str(), Contains("02-broken.md:4:"));
    CHECK_THAT(l.errors[0].message, Contains("num_key_value_heads"));
    const LessonPage& p = *page_at(l, 0);
    Session s;
    Commands c;
    push_show_me(p.show, s, c);
    s.apply(c);
    CHECK(s.config().attn_kind() == AttnKind::MQA);
    CHECK(trace_bytes_per_token(s) == p.values.at(0).value);
    CHECK(p.values.at(0).text == "384 B");
}

TEST_CASE("lesson show me: Next alone puts every page's state in place, and Restore brings the learner's back", "[lesson]") {
    const Lesson l = load_app_lesson(lesson_env());
    for (const LessonError& e : l.errors) FAIL(e.str());
    REQUIRE(l.page_count() >= 16);

    SessionOptions light;
    light.compare = false;
    light.paths = false;
    // The learner's own state: not any page's (GQA with 4 KV heads, sampled, scrubbed back).
    ModelSettings mine;
    mine.kind = AttnKind::GQA;
    mine.kv_heads = 4;
    mine.temperature = 0.8f;
    mine.sample_seed = 9;
    mine.prompt = "Hello";
    Session s(mine, light);
    s.step(7);
    s.select(3);
    const std::vector<int64_t> my_tokens = s.tokens();

    LessonProgress progress;
    LessonTouch touch;
    auto check_page = [&](int i) {
        const LessonPage& p = *page_at(l, i);
        INFO(page_key(l, i) << " \"" << p.title << "\"");
        REQUIRE(p.has_show);
        CHECK(progress.page == i);
        CHECK(touch.applied_page == i);
        REQUIRE(s.error().empty());
        CHECK(in_show_me_state(p.show, s));
        CHECK(s.config().attn_kind() == p.show.model.kind);
        CHECK(s.steps() == p.show.steps);
        CHECK(s.selected() == p.show.steps - 1);
        CHECK(s.options().no_cache == p.show.model.no_cache);
        CHECK(s.options().mla_path == p.show.model.mla_path);
        CHECK(s.options().rope_on_latent == p.show.model.rope_on_latent);
        CHECK(s.settings().prompt == p.show.model.prompt);
        CHECK(s.settings().temperature == p.show.model.temperature);  // the page's, not the learner's 0.8
        if (p.show.model.kind == AttnKind::GQA) CHECK(s.config().num_key_value_heads == p.show.model.kv_heads);
        if (p.show.model.kind == AttnKind::MLA) CHECK(s.config().kv_lora_rank == p.show.model.kv_lora_rank);
        for (const LessonValue& v : p.values) {  // the page's figures agree with what runs
            if (v.name != "bytes_per_token" || !v.plain || p.show.model.no_cache) continue;
            if (!v.kind.empty() && parse_attn_kind(v.kind) != p.show.model.kind) continue;
            CHECK(v.value == trace_bytes_per_token(s));
        }
    };

    // Opening the lesson changes nothing; the first page's state is its Show me (or Next from
    // elsewhere): take it with Previous, which stays on the first page and applies it.
    CHECK_FALSE(touch.can_restore());
    Commands c;
    REQUIRE(lesson_prev(progress, touch, l, s, c));
    s.apply(c);
    REQUIRE(touch.can_restore());
    check_page(0);
    for (int i = 1; i < l.page_count(); ++i) {
        REQUIRE(lesson_next(progress, touch, l, s, c));
        s.apply(c);
        check_page(i);
    }
    // Next on the last page stays there and leaves the learner's play alone.
    s.step(2);
    CHECK_FALSE(lesson_next(progress, touch, l, s, c));
    CHECK(c.session.empty());
    CHECK(progress.page == l.page_count() - 1);

    // The remembered state is the learner's from before the first page, not a page's.
    REQUIRE(touch.before.has_value());
    CHECK(touch.before->settings == mine);
    CHECK(touch.before->steps == 7);
    CHECK(describe_learner(*touch.before) == "GQA with 4 KV heads; prompt \"Hello\"; 7 steps");
    touch.restore(s, c);
    s.apply(c);
    CHECK_FALSE(touch.can_restore());
    CHECK(s.error().empty());
    CHECK(s.settings() == mine);
    CHECK(s.config().num_key_value_heads == 4);
    CHECK(s.steps() == 7);
    CHECK(s.selected() == 3);
    CHECK(s.tokens() == my_tokens);  // the same sampled run

    // Previous after a restore applies the page again (and remembers the learner's state anew).
    REQUIRE(lesson_prev(progress, touch, l, s, c));
    s.apply(c);
    check_page(l.page_count() - 2);
    REQUIRE(touch.before.has_value());
    CHECK(touch.before->settings == mine);
}

TEST_CASE("lesson show me: the chapter moves apply the page they land on", "[lesson]") {
    const Lesson l = load_app_lesson(lesson_env());
    REQUIRE(l.chapters.size() >= 3);
    Session s;
    LessonProgress progress;
    LessonTouch touch;
    Commands c;
    REQUIRE(lesson_go(progress, touch, l, next_chapter_page(progress, l), s, c));
    s.apply(c);
    CHECK(progress.page == page_index(l, 1, 0));
    CHECK(in_show_me_state(page_at(l, progress.page)->show, s));
    const int last_of_second = page_index(l, 2, 0) - 1;
    REQUIRE(lesson_go(progress, touch, l, last_of_second, s, c));
    s.apply(c);
    REQUIRE(lesson_go(progress, touch, l, prev_chapter_page(progress, l), s, c));  // the chapter's first page
    s.apply(c);
    CHECK(progress.page == page_index(l, 1, 0));
    CHECK(in_show_me_state(page_at(l, progress.page)->show, s));
}
