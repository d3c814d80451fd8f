// Curves: see curves_view.h.
//
// [SECTION] What to plot (no ImGui)
// [SECTION] File dialog
// [SECTION] Chart (shared with `mla-lab plot --out FILE.png`)
// [SECTION] View: controls, table
#include "views/curves_view.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <utility>

#include "base/check.h"
#include "widgets/colormap.h"
#include "widgets/plot.h"

namespace mla::app {

namespace fs = std::filesystem;

// ============================================================================ [SECTION] What to plot

namespace {

bool has_kind(const std::vector<CacheKind>& v, CacheKind k) { return std::find(v.begin(), v.end(), k) != v.end(); }

// A series or row is shown when it is a model's own attention (with "own" ticked) or of a ticked kind.
bool keep_layout(const CacheLayout& l, const CurvesSettings& s) { return (s.own && l.own) || has_kind(s.kinds, l.kind); }

std::string unit_size(uint64_t bytes, bool gib) { return gib ? format_gib(bytes) : format_gb(bytes); }

std::string capacity_text(double gb) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g GB", gb);
    return buf;
}

const CurveModel& model_named(const std::vector<CurveModel>& models, const std::string& name) {
    for (const CurveModel& m : models)
        if (m.name == name) return m;
    MLA_CHECK(false && "callout of a model that is not plotted");
    return models.front();
}

bool same_layout(const CacheLayout& a, const CacheLayout& b) {
    return a.kind == b.kind && a.own == b.own && a.label() == b.label();
}

}  // namespace

std::vector<CurvesModel> preset_models(const std::vector<std::string>& selected) {
    std::vector<CurvesModel> out;
    for (const std::string& name : preset_names()) {
        CurvesModel m;
        m.name = name;
        m.config = load_preset(name);
        m.selected = std::find(selected.begin(), selected.end(), name) != selected.end();
        out.push_back(std::move(m));
    }
    return out;
}

CurveRequest curves_request(const CurvesSettings& s, const std::vector<CurveModel>& models) {
    if (!s.own && s.kinds.empty())
        throw InputError("no attention kind is ticked: tick \"own\" or at least one of mha, gqa, mqa, mla, mla-cached-kv");
    CurveRequest r;
    r.kinds = s.kinds;
    if (s.own)
        for (const CurveModel& m : models)
            if (!has_kind(r.kinds, cache_kind_of(m.config.attn_kind()))) r.kinds.push_back(cache_kind_of(m.config.attn_kind()));
    r.log_x = s.log;
    // What is typed is refused with the field's words, never replaced by something else.
    if (s.max_tokens < kMinChartTokens || s.max_tokens > kMaxChartTokens)
        throw InputError("max tokens " + with_commas(s.max_tokens) + " is not valid: use " + with_commas(kMinChartTokens) +
                         " to " + with_commas(kMaxChartTokens));
    r.max_tokens = s.max_tokens;
    r.min_tokens = s.min_tokens > 0 ? s.min_tokens : !s.log ? 0 : s.max_tokens > 1000 ? 1000 : 1;
    r.dtype = parse_dtype(s.dtype);
    if (s.batch == 0 || s.batch > kMaxBatch)
        throw InputError("batch " + with_commas(s.batch) + " is not valid: use 1 to " + with_commas(kMaxBatch) + " sequences");
    r.batch = s.batch;
    r.choices = s.choices;
    return r;
}

