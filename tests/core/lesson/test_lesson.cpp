// The lesson files: every chapter loads with no mistake; the figures the article gets
// loose come out exact; a malformed file is reported with its file and line while the
// other chapters still load. (MLA_LESSON_DUMP=1 prints every page, for proofreading.)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "base/assets.h"
#include "io/builtin.h"
#include "lesson/lesson.h"
#include "support/temp_dir.h"
#include "train/train_report.h"

using namespace mla;
using Catch::Matchers::Contains;

namespace {

const char* kind_name(BlockKind k) {
    switch (k) {
        case BlockKind::Paragraph: return "";
        case BlockKind::Equation: return "$$ ";
        case BlockKind::Note: return "> ";
        case BlockKind::Bullet: return "- ";
    }
    return "";
}

void dump(const Lesson& l) {
    for (const LessonChapter& c : l.chapters) {
        std::printf("\n# %s  [%s]\n", c.title.c_str(), c.id.c_str());
        for (const LessonPage& p : c.pages) {
            std::printf("\n## %s\n", p.title.c_str());
            for (const LessonBlock& b : p.blocks) std::printf("%s%s\n", kind_name(b.kind), b.text.c_str());
            if (!p.question.empty()) std::printf("Q: %s\nA: %s\n", p.question.c_str(), p.answer.c_str());
        }
    }
}

bool mentions(const Lesson& l, const std::string& text) {
    for (const LessonChapter& c : l.chapters)
        for (const LessonPage& p : c.pages) {
            for (const LessonBlock& b : p.blocks)
                if (b.text.find(text) != std::string::npos) return true;
            if (p.answer.find(text) != std::string::npos || p.question.find(text) != std::string::npos) return true;
        }
    return false;
}

std::vector<LessonError> parse_errors(const std::string& text) {
    std::vector<LessonError> errors;
    parse_lesson_chapter(text, "t.md", default_lesson_env(), errors);
    return errors;
}


}  // namespace

TEST_CASE("lesson: the shipped chapters load with no mistake, one per article section, RoPE and conversion", "[lesson]") {
    const Lesson l = load_lesson(lesson_dir(), default_lesson_env());
    for (const LessonError& e : l.errors) FAIL(e.str());
    REQUIRE(l.chapters.size() == 9);
    CHECK(l.chapters.front().id == "01-repeated-work");
    CHECK(l.chapters[7].id == "08-result");
    CHECK(l.chapters.back().id == "09-conversion");
    for (const LessonChapter& c : l.chapters) {
        INFO(c.file);
        CHECK(!c.title.empty());
        CHECK(!c.pages.empty());
        for (const LessonPage& p : c.pages) {
            INFO(p.title);
            CHECK(!p.blocks.empty());
            CHECK(p.has_show);                         // every page can put the simulator in its state
            CHECK(!p.show.view.empty());
            CHECK(p.question.empty() == p.answer.empty());
            for (const LessonBlock& b : p.blocks) CHECK(b.text.find("{{") == std::string::npos);
            CHECK(p.answer.find("{{") == std::string::npos);
        }
    }
    if (const char* d = std::getenv("MLA_LESSON_DUMP"); d && *d == '1') dump(l);
}

TEST_CASE("lesson: the article's figures, computed, with the units right", "[lesson]") {
    const Lesson l = load_lesson(lesson_dir(), default_lesson_env());
    REQUIRE(l.errors.empty());
    // DeepSeek-V3, bf16, 100,000 tokens, batch 1 (reference/model-presets.md)
    CHECK(mentions(l, "399.8 GB = 372.3 GiB"));
    CHECK(mentions(l, "7.03 GB = 6.54 GiB"));
    CHECK(mentions(l, "2 x 128 x 128 = 32,768 elements"));
    CHECK(mentions(l, "(512 + 64) = 576 elements"));
    CHECK(mentions(l, "56.9x"));
    CHECK(mentions(l, "3,997,696 B/token"));
    CHECK(mentions(l, "70,272 B/token"));
    CHECK(mentions(l, "(16 heads): 7.1x"));          // DeepSeek-V2-Lite
    CHECK(mentions(l, "71.1x more than the latent"));  // cached-kv vs latent
}

