// Curves: KV-cache size against context length for several real models and attention
// kinds at once (issue 5), with the article's DeepSeek-V3 numbers called out, a table of
// each model's per-token formula with its terms filled in, "fits in N GB", and
// "Open config.json..." to add any Hugging Face config.
//
// Every number comes from core/curves/cache_calc.h (curve_series, cache_report, curve_callouts,
// max_tokens_in, ...); this file only chooses what to ask for and lays out the answers.
// The choosing is plain data (CurvesSettings, CurvesData) so it is tested without a window
// (tests/app/views/test_curves_view.cpp); `mla-lab plot --out FILE.png` draws the same chart
// through draw_curves_chart() (app/window/plot_png.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "curves/cache_calc.h"
#include "views/view.h"

namespace mla::app {

// [SECTION] What to plot (no ImGui)

struct CurvesModel {
    std::string name;       // preset name, or a short name for an opened config ("Qwen2.5-7B" for .../Qwen2.5-7B/config.json)
    std::string path;       // the config file ("" for a preset)
    bool selected = false;  // drawn and listed in the table
    Config config;
};

struct CurvesSettings {
    bool own = true;                  // each model's own attention (with its own sizes)
    std::vector<CacheKind> kinds = {CacheKind::MHA};  // and these, sized for each model (cache_calc.h)
    std::string dtype = "bf16";       // fp32, bf16, fp16, fp8
    uint64_t batch = 1;
    uint64_t max_tokens = 1000000;    // right end of the x axis
    uint64_t min_tokens = 0;          // left end; 0 = 1,000 on log axes (1 when max <= 1,000), 0 on linear
    bool log = true;                  // log-log axes; false = linear
    bool gib = false;                 // y axis and table in GiB (2^30 B) instead of GB (10^9 B)
    double fits_gb = 80;              // capacity of the "fits in" line, decimal GB
    uint64_t table_tokens = 100000;   // context length of the table's size column
    CacheChoices choices;             // G, C, Dr of the comparison rows (0 = core's defaults)
};

// One line of the table: one model with one attention kind.
struct CurvesRow {
    std::string model;
    CacheRow row;               // from cache_report: layout, bytes per token, bytes, bytes held, formula
    std::string kind;           // "mla (own)", "mha", "gqa (G 8)"
    std::string symbolic;       // "(C + Dr) x L x b"
    std::string size;           // at the table's context length: "7.03 GB"; with a window "0.54 GB held"
    std::string size_note;      // "6.54 GiB" (the other unit); with a window "window 4,096; every token: 13.11 GB"
    std::string fits;           // in the capacity: "up to 1,138,433 tokens"; "any length" when a window fits
    std::string fits_note;      // "" or, with a window, "the 4,096-token window fits"
    int series = -1;            // index of its curve in CurvesData::series (-1: none)
};

// The article's context length: "400 GB -> 6 GB at 100k tokens".
inline constexpr uint64_t kArticleTokens = 100000;

// What the Curves controls take; anything else is refused with a message (curves_request).
inline constexpr uint64_t kMinChartTokens = 2, kMaxChartTokens = 1000000000;  // max tokens
inline constexpr uint64_t kMaxBatch = uint64_t{1} << 20;                       // 1,048,576 sequences
inline constexpr uint64_t kMaxTableTokens = 1000000000;                        // table at
inline constexpr double kMinFitsGb = 1, kMaxFitsGb = 1e6;                      // fits in GB

// A point called out on the chart: the article's 100,000 tokens on an MLA model's own
// curve and on its MHA curve ("MHA 399.8 GB", "MLA 7.03 GB, 56.9x less").
struct CurvesMark {
    int series = -1;
    uint64_t tokens = 0;
    uint64_t bytes = 0;         // held at `tokens`, from cache_bytes
    std::string label;
};

struct CurvesData {
    std::vector<CurveModel> models;      // the selected models, in list order
    CurveRequest request;                // what curve_series was asked
    std::vector<CurveSeries> series;     // the curves (from core)
    std::vector<CurveCallout> callouts;  // "deepseek-v3: MLA caches 56.9x less than MHA ..."
    std::vector<CurvesMark> marks;       // MHA and MLA at 100,000 tokens (when in range) of DeepSeek-V3, else the first MLA model
    std::vector<std::string> article;    // article_units_note's lines: "400 GB -> 6 GB" mixes GB and GiB (once), each MLA model's numbers
    std::vector<std::string> windows;    // per sliding-window model: which size the curve and table show
    std::vector<std::string> notes;      // cache_report's notes ("model: ..."), without repeats
    std::vector<CurvesRow> rows;         // the table
    std::string subtitle;                // "bf16, batch 1; cache only; ..."
};

// The preset list as models (none selected but `selected`); throws InputError without presets.
std::vector<CurvesModel> preset_models(const std::vector<std::string>& selected = {"deepseek-v3", "llama-3-8b", "mistral-7b"});

// The CurveRequest for these settings (kinds: the chosen ones plus, with `own`, each
// model's own kind; see curves_data). Throws InputError for a bad dtype or range.
CurveRequest curves_request(const CurvesSettings& s, const std::vector<CurveModel>& models);

// Series, callouts, notes and table rows for the selected models. A series is kept when it
// is a model's own attention (with s.own) or of a chosen kind. Throws InputError (bad
// settings, a size past 2^64 B); the view then keeps its last good data.
CurvesData curves_data(const std::vector<CurvesModel>& models, const CurvesSettings& s);

// Loads a config.json into the list (selected). Throws InputError naming the file and
// the field; `models` is left alone then. An already listed path is reloaded and selected.
void add_config_model(std::vector<CurvesModel>& models, const std::string& path);

// [SECTION] A small file dialog (Dear ImGui has none): a path field and the folder's entries

struct DirEntry {
    std::string name;   // "..", "presets", "config.json"
    bool folder = false;
};

// ".." (unless at the root), then sub-folders, then *.json files, each sorted by name;
// hidden entries (".name") left out. Throws InputError when the folder cannot be read.
std::vector<DirEntry> list_json_folder(const std::string& dir);

struct FileDialog {
    bool open = false;            // shown this frame (a modal popup)
    std::string dir;              // the folder listed
    char path[1024] = {};         // the text field: a file or a folder
    std::vector<DirEntry> entries;
    std::string error;            // the last error, shown inline (a parse error names the field)
    std::string intro = "Pick a model's config.json (the Hugging Face file with num_attention_heads, "
                        "num_key_value_heads, ...). Click a folder to enter it; double-click a file, or type a path "
                        "and press Enter.";
    std::string action = "Open";  // the button that calls try_open ("Save" for a save dialog)
    // Opens at start_dir (current folder when empty), with `file_name` in the path field.
    void show(const std::string& start_dir, const std::string& file_name = "");
    void go(const std::string& folder);       // lists folder, or sets error and keeps the old list
    // Draws the popup. When the user opens a file (Open, Enter, double-click), calls
    // try_open(path): "" = done (the popup closes, draw returns true), else the error to show.
    bool draw(const char* title, bool dark, const std::function<std::string(const std::string& path)>& try_open);
};

// [SECTION] The view

// The colour of series i: the categorical palette (colormap.h), its yellow darkened on a light
// background, and a lighter (dark theme) or darker (light theme) round after the first 7.
ImU32 curve_color(int series, bool dark);

// The chart with its title, subtitle, callouts and the article note under it; shared by the
// view and `mla-lab plot --out FILE.png`. height: of the plot area (0 = what is left minus
// the notes).
void draw_curves_chart(const CurvesData& d, const CurvesSettings& s, float height, bool dark, ImFont* mono);

struct CurvesView {
    static constexpr const char* kId = "curves";
    static constexpr const char* kTitle = "Curves";

    std::vector<CurvesModel> models;   // presets, then opened configs (loaded on first draw)
    CurvesSettings settings;
    CurvesData data;                   // last good data
    std::string error;                 // shown under the controls until the next good update
    FileDialog dialog;
    bool dirty = true;                 // settings changed: recompute data

    void draw(const Frame& f, Commands& cmds);
    // Loads the presets (first draw) and recomputes when dirty; keeps the last good data
    // and sets `error` when core refuses.
    void update();
    // What a session file holds: the selected presets by name, the opened configs (selected),
    // and the settings.
    std::vector<std::string> selected_presets() const;
    std::vector<std::string> opened_configs() const;
    // Puts them back: only these selected; a preset that is not known or a config that does
    // not load is named in *problems and left out.
    void restore(const std::vector<std::string>& presets, const std::vector<std::string>& configs,
                 const CurvesSettings& s, std::vector<std::string>* problems);

private:
    bool loaded_ = false;
    void load_presets();
    void draw_controls(const Frame& f, Commands& cmds);
    void draw_table(const Frame& f);
};

}  // namespace mla::app