CurvesData curves_data(const std::vector<CurvesModel>& models, const CurvesSettings& s) {
    CurvesData d;
    for (const CurvesModel& m : models)
        if (m.selected) d.models.push_back({m.name, m.config});
    d.request = curves_request(s, d.models);
    const CurveRequest& r = d.request;
    if (s.table_tokens == 0 || s.table_tokens > kMaxTableTokens)
        throw InputError("table at " + with_commas(s.table_tokens) + " is not valid: use 1 to " + with_commas(kMaxTableTokens) +
                         " tokens");
    if (!(s.fits_gb >= kMinFitsGb) || !(s.fits_gb <= kMaxFitsGb)) {
        char typed[32];
        std::snprintf(typed, sizeof typed, "%g", s.fits_gb);
        throw InputError("fits in GB " + std::string(typed) + " is not valid: use " + with_commas(kMinFitsGb) + " to " +
                         with_commas(kMaxFitsGb) + " GB");
    }
    const uint64_t capacity = gb_to_bytes(s.fits_gb);
    if (d.models.empty()) return d;

    for (CurveSeries& c : curve_series(d.models, r))
        if (keep_layout(c.layout, s)) d.series.push_back(std::move(c));
    d.callouts = curve_callouts(d.models, d.series);

    bool any_window = false;
    for (const CurveModel& m : d.models) any_window |= m.config.sliding_window > 0;
    d.subtitle = r.dtype.name + " (" + std::to_string(r.dtype.bytes) + " B per number), batch " + with_commas(r.batch) +
                 "; the cache only, no weights; " + (s.gib ? "1 GiB = 2^30 B" : "1 GB = 10^9 B") +
                 (any_window ? "; a sliding-window curve shows the cache held, flat after the window" : "");

    // The article's point: the MLA model's own curve and its MHA curve at 100,000 tokens, for
    // DeepSeek-V3 when it is plotted, else the first MLA model (one pair: marks of several
    // models would cover each other's labels).
    const CurveCallout* article = nullptr;
    for (const CurveCallout& c : d.callouts)
        if (!article || c.model == "deepseek-v3") article = &c;
    if (article && kArticleTokens >= r.min_tokens && kArticleTokens <= r.max_tokens) {
        const CurveCallout& c = *article;
        const CurveModel& m = model_named(d.models, c.model);
        auto mark = [&](int i, const std::string& text) {
            CurvesMark k;
            k.series = i;
            k.tokens = kArticleTokens;
            k.bytes = cache_bytes(d.series[static_cast<size_t>(i)].layout, r.dtype, tokens_held(m.config, kArticleTokens), r.batch);
            k.label = text + " " + unit_size(k.bytes, s.gib);
            return k;
        };
        if (c.mha_series >= 0) d.marks.push_back(mark(c.mha_series, c.model + " MHA"));
        CurvesMark mla = mark(c.mla_series, c.model + " MLA");
        mla.label += ", " + format_ratio(c.ratio) + " less" + (c.mha_series >= 0 ? "" : " than MHA");
        d.marks.push_back(mla);
    }

    for (const CurveModel& m : d.models) {
        // The note's first line (what the article mixed up) once, then this model's numbers.
        const std::string note = article_units_note(m.name, m.config);
        for (size_t start = 0; start < note.size();) {
            const size_t end = std::min(note.find('\n', start), note.size());
            const std::string line = note.substr(start, end - start);
            if (std::find(d.article.begin(), d.article.end(), line) == d.article.end()) d.article.push_back(line);
            start = end + 1;
        }
        CacheRequest q;
        q.tokens = {s.table_tokens};
        q.dtype = r.dtype;
        q.batch = r.batch;
        q.kinds = r.kinds;
        q.choices = r.choices;
        const CacheReport rep = cache_report(m.name, m.config, q);
        for (const std::string& n : rep.notes) {
            const std::string line = m.name + ": " + n;
            if (std::find(d.notes.begin(), d.notes.end(), line) == d.notes.end()) d.notes.push_back(line);
        }
        const uint64_t window = m.config.sliding_window > 0 ? static_cast<uint64_t>(m.config.sliding_window) : 0;
        for (const CacheRow& row : rep.rows) {
            if (!keep_layout(row.layout, s)) continue;
            CurvesRow t;
            t.model = m.name;
            t.row = row;
            t.kind = std::string(to_string(row.layout.kind)) + (row.layout.own ? " (own)" : "");
            t.symbolic = row.layout.symbolic() + " x L x b";
            if (window > 0) {
                t.size = unit_size(row.bytes_held, s.gib) + " held";
                t.size_note = "window " + with_commas(window) + "; every token: " + unit_size(row.bytes, s.gib);
            } else {
                t.size = unit_size(row.bytes, s.gib);
                t.size_note = unit_size(row.bytes, !s.gib);
            }
            const uint64_t max_t = max_tokens_in(capacity, row.bytes_per_token, r.batch);
            if (window > 0 && max_t >= window) {
                t.fits = "any length";
                t.fits_note = "the " + with_commas(window) + "-token window fits";
            } else {
                t.fits = max_t == 0 ? "not even one token" : "up to " + with_commas(max_t) + " tokens";
                if (window > 0) t.fits_note = "the window does not fit";
            }
            for (size_t i = 0; i < d.series.size(); ++i)
                if (d.series[i].model == m.name && same_layout(d.series[i].layout, row.layout)) t.series = static_cast<int>(i);
            d.rows.push_back(std::move(t));
        }
        if (window > 0) {
            const CacheRow& own = *std::find_if(rep.rows.begin(), rep.rows.end(), [](const CacheRow& x) { return x.layout.own; });
            d.windows.push_back(m.name + " has a sliding window of " + with_commas(window) +
                                " tokens: its curves and table rows show the cache it holds (the last " + with_commas(window) +
                                " tokens of each layer), flat after " + with_commas(window) +
                                " tokens. Keeping every token would take " + unit_size(own.bytes, s.gib) + " at " +
                                with_commas(s.table_tokens) + " tokens.");
        }
    }
    return d;
}