TEST_CASE("lesson: values on the page's model and on presets", "[lesson]") {
    const LessonEnv env = default_lesson_env();
    ShowMe s;  // built-in model: 3 layers, 4 heads, d_h = 16; MLA d_c = 32, d_r = 8
    s.steps = 10;
    CHECK(lesson_value("elements mha", s, env).text == "128");
    CHECK(lesson_value("elements mqa", s, env).text == "32");
    CHECK(lesson_value("elements", s, env).text == "40");  // the page's kind: mla
    CHECK(lesson_value("elements mla path=cached-kv", s, env).text == "160");
    CHECK(lesson_value("bytes_per_token mha", s, env).text == "1,536 B");  // 128 x 3 x 4
    CHECK(lesson_value("bytes_per_token mha dtype=bf16", s, env).value == 768);
    CHECK(lesson_value("cache_bytes", s, env).text == "4,800 B");           // 40 x 3 x 4 x 10
    CHECK(lesson_value("cache_bytes mha tokens=100", s, env).value == 153600);
    CHECK(lesson_value("ratio mha mla", s, env).text == "3.2x");
    CHECK(lesson_value("config num_hidden_layers", s, env).text == "3");
    s.model.kind = AttnKind::GQA;
    s.model.kv_heads = 1;
    CHECK(lesson_value("config num_key_value_heads", s, env).text == "1");
    CHECK(lesson_value("elements", s, env).value == 32);

    const LessonValue nc = lesson_value("flops tokens=8 no_cache", s, env);
    const LessonValue c = lesson_value("flops tokens=8 cache", s, env);
    CHECK(nc.value > 4 * c.value);
    CHECK(!nc.plain);
    CHECK(lesson_value("flops_total tokens=1", s, env).value == lesson_value("flops tokens=1", s, env).value);

    CHECK(lesson_value("preset.elements deepseek-v3 mha", s, env).text == "32,768");
    CHECK(lesson_value("preset.terms deepseek-v3 mla", s, env).text == "(512 + 64)");
    CHECK(lesson_value("preset.bytes_per_token deepseek-v3 mla", s, env).text == "70,272 B");
    CHECK(lesson_value("preset.bytes deepseek-v3 mha", s, env).text == "399,769,600,000 B");
    CHECK(lesson_value("preset.gb deepseek-v3 mha", s, env).text == "399.8 GB");
    CHECK(lesson_value("preset.gib deepseek-v3 mha", s, env).text == "372.3 GiB");
    CHECK(lesson_value("preset.gb deepseek-v3 mla", s, env).text == "7.03 GB");
    CHECK(lesson_value("preset.gib deepseek-v3 mla", s, env).text == "6.54 GiB");
    CHECK(lesson_value("preset.ratio deepseek-v3 mha mla", s, env).text == "56.9x");
    CHECK(lesson_value("preset.ratio deepseek-v3 mla-cached-kv mla", s, env).text == "71.1x");
    CHECK(lesson_value("preset.bytes_per_token deepseek-v2-lite mha", s, env).value == 221184);
    CHECK(lesson_value("preset.bytes_per_token llama-2-70b own", s, env).text == "327,680 B");
    CHECK(lesson_value("preset.gb llama-2-7b own", s, env).text == "52.43 GB");
    CHECK(lesson_value("preset.field deepseek-v3 kv_lora_rank", s, env).text == "512");
    CHECK(lesson_value("preset.gb deepseek-v3 mla tokens=1000 batch=2 dtype=fp32", s, env).value == 2.0 * 1000 * 576 * 61 * 4);
}

TEST_CASE("lesson: a bad value names what would be right", "[lesson]") {
    const LessonEnv env = default_lesson_env();
    const ShowMe s;
    CHECK_THROWS_WITH(lesson_value("bytes_per_tokn", s, env), Contains("unknown value 'bytes_per_tokn'"));
    CHECK_THROWS_WITH(lesson_value("elements xyz", s, env), Contains("use mha, gqa, mqa or mla"));
    CHECK_THROWS_WITH(lesson_value("preset.gb deepseek-v9 mha", s, env), Contains("unknown preset 'deepseek-v9'"));
    CHECK_THROWS_WITH(lesson_value("preset.gb deepseek-v3 mla tokens=1e5", s, env), Contains("digits only"));
    CHECK_THROWS_WITH(lesson_value("cache_bytes", s, env), Contains("give tokens=N"));
    CHECK_THROWS_WITH(lesson_value("elements mha path=absorbed", s, env), Contains("applies to mla only"));
    CHECK_THROWS_WITH(lesson_value("config hidden", s, env), Contains("no config field 'hidden'"));
    CHECK_THROWS_WITH(lesson_value("elements mha tokens=3", s, env), Contains("takes no 'tokens='"));
}

