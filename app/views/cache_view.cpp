#include "views/cache_view.h"

#include <algorithm>
#include <cmath>

#include "views/cache_dtype_panel.h"
#include "views/view_logic.h"
#include "widgets/colormap.h"
#include "widgets/plot.h"

namespace mla::app {

namespace {

ImU32 slab_color(SlabPart p) {
    switch (p) {
        case SlabPart::Key: return widgets::categorical_color(1);
        case SlabPart::Value: return widgets::categorical_color(0);
        case SlabPart::Latent: return widgets::categorical_color(2);
        case SlabPart::RopeKey: return widgets::categorical_color(3);
    }
    return widgets::categorical_color(4);
}

ImU32 alpha(ImU32 c, int a) { return (c & ~IM_COL32_A_MASK) | (static_cast<ImU32>(a) << IM_COL32_A_SHIFT); }

// The tooltip of row r (token r) of slab i in `layer`: the token and the first numbers of
// what that step appended, read from its trace ("k", "v", "c_kv", "k_rope" of the layer; the
// slab's row in it is its index among the slabs of the same part).
void tooltip_slab_row(const Frame& f, const std::vector<Slab>& slabs, size_t i, int layer, int64_t r) {
    const Session& s = f.session;
    const char* name = slabs[i].part == SlabPart::Key      ? "k"
                       : slabs[i].part == SlabPart::Value  ? "v"
                       : slabs[i].part == SlabPart::Latent ? "c_kv"
                                                           : "k_rope";
    int64_t row = 0;
    for (size_t j = 0; j < i; ++j) row += slabs[j].part == slabs[i].part;
    const auto& labels = s.token_labels();
    std::string text = "'" + (r < static_cast<int64_t>(labels.size()) ? labels[static_cast<size_t>(r)] : std::string("?")) +
                       "' (step " + std::to_string(r + 1) + "): row " + std::to_string(r) + " of " + slabs[i].label +
                       ", layer " + std::to_string(layer);
    const Trace* t = s.main().trace(r);
    const TensorRecord* rec = t ? t->find(name, layer) : nullptr;
    if (rec && row < rec->shape[0]) {
        const int64_t cols = rec->shape[1], shown = std::min<int64_t>(cols, 6);
        char buf[32];
        text += "\nfirst numbers:";
        for (int64_t c = 0; c < shown; ++c) {
            std::snprintf(buf, sizeof buf, " %.3f", rec->data[static_cast<size_t>(row * cols + c)]);
            text += buf;
        }
        text += cols > shown ? " ... (" + std::to_string(cols) + " in all, as computed in fp32)" : " (as computed in fp32)";
    }
    ImGui::SetTooltip("%s", text.c_str());
}

// One layer's slabs in the rectangle [p, p + size]: query heads on top with a line to each
// slab they read, then the slabs (height = tokens, width = numbers per token), labels under.
void draw_layer(ImDrawList* dl, ImVec2 p, ImVec2 size, const std::vector<Slab>& slabs, const Config& c, float unit_w,
                float row_h, int64_t T, const Frame& f, int layer, const char* title, float mha_w) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    dl->AddText(p, pal.text, title);
    const float heads_y = p.y + font * 2.6f;  // the heads' labels sit 1.6 lines above, under the title
    const float slab_y = heads_y + font * 2.6f;
    const int H = static_cast<int>(c.num_attention_heads);
    // slab x positions
    std::vector<float> sx(slabs.size());
    const float gap = font * 0.5f;
    float x = p.x;
    for (size_t i = 0; i < slabs.size(); ++i) {
        if (i > 0 && slabs[i].part != slabs[i - 1].part && (slabs[i].part == SlabPart::Value)) x += gap * 1.5f;
        sx[i] = x;
        x += std::max(3.0f, unit_w * static_cast<float>(slabs[i].cols)) + gap;
    }
    // query heads: spread over the width used by the slabs
    const float used = std::max(x - gap - p.x, font * 2.2f * static_cast<float>(H));
    std::vector<ImVec2> hp(static_cast<size_t>(H));
    for (int h = 0; h < H; ++h) {
        hp[static_cast<size_t>(h)] = ImVec2(p.x + used * (static_cast<float>(h) + 0.5f) / static_cast<float>(H), heads_y);
    }
    const float slab_h = std::max(2.0f, row_h * static_cast<float>(T));
    float label_end = -1e9f;
    if (mha_w > 0 && x - gap < p.x + mha_w - 1) {
        // What MHA would hold for the same tokens, as a faint outline behind.
        const ImVec2 a(p.x - font * 0.2f, slab_y - font * 0.2f), b(p.x + mha_w + font * 0.2f, slab_y + slab_h + font * 0.2f);
        dl->AddRect(a, b, pal.faint, 4.0f, 0, 1.0f);
    }
    for (size_t i = 0; i < slabs.size(); ++i) {
        const float w = std::max(3.0f, unit_w * static_cast<float>(slabs[i].cols));
        const ImVec2 a(sx[i], slab_y), b(sx[i] + w, slab_y + slab_h);
        const ImU32 col = slab_color(slabs[i].part);
        // lines from every query head that reads this slab
        for (int h : slabs[i].readers)
            dl->AddLine(ImVec2(hp[static_cast<size_t>(h)].x, heads_y + font * 0.5f), ImVec2((a.x + b.x) * 0.5f, a.y), alpha(col, 150),
                        1.5f);
        dl->AddRectFilled(a, b, alpha(col, 90));
        if (row_h >= 4.0f)
            for (int64_t r = 1; r < T; ++r)
                dl->AddLine(ImVec2(a.x, a.y + row_h * static_cast<float>(r)), ImVec2(b.x, a.y + row_h * static_cast<float>(r)),
                            alpha(col, 70));
        // the row this step appended
        dl->AddRectFilled(ImVec2(a.x, b.y - std::max(2.0f, row_h)), b, pal.warn);
        dl->AddRect(a, b, col, 0, 0, 1.5f);
        // The followed token's row, in every slab of every layer.
        if (f.follow >= 0 && f.follow < T) {
            const float fy = a.y + slab_h * static_cast<float>(f.follow) / static_cast<float>(T);
            dl->AddRectFilled(ImVec2(a.x, fy), ImVec2(b.x, fy + std::max(2.0f, slab_h / static_cast<float>(T))), alpha(pal.text, 110));
        }
        // Hover: the row's token and the first numbers it holds (from that step's trace).
        const ImVec2 mouse = ImGui::GetIO().MousePos;
        if (!f.exporting && ImGui::IsWindowHovered() && mouse.x >= a.x && mouse.x < b.x && mouse.y >= a.y && mouse.y < b.y) {
            const int64_t r = std::clamp<int64_t>(static_cast<int64_t>((mouse.y - a.y) / std::max(row_h, slab_h / static_cast<float>(T))), 0, T - 1);
            const float ry = a.y + slab_h * static_cast<float>(r) / static_cast<float>(T);
            dl->AddRect(ImVec2(a.x - 2, ry - 1), ImVec2(b.x + 2, ry + std::max(2.0f, slab_h / static_cast<float>(T)) + 1), pal.text, 0, 0, 2.0f);
            tooltip_slab_row(f, slabs, i, layer, r);
            f.hover_token(r);
        }
        // Two short lines under the slab: what it is ("K", "c_KV") and whose ("h0", "g1", "all");
        // moved down a step when they would run into the previous slab's labels.
        const std::string& lab = slabs[i].label;
        const size_t sp = lab.find(' ');
        std::string what = lab.substr(0, sp), whose;
        if (slabs[i].readers.size() == 1) whose = std::string("h").append(std::to_string(slabs[i].readers[0]));
        else if (static_cast<int>(slabs[i].readers.size()) == H) whose = "all";
        else if (slabs[i].group >= 0) whose = std::string("g").append(std::to_string(slabs[i].group));
        const float lw = std::max(ImGui::CalcTextSize(what.c_str()).x, ImGui::CalcTextSize(whose.c_str()).x);
        const float lx0 = (a.x + b.x - lw) * 0.5f;
        const float drop = lx0 < label_end ? font * 2.3f : 0.0f;
        label_end = drop > 0 ? label_end : lx0 + lw + font * 0.2f;
        for (int k = 0; k < 2; ++k) {
            const std::string& line = k == 0 ? what : whose;
            const ImVec2 ls = ImGui::CalcTextSize(line.c_str());
            dl->AddText(ImVec2((a.x + b.x - ls.x) * 0.5f, b.y + drop + font * (0.2f + 1.1f * static_cast<float>(k))),
                        k ? pal.dim : pal.text, line.c_str());
        }
        char dims[48];
        std::snprintf(dims, sizeof dims, "%lld x %lld", static_cast<long long>(slabs[i].rows), static_cast<long long>(slabs[i].cols));
        const ImVec2 ds = ImGui::CalcTextSize(dims);
        if (ds.x <= w + gap && slabs.size() <= 4) dl->AddText(ImVec2((a.x + b.x - ds.x) * 0.5f, b.y + font * 2.4f), pal.dim, dims);
    }
    for (int h = 0; h < H; ++h) {
        const ImVec2 c0 = hp[static_cast<size_t>(h)];
        dl->AddCircleFilled(c0, font * 0.55f, widgets::categorical_color(5));
        char lab[16];
        std::snprintf(lab, sizeof lab, "h%d", h);
        const ImVec2 ls = ImGui::CalcTextSize(lab);
        dl->AddText(ImVec2(c0.x - ls.x * 0.5f, c0.y - font * 1.6f), pal.dim, lab);
    }
    (void)size;
}

}  // namespace