void add_config_model(std::vector<CurvesModel>& models, const std::string& path) {
    Config c = load_calc_config(path);  // throws, naming the file and the field
    const fs::path abs = fs::absolute(path).lexically_normal();
    for (CurvesModel& m : models)
        if (!m.path.empty() && m.path == abs.string()) {
            m.config = c;
            m.selected = true;
            return;
        }
    CurvesModel m;
    m.path = abs.string();
    m.config = c;
    m.selected = true;
    // .../Qwen2.5-7B/config.json -> "Qwen2.5-7B"; my-model.json -> "my-model"
    const std::string parent = abs.parent_path().filename().string();
    const std::string base = abs.filename() == "config.json" && !parent.empty() ? parent : abs.stem().string();
    m.name = base;
    auto taken = [&](const std::string& n) {
        return std::any_of(models.begin(), models.end(), [&](const CurvesModel& x) { return x.name == n; });
    };
    for (int k = 2; taken(m.name); ++k) m.name = base + " (" + std::to_string(k) + ")";
    models.push_back(std::move(m));
}

// ============================================================================ [SECTION] File dialog

std::vector<DirEntry> list_json_folder(const std::string& dir) {
    const fs::path p = fs::absolute(dir.empty() ? fs::current_path() : fs::path(dir)).lexically_normal();
    std::error_code ec;
    fs::directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    if (ec) throw InputError("cannot list the folder '" + p.string() + "': " + ec.message());
    std::vector<DirEntry> folders, files;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        std::error_code e2;
        if (it->is_directory(e2)) {
            folders.push_back({name, true});
        } else {
            std::string ext = it->path().extension().string();
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            if (ext == ".json") files.push_back({name, false});
        }
    }
    auto by_name = [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; };
    std::sort(folders.begin(), folders.end(), by_name);
    std::sort(files.begin(), files.end(), by_name);
    std::vector<DirEntry> out;
    if (p.has_relative_path()) out.push_back({"..", true});  // not at the root
    out.insert(out.end(), folders.begin(), folders.end());
    out.insert(out.end(), files.begin(), files.end());
    return out;
}

void FileDialog::show(const std::string& start_dir, const std::string& file_name) {
    open = true;
    error.clear();
    std::error_code ec;
    go(start_dir.empty() || !fs::is_directory(start_dir, ec) ? fs::current_path(ec).string() : start_dir);
    if (!file_name.empty()) std::snprintf(path, sizeof path, "%s", (fs::path(dir) / file_name).string().c_str());
}

void FileDialog::go(const std::string& folder) {
    try {
        const fs::path p = fs::absolute(folder).lexically_normal();
        entries = list_json_folder(p.string());
        dir = p.string();
        if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
        std::snprintf(path, sizeof path, "%s/", dir == "/" ? "" : dir.c_str());
        error.clear();
    } catch (const InputError& e) {
        error = e.what();
    }
}