TEST_CASE("lesson: the parser reads pages, blocks, Show me and questions", "[lesson]") {
    const std::string text =
        "<!-- a comment\n"
        "over two lines -->\n"
        "# Chapter\n"
        "\n"
        "## First page\n"
        "One line\n"
        "and the next join.\n"
        "\n"
        "Second paragraph with {{elements mha}} elements.\n"
        "$$ a = b\n"
        "> A note\n"
        "> that continues.\n"
        "- item one\n"
        "- item two\n"
        "@show kind=gqa kv_heads=1\n"
        "@show prompt=\"Hello there\" steps=5 view=cache layer=2 head=3\n"
        "@question How many?\n"
        "@answer {{bytes_per_token}}\n"
        "exactly.\n"
        "## Second page\n"
        "Text.\n";
    std::vector<LessonError> errors;
    const LessonChapter c = parse_lesson_chapter(text, "dir/05-x.md", default_lesson_env(), errors);
    for (const LessonError& e : errors) FAIL(e.str());
    CHECK(c.id == "05-x");
    CHECK(c.title == "Chapter");
    REQUIRE(c.pages.size() == 2);
    const LessonPage& p = c.pages[0];
    CHECK(p.title == "First page");
    CHECK(p.line == 5);
    REQUIRE(p.blocks.size() == 6);
    CHECK(p.blocks[0].text == "One line and the next join.");
    CHECK(p.blocks[1].text == "Second paragraph with 128 elements.");
    CHECK(p.blocks[1].line == 9);
    CHECK(p.blocks[2].kind == BlockKind::Equation);
    CHECK(p.blocks[3].kind == BlockKind::Note);
    CHECK(p.blocks[3].text == "A note that continues.");
    CHECK(p.blocks[4].kind == BlockKind::Bullet);
    CHECK(p.blocks[5].text == "item two");
    REQUIRE(p.has_show);
    CHECK(p.show.model.kind == AttnKind::GQA);
    CHECK(p.show.model.kv_heads == 1);
    CHECK(p.show.model.prompt == "Hello there");
    CHECK(p.show.steps == 5);
    CHECK(p.show.view == "cache");
    CHECK(p.show.layer == 2);
    CHECK(p.show.head == 3);
    CHECK(p.show.model.mla_path == MlaPath::Absorbed);  // unset keys keep the defaults
    CHECK(p.question == "How many?");
    CHECK(p.answer == "384 B exactly.");          // 2 x 1 x 16 x 3 layers x 4 B
    REQUIRE(p.values.size() == 2);
    CHECK(p.values[1].name == "bytes_per_token");
    CHECK(p.values[1].line == 18);
    CHECK(p.values[1].value == 384);
    CHECK(!c.pages[1].has_show);
}

TEST_CASE("lesson: mistakes are reported with the line", "[lesson]") {
    auto first = [](const std::string& text) {
        const auto e = parse_errors(text);
        REQUIRE(!e.empty());
        return e.front();
    };
    LessonError e = first("# C\n## P\nText.\n@show kind=gqa kv_heads=3\n");
    CHECK(e.line == 4);
    CHECK_THAT(e.message, Contains("num_key_value_heads"));
    CHECK(e.str().rfind("t.md:4: @show: ", 0) == 0);

    e = first("# C\n## P\nText.\n@show kind=mla view=tabel\n");
    CHECK(e.line == 4);
    CHECK_THAT(e.str(), Contains("t.md:4: @show: view=tabel is not a view; use shapes, cache"));

    e = first("# C\n## P\nText.\n@show knd=mla\n");
    CHECK_THAT(e.message, Contains("unknown key 'knd'"));

    e = first("# C\n## P\nText.\n@show layer=3\n");
    CHECK_THAT(e.message, Contains("layers 0 to 2"));

    e = first("# C\n## P\nText.\n@show head=4\n");
    CHECK_THAT(e.message, Contains("query heads 0 to 3"));

    e = first("# C\n## P\nText.\n@show prompt=\"open\n");
    CHECK_THAT(e.message, Contains("not closed"));

    e = first("# C\n## P\nLine one.\nLine {{elements mhq}} two.\n");
    CHECK(e.line == 4);
    CHECK_THAT(e.message, Contains("{{elements mhq}}: attention kind 'mhq'"));

    e = first("# C\n## P\nA {{elements\n");
    CHECK(e.line == 3);
    CHECK_THAT(e.message, Contains("not closed on this line"));

    e = first("# C\n## P\nText.\n@questoin Why?\n");
    CHECK_THAT(e.message, Contains("unknown directive '@questoin'"));

    e = first("# C\n## P\nText.\n@question Why?\n");
    CHECK(e.line == 4);
    CHECK_THAT(e.message, Contains("no @answer"));

    e = first("Text first\n# C\n## P\nText.\n");
    CHECK(e.line == 1);
    CHECK_THAT(e.message, Contains("before the chapter title"));

    e = first("# C\nIntro.\n## P\nText.\n");
    CHECK(e.line == 2);
    CHECK_THAT(e.message, Contains("before the first page"));

    e = first("# C\n## P\n@show kind=mha\n");
    CHECK(e.line == 2);
    CHECK_THAT(e.message, Contains("has no text"));

    e = first("# C\n");
    CHECK(e.line == 1);
    CHECK_THAT(e.message, Contains("no page"));

    e = first("# C\n## P\nText.\n# D\n");
    CHECK(e.line == 4);
    CHECK_THAT(e.message, Contains("second chapter title"));

    // several mistakes in one file: all of them
    CHECK(parse_errors("# C\n## P\nA {{x}}.\nB {{y}}.\n").size() == 2);
}

