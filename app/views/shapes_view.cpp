#include "views/shapes_view.h"

#include <algorithm>

#include "views/diagram.h"
#include "views/view_logic.h"

namespace mla::app {

void ShapesView::draw(const Frame& f, Commands& cmds) {
    (void)cmds;
    const Trace* t = f.trace;
    if (!t) {
        empty_state("Step once to see the shapes of one attention layer for the new token "
                    "(press Step or the right-arrow key).");
        return;
    }
    const Config& c = f.session.config();
    const int L = static_cast<int>(c.num_hidden_layers);
    layer = std::clamp(layer, 0, L - 1);

    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    ImGui::SliderInt("layer", &layer, 0, L - 1);
    ImGui::SameLine();
    const LayerCost* lc = layer < static_cast<int>(t->cost.layers.size()) ? &t->cost.layers[static_cast<size_t>(layer)] : nullptr;
    // One block to the right of the slider, wrapped where the view is narrow.
    std::string caption = step_caption(*t);
    if (lc) {
        caption += "; this layer: attention " + fmt_flops(lc->attn_flops);
        caption += t->options.no_cache ? ", nothing held between steps"
                                       : ", cache held " + fmt_bytes(static_cast<double>(lc->cache_elements) *
                                                                     cache_dtype_bytes(t->options.cache_dtype));
    }
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(caption.c_str());
    ImGui::PopTextWrapPos();

    const Diagram d = shapes_diagram(c, t->options, t->position);
    int equations = 0;
    for (const DiagramNode& n : d.nodes) equations += n.equation.empty() ? 0 : 1;
    const float line = ImGui::GetTextLineHeightWithSpacing();
    const float avail = ImGui::GetContentRegionAvail().y;
    const float eq_h = show_equations ? std::min(avail * 0.4f, line * (static_cast<float>(std::min(equations, 10)) + 1.8f)) : line * 1.4f;
    draw_diagram("##shapes", d, t, layer, ImVec2(-1, std::max(line * 8, avail - eq_h)), f);

    ImGui::Checkbox("equations (current sizes)", &show_equations);
    if (!show_equations) return;
    if (ImGui::BeginTable("##eq", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_SizingFixedFit,
                          ImVec2(0, ImGui::GetContentRegionAvail().y))) {
        ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
        ImGui::TableSetupColumn("equation", ImGuiTableColumnFlags_WidthStretch);
        int k = 0;
        for (const DiagramNode& n : d.nodes) {
            if (n.equation.empty()) continue;
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::Text("(%d)", ++k);
            ImGui::TableNextColumn();
            if (f.mono) ImGui::PushFont(f.mono);
            ImGui::TextUnformatted(n.equation.c_str());
            if (f.mono) ImGui::PopFont();
        }
        ImGui::EndTable();
    }
}

}  // namespace mla::app