bool FileDialog::draw(const char* title, bool dark, const std::function<std::string(const std::string& path)>& try_open) {
    if (open) {
        ImGui::OpenPopup(title);
        open = false;
    }
    const float font = ImGui::GetFontSize();
    ImGui::SetNextWindowSize(ImVec2(font * 44, font * 30), ImGuiCond_Appearing);
    const ImVec2 centre(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.5f);
    ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (!ImGui::BeginPopupModal(title, nullptr, ImGuiWindowFlags_NoSavedSettings)) return false;
    ImGui::TextWrapped("%s", intro.c_str());
    ImGui::TextDisabled("Folder: %s", dir.c_str());
    std::string want, nav;
    ImGui::SetNextItemWidth(-1);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();  // type a name and press Enter
    if (ImGui::InputText("##path", path, sizeof path, ImGuiInputTextFlags_EnterReturnsTrue)) want = path;
    if (!error.empty()) text_wrapped_colored(palette(dark).warn, "%s", error.c_str());

    ImGui::BeginChild("##entries", ImVec2(0, -ImGui::GetFrameHeightWithSpacing()), true);
    for (const DirEntry& e : entries) {
        const std::string full = (fs::path(dir) / e.name).lexically_normal().string();
        const std::string shown = e.name == ".." ? "..  (up one folder)" : e.folder ? e.name + "/" : e.name;
        if (ImGui::Selectable(shown.c_str(), !e.folder && full == path, ImGuiSelectableFlags_AllowDoubleClick)) {
            if (e.folder) {
                nav = full;
            } else {
                std::snprintf(path, sizeof path, "%s", full.c_str());
                if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) want = full;
            }
        }
    }
    if (entries.empty()) ImGui::TextDisabled("No folders or .json files here.");
    ImGui::EndChild();

    if (ImGui::Button(action.c_str())) want = path;
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
    ImGui::SameLine();
    ImGui::TextDisabled("Only folders and .json files are listed.");

    bool opened = false;
    if (!nav.empty()) go(nav);
    if (!want.empty()) {
        std::error_code ec;
        if (fs::is_directory(want, ec)) {
            go(want);
        } else {
            error = try_open(want);
            if (error.empty()) {
                opened = true;
                ImGui::CloseCurrentPopup();
            }
        }
    }
    ImGui::EndPopup();
    return opened;
}

// ============================================================================ [SECTION] Chart

namespace {

// Lines of text under the plot: the callouts, the article note (two lines each), the windows.
float notes_height(const CurvesData& d) {
    const float line = ImGui::GetTextLineHeightWithSpacing();
    return line * static_cast<float>(d.callouts.size() + d.article.size() + d.windows.size() * 2 + 1);
}

}  // namespace

ImU32 curve_color(int series, bool dark) {
    const ImU32 c = widgets::categorical_color(series);
    int rgb[3] = {static_cast<int>(c >> IM_COL32_R_SHIFT & 0xFF), static_cast<int>(c >> IM_COL32_G_SHIFT & 0xFF),
                  static_cast<int>(c >> IM_COL32_B_SHIFT & 0xFF)};
    const bool yellow = series % 7 == 6, second_round = series / 7 % 2 == 1;
    for (int& v : rgb) {
        if (!dark && yellow) v = v * 3 / 4;  // the palette's yellow is faint on white
        if (second_round) v = dark ? v + (255 - v) * 2 / 5 : v * 3 / 5;
    }
    return IM_COL32(rgb[0], rgb[1], rgb[2], 255);
}

void draw_curves_chart(const CurvesData& d, const CurvesSettings& s, float height, bool dark, ImFont* mono) {
    (void)mono;
    const Palette pal = palette(dark);
    ImGui::TextUnformatted("KV cache size vs context length");
    text_wrapped_colored(pal.dim, "%s", d.subtitle.c_str());
    if (height <= 0) height = std::max(ImGui::GetFontSize() * 12, ImGui::GetContentRegionAvail().y - notes_height(d));

    using namespace widgets;
    const AxisScale scale = s.log ? AxisScale::Log10 : AxisScale::Linear;
    PlotAxes ax;
    ax.x = {"context length T (tokens in the cache)", scale, AxisFormat::Count};
    ax.x.min = static_cast<double>(d.request.min_tokens);
    ax.x.max = static_cast<double>(d.request.max_tokens);
    // The axis title runs along the plot's height: a short one when the plot is short.
    const bool short_y = height < ImGui::GetFontSize() * 24;
    ax.y = {s.gib ? (short_y ? "cache (GiB = 2^30 B)" : "KV cache, all layers (GiB = 2^30 B)")
                  : (short_y ? "cache (GB = 10^9 B)" : "KV cache, all layers (GB = 10^9 B)"),
            scale, s.gib ? AxisFormat::BytesBinary : AxisFormat::Bytes};
    ax.y.include_zero = !s.log;
    // Beside the chart when it is wide enough to spare the room, else in the corner that hides least:
    // never over the 100,000-token line's label or the marks.
    ax.legend = ImGui::GetContentRegionAvail().x > ImGui::GetFontSize() * 48 ? LegendPos::Right : LegendPos::Below;
    if (BeginPlot("##curves", ImVec2(-1, height), ax)) {
        std::vector<double> xs, ys;
        for (size_t i = 0; i < d.series.size(); ++i) {
            const CurveSeries& c = d.series[i];
            xs.assign(c.tokens.begin(), c.tokens.end());
            ys.assign(c.bytes.begin(), c.bytes.end());
            PlotLine(c.label.c_str(), xs.data(), ys.data(), static_cast<int>(xs.size()), curve_color(static_cast<int>(i), dark),
                     c.layout.own ? ImGui::GetFontSize() * 0.16f : 0.0f);
        }
        if (!d.marks.empty()) PlotVLine(static_cast<double>(kArticleTokens), "100,000 tokens: the article's example");
        for (const CurvesMark& m : d.marks)
            PlotMarker(static_cast<double>(m.tokens), static_cast<double>(m.bytes), m.label.c_str(), curve_color(m.series, dark));
        EndPlot();
    }
    for (const CurveCallout& c : d.callouts) text_wrapped_colored(pal.accent, "%s", c.text.c_str());
    for (const std::string& a : d.article) text_wrapped_colored(pal.text, "%s", a.c_str());
    for (const std::string& w : d.windows) text_wrapped_colored(pal.dim, "%s", w.c_str());
}

