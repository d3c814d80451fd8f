#include "views/attention_view.h"

#include <algorithm>
#include <cmath>

#include "views/view_logic.h"
#include "widgets/colormap.h"

namespace mla::app {

void AttentionView::draw(const Frame& f, Commands& cmds) {
    const Session& s = f.session;
    const int64_t step = f.step;
    if (!f.trace) return empty_state("Step once to see attention: each step adds one query row to every head's map.");
    const Config& c = s.config();
    const int L = static_cast<int>(c.num_hidden_layers), H = static_cast<int>(c.num_attention_heads);
    layer = std::clamp(layer, 0, L - 1);
    head = std::clamp(head, 0, H - 1);
    const auto& traces = s.main().traces;
    const int n = static_cast<int>(step + 1);

    // Rebuild the textures only when the run, the step or the range changed.
    if (built_rev != s.revision() || built_step != step || built_full != full_range ||
        maps.size() != static_cast<size_t>(L * H)) {
        maps.resize(static_cast<size_t>(L * H));
        vmax = 0;
        for (int l = 0; l < L; ++l) vmax = std::max(vmax, attention_max(traces, step, l));
        if (full_range || !(vmax > 0)) vmax = 1;
        for (int l = 0; l < L; ++l)
            for (int h = 0; h < H; ++h) {
                const std::vector<float> m = attention_matrix(traces, step, l, h);
                maps[static_cast<size_t>(l * H + h)].update(m.data(), n, n, 0.0f, vmax, true);
            }
        built_rev = s.revision();
        built_step = step;
        built_full = full_range;
    }

    const float font = ImGui::GetFontSize();
    if (enlarged) {
        if (ImGui::Button("< all heads")) enlarged = false;
        ImGui::SameLine();
        ImGui::SetNextItemWidth(font * 6);
        ImGui::SliderInt("layer", &layer, 0, L - 1);
        ImGui::SameLine();
        ImGui::SetNextItemWidth(font * 6);
        ImGui::SliderInt("head", &head, 0, H - 1);
        ImGui::SameLine();
        if (ImGui::Button("Export head CSV")) {
            ExportRequest r;
            r.kind = ExportRequest::Kind::HeadCsv;
            r.view = kId;
            r.layer = layer;
            r.head = head;
            cmds.exports.push_back(r);
        }
    } else {
        ImGui::TextDisabled("%d layers x %d heads. Rows: query token (one per step), columns: key token. Click a map to enlarge it.", L, H);
    }
    ImGui::SameLine();
    ImGui::Checkbox("colour range 0..1", &full_range);

    const std::vector<const char*>& labels = s.token_cstrs();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float bar_w = font * 5.0f;
    const float readout_h = ImGui::GetTextLineHeightWithSpacing() * 2.2f;
    widgets::HeatmapResult hit;
    int hit_l = -1, hit_h = -1;
    if (enlarged) {
        widgets::HeatmapOptions o;
        o.row_labels = labels.data();
        o.col_labels = labels.data();
        o.row_title = "query";
        o.col_title = "key";
        o.highlight_row = n - 1;
        o.tooltip = !f.exporting;
        o.follow = static_cast<int>(f.follow);
        const float side = std::min(avail.x - bar_w - font, avail.y - readout_h);
        ImGui::BeginGroup();
        hit = maps[static_cast<size_t>(layer * H + head)].draw("##big", ImVec2(side, side), o);
        ImGui::EndGroup();
        hit_l = layer;
        hit_h = head;
        ImGui::SameLine();
        widgets::ColorBar("##bar", ImVec2(bar_w, side * 0.8f), 0.0f, vmax, widgets::AxisFormat::Number, "weight");
    } else {
        const float cell_w = (avail.x - bar_w - font) / static_cast<float>(H);
        const float cell_h = (avail.y - readout_h) / static_cast<float>(L);
        const float side = std::min(cell_w, cell_h - ImGui::GetTextLineHeightWithSpacing()) - font * 0.3f;
        ImGui::BeginGroup();
        for (int l = 0; l < L; ++l) {
            for (int h = 0; h < H; ++h) {
                if (h) ImGui::SameLine();
                ImGui::BeginGroup();
                ImGui::Text("layer %d, head %d", l, h);
                widgets::HeatmapOptions o;
                o.tooltip = !f.exporting;
                o.hover_labels = labels.data();
                o.highlight_row = n - 1;
                o.follow = static_cast<int>(f.follow);
                char id[32];
                std::snprintf(id, sizeof id, "##m%d_%d", l, h);
                const widgets::HeatmapResult r = maps[static_cast<size_t>(l * H + h)].draw(id, ImVec2(side, side), o);
                if (r.hovered) {
                    hit = r;
                    hit_l = l;
                    hit_h = h;
                }
                if (r.clicked) {
                    enlarged = true;
                    layer = l;
                    head = h;
                }
                ImGui::EndGroup();
            }
        }
        ImGui::EndGroup();
        ImGui::SameLine();
        widgets::ColorBar("##bar", ImVec2(bar_w, std::min(avail.y * 0.6f, font * 16)), 0.0f, vmax, widgets::AxisFormat::Number,
                          "weight");
    }
    // Readout: what is under the mouse, in words; the key is followed in the other views.
    if (hit.hovered && hit.col >= 0 && hit.col < n) f.hover_token(hit.col);
    if (hit.hovered && hit.row >= 0 && hit.col >= 0 && hit.row < n && hit.col < n) {
        if (hit.masked)
            ImGui::Text("layer %d, head %d: query %s (step %d) cannot see key %s (step %d): it comes later (causal mask)", hit_l,
                        hit_h, labels[static_cast<size_t>(hit.row)], hit.row + 1, labels[static_cast<size_t>(hit.col)], hit.col + 1);
        else
            ImGui::Text("layer %d, head %d: query %s (step %d) -> key %s (step %d): weight %.4f", hit_l, hit_h,
                        labels[static_cast<size_t>(hit.row)], hit.row + 1, labels[static_cast<size_t>(hit.col)], hit.col + 1, hit.value);
    } else {
        ImGui::TextDisabled("Each row sums to 1 (softmax over the keys the query can see). Colour range 0 to %.3g; the "
                            "last row is the current step. Hover a cell for its weight.", vmax);
    }
}

}  // namespace mla::app