TEST_CASE("lesson: a malformed file is named with its line; the other chapters still load", "[lesson]") {
    TempDir d;
    d.write("01-good.md", "# Good\n## Page\nText {{elements mha}}.\n@show kind=mha steps=3 view=cache\n");
    d.write("02-bad.md", "# Bad\n## Page\nText.\n@show kind=gqa kv_heads=0\n");
    d.write("03-good.md", "# Also good\n## Page\nText.\n");
    d.write("notes.txt", "not a chapter");
    const Lesson l = load_lesson(d.path.string(), default_lesson_env());
    REQUIRE(l.chapters.size() == 2);
    CHECK(l.chapters[0].id == "01-good");
    CHECK(l.chapters[1].id == "03-good");
    CHECK(l.chapters[1].number == 3);  // keeps its number: "chapter 3" in the text stays right
    CHECK(l.page_count() == 2);
    REQUIRE(l.errors.size() == 1);
    CHECK(l.errors[0].line == 4);
    CHECK_THAT(l.errors[0].str(), Contains("02-bad.md:4: @show:"));

    const Lesson none = load_lesson((d.path / "missing").string(), default_lesson_env());
    CHECK(none.chapters.empty());
    REQUIRE(none.errors.size() == 1);
    CHECK_THAT(none.errors[0].message, Contains("no lesson folder"));
}

TEST_CASE("lesson: the preset examples in FORMAT.txt are what the values give", "[lesson]") {
    std::ifstream in(std::filesystem::path(lesson_dir()) / "FORMAT.txt");
    REQUIRE(in);
    const LessonEnv env = default_lesson_env();
    std::string line;
    int checked = 0;
    while (std::getline(in, line)) {
        const size_t open = line.find("{{preset.");
        if (open == std::string::npos || line.find_first_not_of(' ') != open) continue;
        const size_t close = line.find("}}", open);
        REQUIRE(close != std::string::npos);
        std::string expect = line.substr(close + 2);
        expect = expect.substr(expect.find_first_not_of(' '));
        if (const size_t gap = expect.find("  "); gap != std::string::npos) expect = expect.substr(0, gap);
        INFO(line);
        CHECK(lesson_value(line.substr(open + 2, close - open - 2), ShowMe{}, env).text == expect);
        ++checked;
    }
    CHECK(checked == 10);
}

TEST_CASE("lesson: values measured on the trained models, the trained set and a new line in a prompt", "[lesson][report]") {
    const LessonEnv env = default_lesson_env();
    const ShowMe s;
    // quality.* reads assets/models through train_report.h: the same numbers as the Quality view
    const QualityFindings q = quality_findings(models_in_set(load_trained_models(find_assets_subdir("models")), "fortunes"));
    REQUIRE(q.kinds.size() == 4);
    const KindQuality& mla = q.kinds[3];
    CHECK(lesson_value("quality.loss mla", s, env).value == mla.first);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.4f", mla.first);
    CHECK(lesson_value("quality.loss mla", s, env).text == buf);
    CHECK(lesson_value("quality.mean mla", s, env).value == mla.mean);
    CHECK(lesson_value("quality.seeds mha", s, env).value == static_cast<double>(q.kinds[0].runs.size()));
    CHECK(lesson_value("quality.spread", s, env).value == q.seed_range);
    CHECK(lesson_value("quality.verdict", s, env).text == q.lines.back());
    CHECK(lesson_value("quality.range gqa", s, env).text.find(" to ") != std::string::npos);
    CHECK(lesson_value("quality.loss mla set=repeat", s, env).value < 1.2);  // the copy task is learnt
    CHECK_THROWS_WITH(lesson_value("quality.loss", s, env), Catch::Contains("needs a kind"));
    CHECK_THROWS_WITH(lesson_value("quality.loss mla set=nosuch", s, env), Catch::Contains("'nosuch' has no models"));
    CHECK_THROWS_WITH(lesson_value("quality.best", s, env), Catch::Contains("quality.spread"));

    std::vector<LessonError> errors;
    const LessonChapter c = parse_lesson_chapter("# C\n## P\nText.\n@show trained=repeat prompt=\"ab ab\\ncd \" view=quality\n",
                                                 "t.md", env, errors);
    REQUIRE(errors.empty());
    CHECK(c.pages[0].show.model.trained_set == "repeat");
    CHECK(c.pages[0].show.model.prompt == "ab ab\ncd ");
    CHECK(c.pages[0].show.view == "quality");
    parse_lesson_chapter("# C\n## P\nText.\n@show trained=nosuch\n", "t.md", env, errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].line == 4);
    CHECK_THAT(errors[0].message, Catch::Contains("'nosuch' is not known"));
}