// ============================================================================ [SECTION] View

namespace {

const char* kind_help(CacheKind k) {
    switch (k) {
        case CacheKind::MHA: return "mha: 2 H Dh numbers per token per layer, a K and a V for every query head";
        case CacheKind::GQA: return "gqa: 2 G Dh, one K and V per group of query heads (G groups)";
        case CacheKind::MQA: return "mqa: 2 Dh, one K and V shared by all heads";
        case CacheKind::MLA: return "mla: C + Dr, the latent c_KV and the one shared RoPE key k_R (576 for DeepSeek)";
        case CacheKind::MLACachedKV:
            return "mla-cached-kv: H (Dn + Dr + Dv), MLA run the naive way, caching per-head K and V rebuilt from the latent";
    }
    return "";
}

}  // namespace

void CurvesView::load_presets() {
    if (loaded_) return;
    loaded_ = true;
    try {
        models = preset_models();
    } catch (const InputError& e) {
        error = e.what();
    }
    dirty = true;
}

std::vector<std::string> CurvesView::selected_presets() const {
    std::vector<std::string> out;
    for (const CurvesModel& m : models)
        if (m.selected && m.path.empty()) out.push_back(m.name);
    return out;
}

std::vector<std::string> CurvesView::opened_configs() const {
    std::vector<std::string> out;
    for (const CurvesModel& m : models)
        if (m.selected && !m.path.empty()) out.push_back(m.path);
    return out;
}

void CurvesView::restore(const std::vector<std::string>& presets, const std::vector<std::string>& configs,
                         const CurvesSettings& s, std::vector<std::string>* problems) {
    load_presets();
    for (CurvesModel& m : models) m.selected = false;
    for (const std::string& name : presets) {
        auto it = std::find_if(models.begin(), models.end(), [&](const CurvesModel& m) { return m.path.empty() && m.name == name; });
        if (it != models.end()) it->selected = true;
        else if (problems) problems->push_back("curves: no preset is called '" + name + "'; left out");
    }
    for (const std::string& path : configs) {
        try {
            add_config_model(models, path);
        } catch (const InputError& e) {
            if (problems) problems->push_back(std::string("curves: ") + e.what() + "; left out");
        }
    }
    settings = s;
    dirty = true;
}

void CurvesView::update() {
    load_presets();
    if (!dirty) return;
    dirty = false;
    try {
        data = curves_data(models, settings);
        error.clear();
    } catch (const InputError& e) {
        error = e.what();  // keep the last good data
    }
}

