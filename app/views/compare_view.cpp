#include "views/compare_view.h"

#include <array>

#include <algorithm>
#include <cmath>

#include "views/view_logic.h"
#include "widgets/colormap.h"

namespace mla::app {

namespace {

const AttnKind kKinds[] = {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA};

// Query heads on top, the keys and values they read below, a line from each head to its source.
// The sentence under a column's diagram.
const char* reads_note(const Config& c) {
    const int64_t H = c.num_attention_heads, S = c.num_key_value_heads;
    return c.is_mla() ? "one latent for all heads; W_UK,h and W_UV,h give each head its own K and V"
           : S == H   ? "every head has its own K and V"
           : S == 1   ? "all heads share one K and one V"
                      : "heads in a group share K and V";
}

void reads_diagram(ImDrawList* dl, ImVec2 p, float w, const Config& c, int selected_head, const Frame& f) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    const int H = static_cast<int>(c.num_attention_heads);
    const auto readers = kv_readers(c);
    const int S = static_cast<int>(readers.size());
    const float y0 = p.y + font * 1.2f, y1 = p.y + font * 4.2f;
    auto head_x = [&](int h) { return p.x + w * (static_cast<float>(h) + 0.5f) / static_cast<float>(H); };
    const float box_w = std::min(w / static_cast<float>(S) - font * 0.4f, font * 7.0f);
    auto src_x = [&](int g) { return p.x + w * (static_cast<float>(g) + 0.5f) / static_cast<float>(S); };
    for (int g = 0; g < S; ++g)
        for (int h : readers[static_cast<size_t>(g)]) {
            const bool sel = h == selected_head;
            dl->AddLine(ImVec2(head_x(h), y0 + font * 0.5f), ImVec2(src_x(g), y1), sel ? pal.warn : pal.dim, sel ? 3.0f : 1.5f);
        }
    for (int h = 0; h < H; ++h) {
        dl->AddCircleFilled(ImVec2(head_x(h), y0), font * 0.5f, h == selected_head ? pal.warn : widgets::categorical_color(5));
        char lab[16];
        std::snprintf(lab, sizeof lab, "q%d", h);
        const ImVec2 ls = ImGui::CalcTextSize(lab);
        dl->AddText(ImVec2(head_x(h) - ls.x * 0.5f, y0 - font * 1.55f), pal.dim, lab);
    }
    for (int g = 0; g < S; ++g) {
        const ImVec2 a(src_x(g) - box_w * 0.5f, y1), b(src_x(g) + box_w * 0.5f, y1 + font * 1.5f);
        const ImU32 col = widgets::categorical_color(c.is_mla() ? 2 : 1);
        dl->AddRectFilled(a, b, (col & ~IM_COL32_A_MASK) | (90u << IM_COL32_A_SHIFT));
        dl->AddRect(a, b, col, 0, 0, 1.5f);
        char lab[32];
        if (c.is_mla()) std::snprintf(lab, sizeof lab, "c_KV + k_R");
        else if (S == 1) std::snprintf(lab, sizeof lab, "K, V");
        else std::snprintf(lab, sizeof lab, S == H ? "K,V %d" : "K,V g%d", g);
        ImVec2 ls = ImGui::CalcTextSize(lab);
        if (ls.x > box_w - font * 0.2f && !c.is_mla() && S > 1) {  // a narrow box: the number alone
            std::snprintf(lab, sizeof lab, S == H ? "%d" : "g%d", g);
            ls = ImGui::CalcTextSize(lab);
        }
        dl->AddText(ImVec2(src_x(g) - ls.x * 0.5f, y1 + font * 0.2f), pal.text, lab);
    }
    dl->AddText(ImGui::GetFont(), font, ImVec2(p.x, y1 + font * 1.8f), pal.dim, reads_note(c), nullptr, w);  // wrapped to the column
}

}  // namespace