void CacheView::draw(const Frame& f, Commands& cmds) {
    const Trace* t = f.trace;
    const Session& s = f.session;
    const Palette pal = palette(f.dark);
    if (!t) return empty_state("Step once to see the cache grow: each token adds one row to every layer's cache.");
    const Config& c = s.config();
    const RunOptions& o = t->options;
    const int64_t T = t->position + 1;  // tokens seen (the no-cache mode holds none between steps)
    const int L = static_cast<int>(c.num_hidden_layers);
    const float font = ImGui::GetFontSize();
    // Narrow (a tile, a lesson page, a large UI scale): the slabs above the charts, scrolled,
    // each part at a size it can be read at; wide: side by side, filling the view.
    const Panes panes = begin_panes("##cache_scroll", 46, 0.5f, 26);
    const bool stacked = panes.stacked;
    const ImVec2 avail = panes.avail;
    const float left_w = panes.left_w;

    // Layers side by side while each column still has room for its query heads (2.2 characters
    // each) and its title; else fewer per row.
    const float head_row = font * (2.2f * static_cast<float>(c.num_attention_heads) + 1.5f);
    const int fit = std::max(1, static_cast<int>((left_w - font) / std::max(head_row, font * 12.0f)));
    const int per_row = std::min(L <= 3 ? L : 2, fit);
    const int rows = (L + per_row - 1) / per_row;
    constexpr float kMinCell = 11.0f;  // fonts: the title, the heads, a few rows of slab, the labels

    // ---- left: the slabs of every layer (stacked: as tall as they need, the view scrolls)
    const float slabs_h = stacked ? std::max(avail.y, font * (9.0f + kMinCell * static_cast<float>(rows))) : avail.y;
    ImGui::BeginChild("##slabs", ImVec2(left_w, slabs_h), false,
                      stacked ? ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse : 0);
    const auto slabs = cache_slabs(c, o, T);
    const int64_t per_token = cache_elements_per_token(c, o.mla_path);
    const double vb = cache_dtype_bytes(o.cache_dtype);   // bytes per stored value
    const char* dt = to_string(o.cache_dtype);
    const double held = static_cast<double>(t->cost.cache_elements()) * vb;
    if (o.no_cache) {
        ImGui::TextWrapped("No cache: nothing is held between steps. Every step re-runs all %lld tokens "
                           "(see the FLOPs chart: the work per step grows with T instead of staying flat).",
                           static_cast<long long>(T));
    } else {
        ImGui::TextWrapped("After %lld tokens each layer holds %lld x %lld = %s numbers.", static_cast<long long>(T),
                    static_cast<long long>(T), static_cast<long long>(per_token), fmt_count(static_cast<double>(T * per_token)).c_str());
        if (o.cache_dtype == CacheDtype::F32) ImGui::TextWrapped("All %d layers, fp32: %s", L, fmt_bytes(held).c_str());
        else
            ImGui::TextWrapped("All %d layers, %s: %s (fp32 would hold %s)", L, dt, fmt_bytes(held).c_str(),
                        fmt_bytes(static_cast<double>(t->cost.cache_elements()) * 4.0).c_str());
        const char* what = c.is_mla() ? (o.mla_path == MlaPath::CachedKV ? "MLA run the cached-kv way: per-head K = [k_nope ; k_rope] and V, as MHA would"
                                                                        : "MLA: one thin latent c_KV and one RoPE key k_R, read by all heads")
                           : c.num_key_value_heads == c.num_attention_heads ? "MHA: K and V for every query head"
                           : c.num_key_value_heads == 1                     ? "MQA: one K and one V read by all heads"
                                                                            : "GQA: one K and V per group, shared by the heads of the group";
        text_wrapped_colored(pal.dim, "%s", what);
        if (o.cache_dtype != CacheDtype::F32) {
            ImGui::Separator();
            cache_dtype_effect(f, cmds, false);
            ImGui::Separator();
        }
    }
    ImGui::Spacing();
    if (!slabs.empty()) {
        // Width: the MHA cache of this model (2 H Dh numbers per token) fills a layer's column,
        // so thinner caches look thinner. Height: one row per token, squeezed to fit.
        const int64_t mha_width = cache_elements_per_token(model_config(s.settings(), AttnKind::MHA), MlaPath::Absorbed);
        const int64_t widest = std::max<int64_t>(mha_width, per_token);
        const ImVec2 area = ImGui::GetContentRegionAvail();

        const float col_w = (area.x - font) / static_cast<float>(per_row);
        // MHA's 2H slabs with their gaps must fit a column: that sets the unit.
        const float mha_gaps = font * 0.5f * static_cast<float>(2 * c.num_attention_heads) + font * 0.75f;
        const float gaps = std::max(mha_gaps, font * 0.5f * static_cast<float>(slabs.size()) + font * 0.75f);
        const float unit_w = std::max(0.5f, (col_w - gaps - font * 1.2f) / static_cast<float>(widest));
        const float cell_h = std::max(font * kMinCell, (area.y - font * 0.5f) / static_cast<float>(rows));
        const float slab_space = std::max(font * 2.0f, cell_h - font * 9.0f);
        const float row_h = std::min(font * 1.0f, slab_space / static_cast<float>(std::max<int64_t>(T, 16)));
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
        ImGui::TextWrapped("orange row: appended by this step; lines: the query heads that read each slab%s",
                           per_token < mha_width ? "; grey outline: what MHA would hold" : "");
        ImGui::PopStyleColor();
        ImDrawList* dl = ImGui::GetWindowDrawList();
        const ImVec2 p0 = ImGui::GetCursorScreenPos();
        for (int l = 0; l < L; ++l) {
            const ImVec2 p(p0.x + font * 0.4f + col_w * static_cast<float>(l % per_row), p0.y + cell_h * static_cast<float>(l / per_row));
            char title[96];
            const int64_t el = l < static_cast<int>(t->cache_elements_per_layer.size()) ? t->cache_elements_per_layer[static_cast<size_t>(l)]
                                                                                          : T * per_token;
            const double layer_bytes = static_cast<double>(el) * vb;
            std::snprintf(title, sizeof title, "layer %d: %s", l, fmt_bytes(layer_bytes).c_str());
            if (ImGui::CalcTextSize(title).x > col_w - font * 0.6f) {  // a narrow column: the short form
                if (layer_bytes < 1024) std::snprintf(title, sizeof title, "layer %d: %.0f B", l, layer_bytes);
                else if (layer_bytes < 1048576) std::snprintf(title, sizeof title, "layer %d: %.3g KiB", l, layer_bytes / 1024);
                else std::snprintf(title, sizeof title, "layer %d: %.3g MiB", l, layer_bytes / 1048576);
            }
            draw_layer(dl, p, ImVec2(col_w, cell_h), slabs, c, unit_w, row_h, T, f, l, title,
                       unit_w * static_cast<float>(mha_width) + mha_gaps - font * 0.5f);
        }
        ImGui::Dummy(ImVec2(area.x - font, std::max(area.y - font, cell_h * static_cast<float>(rows) - font * 0.5f)));
    }
    ImGui::EndChild();
    if (!stacked) ImGui::SameLine();

    // ---- right: bytes vs tokens for all kinds, and FLOPs with and without the cache
    ImGui::BeginChild("##charts", ImVec2(stacked ? avail.x : 0, avail.y), false);
    const float chart_w = ImGui::GetContentRegionAvail().x;
    const float chart_h = std::max(font * 14, (ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing() * 6.0f) * 0.5f);
    const int64_t maxT = std::max<int64_t>(128, T * 2);
    if (memo_.revision != s.revision() || memo_.max_T != maxT) {  // once per step, not per frame
        memo_.revision = s.revision();
        memo_.max_T = maxT;
        memo_.bytes = cache_bytes_series(s.settings(), maxT, vb);
        memo_.flops = flops_series(c, o, maxT);
    }
    const std::vector<Series>& series = memo_.bytes;
    widgets::PlotAxes ax;
    char title[96];
    std::snprintf(title, sizeof title, "KV cache bytes vs tokens (all layers, %s), same model", dt);
    if (ImGui::CalcTextSize(title).x > chart_w - font * 6) std::snprintf(title, sizeof title, "KV cache bytes vs tokens (%s)", dt);
    ax.title = title;
    ax.x = {"tokens T", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    ax.y = {"cache", log_bytes ? widgets::AxisScale::Log10 : widgets::AxisScale::Linear, widgets::AxisFormat::BytesBinary};
    ax.y.include_zero = !log_bytes;
    if (widgets::BeginPlot("##cachebytes", ImVec2(-1, chart_h), ax)) {
        static const AttnKind kinds[] = {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA};  // cache_bytes_series' order
        for (size_t i = 0; i < series.size() && i < 4; ++i)
            widgets::PlotLine(series[i].label.c_str(), series[i].x.data(), series[i].y.data(), static_cast<int>(series[i].x.size()),
                              kind_color(kinds[i]));
        if (!o.no_cache) widgets::PlotMarker(static_cast<double>(T), held, "this run");
        widgets::EndPlot();
    }
    ImGui::Checkbox("log scale", &log_bytes);
    // Its own line: ImGui would wrap a narrow line after the comma inside "1,536".
    text_wrapped_colored(pal.dim, "bytes per token, all layers: MHA %s, MLA %s",
                         fmt_count(series[0].y.back() / static_cast<double>(series[0].x.back())).c_str(),
                         fmt_count(series[3].y.back() / static_cast<double>(series[3].x.back())).c_str());

    const std::vector<Series>& fl = memo_.flops;
    RunOptions with = o, without = o;
    with.no_cache = false;
    without.no_cache = true;
    const double f_with = step_cost(c, with, T).flops(), f_without = step_cost(c, without, T).flops();
    widgets::PlotAxes fx;
    // Centred over the plot area, which is narrower than the chart by the axis labels.
    fx.title = "FLOPs per step";  // the longest of these that fits
    for (const char* t : {"Article section 1: FLOPs of one step, with and without the KV cache",
                          "FLOPs of one step, with and without the cache", "FLOPs per step, cache or not"})
        if (ImGui::CalcTextSize(t).x <= chart_w - font * 6) {
            fx.title = t;
            break;
        }
    fx.x = {"tokens T", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    fx.y = {"FLOPs", widgets::AxisScale::Log10, widgets::AxisFormat::SI};
    if (widgets::BeginPlot("##flops", ImVec2(-1, chart_h), fx)) {
        widgets::PlotLine(fl[0].label.c_str(), fl[0].x.data(), fl[0].y.data(), static_cast<int>(fl[0].x.size()), widgets::categorical_color(2));
        widgets::PlotLine(fl[1].label.c_str(), fl[1].x.data(), fl[1].y.data(), static_cast<int>(fl[1].x.size()), widgets::categorical_color(3));
        widgets::PlotMarker(static_cast<double>(T), o.no_cache ? f_without : f_with, "this step");
        widgets::EndPlot();
    }
    ImGui::TextWrapped("This step (T = %lld): %s with the cache, %s without (x%.1f).", static_cast<long long>(T),
                fmt_flops(f_with).c_str(), fmt_flops(f_without).c_str(), f_without / f_with);
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(pal.dim));
    ImGui::TextWrapped("Without a cache every step recomputes K and V of all earlier tokens: the total work of a run grows "
                       "with T^2 instead of T. The cache trades that work for memory, which MLA then shrinks.");
    ImGui::PopStyleColor();
    ImGui::EndChild();
    end_panes(panes);
}

}  // namespace mla::app
