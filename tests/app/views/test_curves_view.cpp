// The Curves view's logic without a window: which series it asks core for, the callouts at
// the article's 100,000 tokens, the table rows (formula, size, fits in N GB), sliding
// windows, opening a config.json (and its parse error), the file dialog's folder listing,
// and keeping the last good state.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "views/curves_view.h"

using namespace mla;
using namespace mla::app;
namespace fs = std::filesystem;

namespace {

const CurvesRow& row_of(const CurvesData& d, const std::string& model, const std::string& kind) {
    for (const CurvesRow& r : d.rows)
        if (r.model == model && r.kind == kind) return r;
    FAIL("no row " << model << " " << kind);
    return d.rows.front();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A fresh empty folder under the system temp folder.
fs::path temp_dir(const std::string& name) {
    const fs::path p = fs::temp_directory_path() / ("mla-curves-test-" + name);
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

}  // namespace

TEST_CASE("curves: the default selection asks core for each model's own curve and its MHA curve", "[curves]") {
    const std::vector<CurvesModel> models = preset_models();
    const CurvesSettings s;  // own + mha, bf16, batch 1, 1k..1M log
    const CurvesData d = curves_data(models, s);
    REQUIRE(d.models.size() == 3);
    CHECK(d.models[0].name == "deepseek-v3");
    CHECK(d.models[1].name == "llama-3-8b");
    CHECK(d.models[2].name == "mistral-7b");

    // deepseek-v3: mha, mla (own); llama-3-8b: mha, gqa (own); mistral-7b: mha, gqa (own), both windowed
    REQUIRE(d.series.size() == 6);
    CHECK(d.series[0].label == "deepseek-v3 mha");
    CHECK(d.series[1].label == "deepseek-v3 mla (own)");
    CHECK(d.series[3].label == "llama-3-8b gqa (own)");
    CHECK(d.series[5].label == "mistral-7b gqa (own; window 4096)");

    // The series are core's: the same request to curve_series gives the same bytes.
    const std::vector<CurveSeries> core = curve_series(d.models, d.request);
    for (const CurveSeries& s2 : d.series) {
        bool found = false;
        for (const CurveSeries& c : core)
            if (c.label == s2.label) {
                CHECK(c.bytes == s2.bytes);
                CHECK(c.tokens == s2.tokens);
                found = true;
            }
        CHECK(found);
    }
    CHECK(d.request.min_tokens == 1000);
    CHECK(d.request.max_tokens == 1000000);
    CHECK(d.series[0].tokens.front() == 1000);
    CHECK(d.series[0].tokens.back() == 1000000);
}

TEST_CASE("curves: DeepSeek-V3 at 100,000 tokens is called out with the article's numbers", "[curves]") {
    std::vector<CurvesModel> models = preset_models({"deepseek-v3"});
    CurvesSettings s;
    CurvesData d = curves_data(models, s);
    REQUIRE(d.callouts.size() == 1);
    CHECK(contains(d.callouts[0].text, "56.9x"));
    REQUIRE(d.marks.size() == 2);
    CHECK(d.marks[0].series == d.callouts[0].mha_series);
    CHECK(d.marks[0].tokens == 100000);
    CHECK(d.marks[0].bytes == 399769600000ull);  // 3,997,696 B/token x 100,000
    CHECK(d.marks[0].label == "deepseek-v3 MHA 399.8 GB");
    CHECK(d.marks[1].bytes == 7027200000ull);    // 70,272 B/token x 100,000
    CHECK(d.marks[1].label == "deepseek-v3 MLA 7.03 GB, 56.9x less");
    REQUIRE(d.article.size() == 2);
    CHECK(contains(d.article[0], "mixes GB and GiB"));
    CHECK(contains(d.article[1], "399.8 GB vs MLA 7.03 GB = 372.3 GiB vs 6.54 GiB"));

    s.gib = true;  // the same points in GiB
    d = curves_data(models, s);
    CHECK(d.marks[0].label == "deepseek-v3 MHA 372.3 GiB");
    CHECK(d.marks[1].label == "deepseek-v3 MLA 6.54 GiB, 56.9x less");
    CHECK(row_of(d, "deepseek-v3", "mla (own)").size == "6.54 GiB");
    CHECK(row_of(d, "deepseek-v3", "mla (own)").size_note == "7.03 GB");

    // Two MLA models: both callout sentences, the article's line once, marks on DeepSeek-V3 only.
    std::vector<CurvesModel> two = preset_models({"deepseek-v2-lite", "deepseek-v3"});
    d = curves_data(two, CurvesSettings{});
    CHECK(d.callouts.size() == 2);
    CHECK(contains(d.callouts[0].text, "deepseek-v2-lite: MLA caches 7.1x less"));
    REQUIRE(d.article.size() == 3);
    CHECK(contains(d.article[1], "deepseek-v2-lite at 100,000 tokens"));
    REQUIRE(d.marks.size() == 2);
    CHECK(d.series[static_cast<size_t>(d.marks[0].series)].label == "deepseek-v3 mha");

    s.max_tokens = 50000;  // 100,000 is off the chart: no marks, the callout sentence stays
    d = curves_data(models, s);
    CHECK(d.marks.empty());
    CHECK(d.callouts.size() == 1);
}

TEST_CASE("curves: table rows carry core's formula, the size and the fits-in line", "[curves]") {
    const std::vector<CurvesModel> models = preset_models();
    CurvesSettings s;
    const CurvesData d = curves_data(models, s);
    REQUIRE(d.rows.size() == 6);

    const CurvesRow& mla = row_of(d, "deepseek-v3", "mla (own)");
    CHECK(mla.symbolic == "(C + Dr) x L x b");
    CHECK(mla.row.formula == "(512 + 64) x 61 layers x 2 B = 70,272 B/token");
    CHECK(mla.size == "7.03 GB");
    CHECK(mla.size_note == "6.54 GiB");
    CHECK(mla.fits == "up to 1,138,433 tokens");  // 80e9 / 70,272
    CHECK(d.series[static_cast<size_t>(mla.series)].label == "deepseek-v3 mla (own)");

    const CurvesRow& mha = row_of(d, "deepseek-v3", "mha");
    CHECK(mha.row.formula == "2 x 128 x 128 x 61 layers x 2 B = 3,997,696 B/token");
    CHECK(mha.size == "399.8 GB");
    CHECK(mha.size_note == "372.3 GiB");
    CHECK(mha.fits == "up to 20,011 tokens");

    const CurvesRow& llama = row_of(d, "llama-3-8b", "gqa (own)");
    CHECK(llama.row.formula == "2 x 8 x 128 x 32 layers x 2 B = 131,072 B/token");
    CHECK(llama.size == "13.11 GB");

    // Sliding window: the row says which size it shows; the note says it once more.
    const CurvesRow& mistral = row_of(d, "mistral-7b", "gqa (own)");
    CHECK(mistral.size == "0.54 GB held");  // 131,072 x 4,096
    CHECK(mistral.size_note == "window 4,096; every token: 13.11 GB");
    CHECK(mistral.fits == "any length");
    CHECK(mistral.fits_note == "the 4,096-token window fits");
    REQUIRE(d.windows.size() == 1);
    CHECK(contains(d.windows[0], "mistral-7b has a sliding window of 4,096 tokens"));
    CHECK(contains(d.subtitle, "sliding-window"));
    CHECK(!d.notes.empty());
}

TEST_CASE("curves: kinds, dtype, batch and capacity change what core is asked", "[curves]") {
    const std::vector<CurvesModel> models = preset_models({"deepseek-v3", "llama-3-8b"});
    CurvesSettings s;
    s.own = false;
    s.kinds = {CacheKind::MLA};
    CurvesData d = curves_data(models, s);
    REQUIRE(d.series.size() == 2);
    CHECK(d.series[0].label == "deepseek-v3 mla (own)");        // its own kind stays its own
    CHECK(d.series[1].label == "llama-3-8b mla (C 512 Dr 64)");  // the paper's sizes for a non-MLA model
    CHECK(d.rows.size() == 2);

    s.own = true;
    s.kinds.clear();  // own only
    d = curves_data(models, s);
    REQUIRE(d.series.size() == 2);
    CHECK(d.series[1].label == "llama-3-8b gqa (own)");
    const uint64_t bf16 = d.series[1].bytes.back();

    s.dtype = "fp32";
    s.batch = 4;
    s.fits_gb = 40;
    d = curves_data(models, s);
    CHECK(d.series[1].bytes.back() == bf16 * 2 * 4);
    CHECK(row_of(d, "llama-3-8b", "gqa (own)").fits == "up to 38,146 tokens");  // 40e9 / (262,144 x 4)
    CHECK(contains(d.subtitle, "fp32 (4 B per number), batch 4"));

    s.log = false;
    d = curves_data(models, s);
    CHECK(d.request.min_tokens == 0);
    CHECK(d.series[0].tokens.size() == 21);

    s.own = false;
    CHECK_THROWS_AS(curves_data(models, s), InputError);  // no kind ticked
    s.own = true;
    s.dtype = "int4";
    CHECK_THROWS_WITH(curves_data(models, s), Catch::Contains("dtype 'int4'"));
}

TEST_CASE("curves: the view keeps its last good data when core refuses", "[curves]") {
    CurvesView v;
    v.update();  // loads the presets, default selection
    REQUIRE(v.error.empty());
    REQUIRE(v.data.series.size() == 6);
    v.settings.own = false;
    v.settings.kinds.clear();
    v.dirty = true;
    v.update();
    CHECK(contains(v.error, "no attention kind is ticked"));
    CHECK(v.data.series.size() == 6);  // unchanged
    v.settings.own = true;
    v.dirty = true;
    v.update();
    CHECK(v.error.empty());
    CHECK(v.data.series.size() == 3);

    for (CurvesModel& m : v.models) m.selected = false;
    v.dirty = true;
    v.update();
    CHECK(v.error.empty());
    CHECK(v.data.series.empty());  // the empty state
}

TEST_CASE("curves: opening a config.json adds it; a bad one names the field and changes nothing", "[curves]") {
    const fs::path dir = temp_dir("open");
    fs::create_directories(dir / "Qwen2.5-7B");
    fs::copy_file(fs::path(presets_dir()) / "qwen2.5-7b.json", dir / "Qwen2.5-7B" / "config.json");
    std::vector<CurvesModel> models = preset_models({});
    const size_t n = models.size();

    add_config_model(models, (dir / "Qwen2.5-7B" / "config.json").string());
    REQUIRE(models.size() == n + 1);
    CHECK(models.back().name == "Qwen2.5-7B");
    CHECK(models.back().selected);
    CHECK(models.back().path == (dir / "Qwen2.5-7B" / "config.json").string());
    const CurvesData d = curves_data(models, CurvesSettings{});
    REQUIRE(d.rows.size() == 2);
    CHECK(row_of(d, "Qwen2.5-7B", "gqa (own)").row.formula == "2 x 4 x 128 x 28 layers x 2 B = 57,344 B/token");

    add_config_model(models, (dir / "Qwen2.5-7B" / "config.json").string());  // again: reloaded, not added
    CHECK(models.size() == n + 1);

    {
        std::ofstream f(dir / "broken.json");
        f << R"({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "vocab_size": 32000})";
    }
    try {
        add_config_model(models, (dir / "broken.json").string());
        FAIL("a config without num_attention_heads was accepted");
    } catch (const InputError& e) {
        CHECK(contains(e.what(), "broken.json"));
        CHECK(contains(e.what(), "num_attention_heads"));
    }
    CHECK(models.size() == n + 1);
    fs::remove_all(dir);
}

TEST_CASE("curves: the file dialog lists folders and .json files", "[curves]") {
    const fs::path dir = temp_dir("list");
    fs::create_directories(dir / "b-folder");
    fs::create_directories(dir / "a-folder");
    fs::create_directories(dir / ".hidden");
    for (const char* f : {"z.json", "config.json", "notes.txt", ".secret.json", "UPPER.JSON"}) std::ofstream(dir / f) << "{}";
    const std::vector<DirEntry> e = list_json_folder(dir.string());
    REQUIRE(e.size() == 6);
    CHECK(e[0].name == "..");
    CHECK(e[1].name == "a-folder");
    CHECK(e[1].folder);
    CHECK(e[2].name == "b-folder");
    CHECK(e[3].name == "UPPER.JSON");
    CHECK(e[4].name == "config.json");
    CHECK(!e[4].folder);
    CHECK(e[5].name == "z.json");
    CHECK(list_json_folder("/").front().name != "..");
    CHECK_THROWS_WITH(list_json_folder((dir / "missing").string()), Catch::Contains("cannot list the folder"));

    FileDialog fd;
    fd.show(dir.string());
    CHECK(fd.open);
    CHECK(fd.dir == dir.string());
    CHECK(std::string(fd.path) == dir.string() + "/");
    fd.go((dir / "missing").string());  // error shown, old listing kept
    CHECK(contains(fd.error, "cannot list the folder"));
    CHECK(fd.dir == dir.string());
    CHECK(fd.entries.size() == 6);
    fd.go((dir / "a-folder" / "..").string());
    CHECK(fd.error.empty());
    CHECK(fd.dir == dir.string());
    fs::remove_all(dir);
}

TEST_CASE("curves: batch 0, max tokens 0 and other values out of range are refused with the field's words", "[curves]") {
    const std::vector<CurvesModel> models = preset_models({"deepseek-v3"});
    const CurvesSettings good;
    REQUIRE_NOTHROW(curves_data(models, good));
    auto refused = [&](CurvesSettings s) -> std::string {
        try {
            curves_data(models, s);
        } catch (const InputError& e) {
            return e.what();
        }
        return "";
    };
    CurvesSettings s = good;
    s.batch = 0;
    CHECK(refused(s) == "batch 0 is not valid: use 1 to 1,048,576 sequences");
    s.batch = kMaxBatch + 1;
    CHECK(contains(refused(s), "batch 1,048,577 is not valid"));
    s = good;
    s.max_tokens = 0;
    CHECK(refused(s) == "max tokens 0 is not valid: use 2 to 1,000,000,000");
    s.max_tokens = 1;
    CHECK(contains(refused(s), "max tokens 1 is not valid"));
    s.max_tokens = 300;  // typed below the slider's 2,000: kept as typed, not replaced
    CHECK(curves_data(models, s).request.max_tokens == 300);
    s = good;
    s.table_tokens = 0;
    CHECK(refused(s) == "table at 0 is not valid: use 1 to 1,000,000,000 tokens");
    s = good;
    s.fits_gb = 0.5;
    CHECK(refused(s) == "fits in GB 0.5 is not valid: use 1 to 1,000,000 GB");
}