void CompareView::draw(const Frame& f, Commands& cmds) {
    (void)cmds;
    const Session& s = f.session;
    if (!s.has_compare()) return empty_state("The compare lanes are not running in this session.");
    const int64_t step = f.step;
    if (step < 0) return empty_state("Step once: MHA, GQA, MQA and MLA then read the same token, side by side.");
    const Config& c0 = s.compare(AttnKind::MHA).cfg;
    const int L = static_cast<int>(c0.num_hidden_layers), H = static_cast<int>(c0.num_attention_heads);
    const float font = ImGui::GetFontSize();
    ImGui::SetNextItemWidth(font * 6);
    ImGui::SliderInt("layer", &layer, 0, L - 1);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 6);
    ImGui::SliderInt("query head", &head, 0, H - 1);
    ImGui::SameLine();
    text_wrapped_colored(palette(f.dark).dim, "  the same tokens in lockstep; each kind runs its own model");
    layer = std::clamp(layer, 0, L - 1);
    head = std::clamp(head, 0, H - 1);
    const int n = static_cast<int>(step + 1);

    if (built_rev != s.revision() || built_step != step || built_layer != layer || built_head != head || maps.size() != 4) {
        maps.resize(4);
        vmax = 0;
        std::vector<std::vector<float>> ms;
        for (AttnKind k : kKinds) {
            ms.push_back(attention_matrix(s.compare(k).traces, step, layer, head));
            for (float v : ms.back())
                if (v == v) vmax = std::max(vmax, v);
        }
        if (!(vmax > 0)) vmax = 1;
        for (int i = 0; i < 4; ++i) maps[static_cast<size_t>(i)].update(ms[static_cast<size_t>(i)].data(), n, n, 0.0f, vmax, true);
        built_rev = s.revision();
        built_step = step;
        built_layer = layer;
        built_head = head;
    }

    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float bar_w = font * 4.5f;
    const float col_w = (avail.x - bar_w) / 4.0f - ImGui::GetStyle().ItemSpacing.x;
    const float table_h = ImGui::GetTextLineHeightWithSpacing() * 7.5f;
    float note_h = 0;  // the tallest wrapped note, so the four columns stay aligned
    for (int i = 0; i < 4; ++i)
        note_h = std::max(note_h, ImGui::CalcTextSize(reads_note(s.compare(kKinds[i]).cfg), nullptr, false, col_w).y);
    const float diag_h = font * 6.3f + note_h;
    const float side = std::max(font * 6, std::min(col_w, avail.y - table_h - diag_h - font * 2.5f));
    double mha_bytes = 0;
    widgets::HeatmapResult hit;
    int hit_k = -1;
    // Each column's title and weights line, and the tallest of them: the maps start level.
    std::array<std::string, 4> titles;
    float header_h = 0;
    for (int i = 0; i < 4; ++i) {
        const Config& c = s.compare(kKinds[i]).cfg;
        char buf[96];
        if (c.is_mla())
            std::snprintf(buf, sizeof buf, "%s (d_c = %lld, d_r = %lld)", display_name(kKinds[i]), static_cast<long long>(c.kv_lora_rank),
                          static_cast<long long>(c.qk_rope_head_dim));
        else
            std::snprintf(buf, sizeof buf, "%s (%lld KV head%s)", display_name(kKinds[i]), static_cast<long long>(c.num_key_value_heads),
                          c.num_key_value_heads == 1 ? "" : "s");
        titles[static_cast<size_t>(i)] = buf;
        header_h = std::max(header_h, ImGui::CalcTextSize(buf, nullptr, false, col_w).y +
                                          ImGui::CalcTextSize(s.compare(kKinds[i]).weights_desc.c_str(), nullptr, false, col_w).y +
                                          ImGui::GetStyle().ItemSpacing.y * 2);
    }
    for (int i = 0; i < 4; ++i) {
        const Lane& lane = s.compare(kKinds[i]);
        const Trace* t = lane.trace(step);
        if (i) ImGui::SameLine();
        ImGui::BeginGroup();
        const float y_top = ImGui::GetCursorPosY();
        // Narrow panels (the lesson's live view) wrap the text inside the column instead of widening it.
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + col_w);
        const Config& c = lane.cfg;
        text_wrapped_colored(kind_text_color(kKinds[i], f.dark), "%s", titles[static_cast<size_t>(i)].c_str());
        text_wrapped_colored(palette(f.dark).dim, "%s", lane.weights_desc.c_str());
        ImGui::SetCursorPosY(std::max(ImGui::GetCursorPosY(), y_top + header_h));
        widgets::HeatmapOptions o;
        o.tooltip = !f.exporting;
        o.hover_labels = s.token_cstrs().data();
        o.highlight_row = n - 1;
        o.follow = static_cast<int>(f.follow);
        char id[16];
        std::snprintf(id, sizeof id, "##cmp%d", i);
        const widgets::HeatmapResult r = maps[static_cast<size_t>(i)].draw(id, ImVec2(side, side), o);
        if (r.hovered) {
            if (r.col >= 0) f.hover_token(r.col);
            hit = r;
            hit_k = i;
        }
        const ImVec2 p = ImGui::GetCursorScreenPos();
        reads_diagram(ImGui::GetWindowDrawList(), p, col_w, c, head, f);
        ImGui::Dummy(ImVec2(col_w, diag_h));
        if (t) {
            const double bytes = t->cost.cache_bytes(4);
            if (i == 0) mha_bytes = bytes;
            const int64_t per = cache_elements_per_token(c, lane.opt.mla_path);
            ImGui::TextWrapped("cache: %s", fmt_bytes(bytes).c_str());
            // a bar relative to MHA
            const ImVec2 b0 = ImGui::GetCursorScreenPos();
            const float frac = mha_bytes > 0 ? static_cast<float>(bytes / mha_bytes) : 1.0f;
            ImGui::GetWindowDrawList()->AddRectFilled(b0, ImVec2(b0.x + col_w * 0.9f * std::min(frac, 1.0f), b0.y + font * 0.6f),
                                                      widgets::categorical_color(c.is_mla() ? 2 : 1));
            ImGui::Dummy(ImVec2(col_w, font * 0.7f));
            ImGui::TextWrapped("%lld numbers / token / layer (%.0f%% of MHA)", static_cast<long long>(per), 100.0 * frac);
            ImGui::TextWrapped("step FLOPs: %s", fmt_count(t->cost.flops()).c_str());
            double attn = 0;
            for (const LayerCost& lc : t->cost.layers) attn += lc.attn_flops;
            ImGui::TextWrapped("attention FLOPs: %s", fmt_count(attn).c_str());
            ImGui::TextWrapped("cache read: %s B", fmt_count(t->cost.cache_read_bytes()).c_str());
        }
        ImGui::PopTextWrapPos();
        ImGui::EndGroup();
    }
    ImGui::SameLine();
    widgets::ColorBar("##cbar", ImVec2(bar_w, side * 0.8f), 0.0f, vmax, widgets::AxisFormat::Number, "weight");
    const auto& labels = s.token_cstrs();
    if (hit.hovered && hit.row >= 0 && hit.col >= 0 && hit.row < n && hit.col < n && !hit.masked)
        ImGui::Text("%s, layer %d, head %d: query %s (step %d) -> key %s (step %d): weight %.4f", display_name(kKinds[hit_k]), layer, head,
                    labels[static_cast<size_t>(hit.row)], hit.row + 1, labels[static_cast<size_t>(hit.col)], hit.col + 1, hit.value);
    else
        ImGui::TextDisabled("Rows: query token, columns: key token (causal). Colour range 0 to %.3g, shared by the four maps.", vmax);
}

}  // namespace mla::app