void CurvesView::draw(const Frame& f, Commands& cmds) {
    update();
    const float font = ImGui::GetFontSize();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (!f.slide) {  // an exported picture shows the chart and the table alone
        ImGui::BeginChild("##curves_controls", ImVec2(std::min(font * 18.0f, avail.x * 0.35f), avail.y), true);
        draw_controls(f, cmds);
        ImGui::EndChild();
        ImGui::SameLine();
    }
    ImGui::BeginChild("##curves_main", ImVec2(0, avail.y), false);
    if (!error.empty() && !data.series.empty())
        text_wrapped_colored(palette(f.dark).warn, "Not updated: %s", error.c_str());
    if (data.series.empty()) {
        empty_state(!error.empty() ? error.c_str()
                                   : "Tick a model on the left (or open a config.json) to see its KV cache grow with the context.");
    } else {
        const float chart_h = std::max(font * 14, ImGui::GetContentRegionAvail().y * 0.56f);
        draw_curves_chart(data, settings, chart_h, f.dark, f.mono);
        ImGui::Spacing();
        draw_table(f);
    }
    ImGui::EndChild();

    dialog.draw("Open config.json##curves", f.dark, [this](const std::string& path) {
        try {
            add_config_model(models, path);
            dirty = true;
            return std::string();
        } catch (const InputError& e) {
            return std::string(e.what());
        }
    });
}

void CurvesView::draw_controls(const Frame& f, Commands& cmds) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    ImGui::TextUnformatted("Models");
    int remove = -1;
    for (size_t i = 0; i < models.size(); ++i) {
        CurvesModel& m = models[i];
        ImGui::PushID(static_cast<int>(i));
        if (ImGui::Checkbox(m.name.c_str(), &m.selected)) dirty = true;
        if (ImGui::IsItemHovered()) {
            const Config& c = m.config;
            std::string tip = c.model_type + ": " + own_layout(c).label() + ", " + std::to_string(c.num_hidden_layers) + " layers, " +
                              std::to_string(c.num_attention_heads) + " query heads";
            if (c.sliding_window > 0) tip += ", sliding window " + with_commas(static_cast<uint64_t>(c.sliding_window));
            if (!m.path.empty()) tip += "\n" + m.path;
            ImGui::SetTooltip("%s", tip.c_str());
        }
        if (!m.path.empty()) {
            ImGui::SameLine();
            if (ImGui::SmallButton("x")) remove = static_cast<int>(i);
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("Remove %s from the list", m.name.c_str());
        }
        ImGui::PopID();
    }
    if (remove >= 0) {
        models.erase(models.begin() + remove);
        dirty = true;
    }
    if (ImGui::Button("Open config.json...")) dialog.show(dialog.dir);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Add any model from its Hugging Face config.json");
    for (const auto& [label, kind] : {std::pair{"Export SVG", ExportRequest::Kind::CurvesSvg},
                                      std::pair{"Export CSV", ExportRequest::Kind::CurvesCsv}}) {
        if (kind == ExportRequest::Kind::CurvesCsv) ImGui::SameLine();
        if (ImGui::Button(label)) {
            ExportRequest r;
            r.kind = kind;
            r.view = kId;
            cmds.exports.push_back(r);
        }
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip(kind == ExportRequest::Kind::CurvesSvg
                                  ? "The chart as an SVG (one path per curve), as `mla-lab plot --out FILE.svg` writes it"
                                  : "Every curve's exact bytes at each context length, one column per curve");
    }

    ImGui::Separator();
    ImGui::TextUnformatted("Attention kinds");
    if (ImGui::Checkbox("own (each model's own)", &settings.own)) dirty = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("The attention each model really has, with its own sizes (thick line)");
    for (CacheKind k : all_cache_kinds()) {
        bool on = has_kind(settings.kinds, k);
        if (ImGui::Checkbox(to_string(k), &on)) {
            if (on) settings.kinds.push_back(k);
            else settings.kinds.erase(std::find(settings.kinds.begin(), settings.kinds.end(), k));
            dirty = true;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\n(the same model with this attention instead: see the notes)", kind_help(k));
    }

    ImGui::Separator();
    ImGui::TextUnformatted("Numbers stored as");
    for (const char* d : {"fp32", "bf16", "fp16", "fp8"}) {
        if (ImGui::RadioButton(d, settings.dtype == d)) {
            settings.dtype = d;
            dirty = true;
        }
        if (std::string(d) != "fp8") ImGui::SameLine();
    }
    const float w = font * 8.5f;
    ImGui::SetNextItemWidth(w);
    if (number_field("batch", &settings.batch, uint64_t{1}, w)) dirty = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Sequences held at once: the cache grows with the batch");
    const uint64_t lo = 2000, hi = 1000000;
    ImGui::SetNextItemWidth(w);
    // Dragging stays in lo..hi; a number typed with Ctrl+click is checked by curves_request.
    if (ImGui::SliderScalar("max tokens", ImGuiDataType_U64, &settings.max_tokens, &lo, &hi, "%llu",
                            ImGuiSliderFlags_Logarithmic))
        dirty = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("The right end of the chart (Ctrl+click to type a number)");
    const std::pair<const char*, uint64_t> quick[] = {{"4k", 4096}, {"32k", 32768}, {"128k", 131072}, {"1M", 1000000}};
    for (const auto& [text, t] : quick) {
        if (ImGui::SmallButton(text)) {
            settings.max_tokens = t;
            dirty = true;
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("max tokens = %s", with_commas(t).c_str());
        if (t != quick[3].second) ImGui::SameLine();
    }
    if (ImGui::RadioButton("log-log", settings.log)) settings.log = true, dirty = true;
    ImGui::SameLine();
    if (ImGui::RadioButton("linear", !settings.log)) settings.log = false, dirty = true;
    if (ImGui::RadioButton("GB (10^9 B)", !settings.gib)) settings.gib = false, dirty = true;
    ImGui::SameLine();
    if (ImGui::RadioButton("GiB (2^30)", settings.gib)) settings.gib = true, dirty = true;

    ImGui::Separator();
    ImGui::SetNextItemWidth(w);
    if (number_field("fits in GB", &settings.fits_gb, 8.0, w)) dirty = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Memory for the cache alone (an H100 has 80 GB, weights not counted)");
    ImGui::SetNextItemWidth(w);
    if (number_field("table at", &settings.table_tokens, uint64_t{1000}, w)) dirty = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Context length (tokens) of the table's size column");
    if (!error.empty()) text_wrapped_colored(pal.warn, "%s", error.c_str());
}

void CurvesView::draw_table(const Frame& f) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    ImGui::Text("Per token, from the formula (the same numbers as `mla-lab cache`); batch %s", with_commas(data.request.batch).c_str());
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit;
    if (ImGui::BeginTable("##curves_table", 4, flags)) {
        const std::string at = "at " + with_commas(settings.table_tokens) + " tokens";
        const std::string fits = "fits in " + capacity_text(settings.fits_gb);
        ImGui::TableSetupColumn("model, attention", ImGuiTableColumnFlags_WidthFixed, font * 10);
        ImGui::TableSetupColumn("per token: numbers x L layers x b bytes", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupColumn(at.c_str(), ImGuiTableColumnFlags_WidthFixed, font * 10);
        ImGui::TableSetupColumn(fits.c_str(), ImGuiTableColumnFlags_WidthFixed, font * 11.5f);
        ImGui::TableHeadersRow();
        for (const CurvesRow& r : data.rows) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            if (r.series >= 0) {  // the curve's colour
                const ImVec2 p = ImGui::GetCursorScreenPos();
                const float y = p.y + ImGui::GetTextLineHeight() * 0.5f;
                ImGui::GetWindowDrawList()->AddLine(ImVec2(p.x, y), ImVec2(p.x + font * 1.2f, y), curve_color(r.series, f.dark),
                                                    font * 0.2f);
                ImGui::Dummy(ImVec2(font * 1.4f, ImGui::GetTextLineHeight()));
                ImGui::SameLine();
            }
            ImGui::TextUnformatted(r.model.c_str());
            ImGui::Indent(font * 1.4f);
            ImGui::TextUnformatted(r.kind.c_str());
            ImGui::Unindent(font * 1.4f);
            ImGui::TableNextColumn();
            ImGui::TextDisabled("%s", r.symbolic.c_str());
            if (f.mono) ImGui::PushFont(f.mono);
            ImGui::TextWrapped("%s", r.row.formula.c_str());
            if (f.mono) ImGui::PopFont();
            ImGui::TableNextColumn();
            ImGui::TextWrapped("%s", r.size.c_str());
            text_wrapped_colored(pal.dim, "%s", r.size_note.c_str());
            ImGui::TableNextColumn();
            ImGui::TextWrapped("%s", r.fits.c_str());
            if (!r.fits_note.empty()) text_wrapped_colored(pal.dim, "%s", r.fits_note.c_str());
        }
        ImGui::EndTable();
    }
    ImGui::TextDisabled("L = layers, b = bytes per number; H query heads, G KV groups, Dh head dim, C latent, Dr RoPE key dim.");
    if (!data.notes.empty() && ImGui::CollapsingHeader("Notes from the calculator")) {
        for (const std::string& n : data.notes) text_wrapped_colored(pal.dim, "- %s", n.c_str());
    }
}

}  // namespace mla::app
