#include "views/predictions_view.h"

#include <algorithm>
#include <cstdio>

#include "views/view_logic.h"
#include "widgets/colormap.h"

namespace mla::app {

namespace {

// A probability bar `width` wide: filled to p, the figure beside it.
void prob_bar(double p, float width, ImU32 fill, const Palette& pal) {
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const float h = ImGui::GetTextLineHeight();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(p0, ImVec2(p0.x + width, p0.y + h), pal.panel);
    if (p > 0) dl->AddRectFilled(p0, ImVec2(p0.x + width * static_cast<float>(std::min(1.0, p)), p0.y + h), fill);
    ImGui::Dummy(ImVec2(width, h));
    ImGui::SameLine();
    if (p > 0) ImGui::Text("%5.1f%%", 100.0 * p);
    else ImGui::TextDisabled("  cut");
}

}  // namespace

void PredictionsView::draw(const Frame& f, Commands& cmds) {
    (void)cmds;
    const Session& s = f.session;
    const Palette pal = palette(f.dark);
    const int64_t step = f.step;
    if (!f.trace || step < 0) return empty_state("Step once: the model then predicts the next byte, and this view shows its guesses.");
    const ModelSettings& ms = s.settings();
    const Sampling sampling{ms.temperature, ms.top_k, ms.top_p};
    const int64_t V = s.config().vocab_size;
    const std::vector<PredictionRow> rows = prediction_rows(trace_logits(f.trace), sampling, 10);
    if (rows.empty()) return empty_state("This step kept no logits.");
    const int64_t next = s.predicted(step);
    const bool prompt_next = step + 1 < s.prompt_length();   // the byte fed next comes from the prompt
    const int64_t fed_next = prompt_next ? static_cast<unsigned char>(ms.prompt[static_cast<size_t>(step + 1)])
                             : step + 1 < s.steps() ? s.tokens()[static_cast<size_t>(step + 1)] : -1;

    const std::string fed = token_text(s.tokens()[static_cast<size_t>(step)], TokenStyle::Label, V);
    ImGui::Text("After step %lld (fed '%s'): the ten most likely next bytes", static_cast<long long>(step + 1), fed.c_str());
    ImGui::PushTextWrapPos(0);
    if (prompt_next) {
        const std::string want = token_text(fed_next, TokenStyle::Label, V);
        text_wrapped_colored(pal.dim, "Inside the prompt: the next byte fed is the prompt's '%s'; the model's most likely guess "
                                      "is marked, so you can see whether it would have guessed right.", want.c_str());
    } else if (ms.temperature > 0) {
        char kp[96] = "";
        if (ms.top_k > 0 && ms.top_p < 1) std::snprintf(kp, sizeof kp, ", top-k %lld, top-p %.2f", static_cast<long long>(ms.top_k), ms.top_p);
        else if (ms.top_k > 0) std::snprintf(kp, sizeof kp, ", top-k %lld", static_cast<long long>(ms.top_k));
        else if (ms.top_p < 1) std::snprintf(kp, sizeof kp, ", top-p %.2f", ms.top_p);
        text_wrapped_colored(pal.dim, "Sampled: a random draw (sampling seed %llu) from the 'after' column, temperature %.2f%s.",
                             static_cast<unsigned long long>(ms.sample_seed), ms.temperature, kp);
    } else {
        text_wrapped_colored(pal.dim, "Greedy (temperature 0): the most likely byte is chosen. Raise the temperature in the "
                                      "sidebar to sample instead.");
    }
    ImGui::PopTextWrapPos();
    ImGui::Spacing();

    const float font = ImGui::GetFontSize();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const bool side = avail.x > font * 40;
    ImGui::BeginChild("##top", ImVec2(side ? avail.x * 0.6f : 0, side ? 0 : avail.y * 0.6f), false);
    const bool restricted = sampling.restricts();
    const char* before_title = restricted ? "before" : "p";
    if (restricted)
        text_wrapped_colored(pal.dim, "before: softmax(logits / T)%s; after: the bytes top-k and top-p keep, renormalised "
                                      "(a draw uses these)", ms.temperature > 0 ? "" : " with T = 1");
    else
        text_wrapped_colored(pal.dim, "p = softmax(logits / T)%s", ms.temperature > 0 ? "" : " with T = 1 (greedy takes the largest)");
    if (ImGui::BeginTable("##pred", restricted ? 4 : 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_BordersInnerH)) {
        ImGui::TableSetupColumn("byte");
        ImGui::TableSetupColumn(before_title, ImGuiTableColumnFlags_WidthStretch);
        if (restricted) ImGui::TableSetupColumn("after", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupColumn("");
        ImGui::TableHeadersRow();
        for (const PredictionRow& r : rows) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const std::string label = token_text(r.id, TokenStyle::Label, V);
            if (f.mono) ImGui::PushFont(f.mono);
            ImGui::Text("'%s'", label.c_str());
            if (f.mono) ImGui::PopFont();
            ImGui::TableNextColumn();
            prob_bar(r.before, std::max(font * 3, ImGui::GetContentRegionAvail().x - font * 4), widgets::categorical_color(1), pal);
            if (restricted) {
                ImGui::TableNextColumn();
                prob_bar(r.after, std::max(font * 3, ImGui::GetContentRegionAvail().x - font * 4), widgets::categorical_color(2), pal);
            }
            ImGui::TableNextColumn();
            if (r.id == next) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.accent), prompt_next ? "model's guess" : "chosen");
            else if (prompt_next && r.id == fed_next) ImGui::TextDisabled("the prompt's");
        }
        ImGui::EndTable();
    }
    bool listed = false;
    for (const PredictionRow& r : rows) listed = listed || r.id == next;
    if (next >= 0 && !listed)
        ImGui::TextDisabled("chosen: '%s', not among the ten most likely", token_text(next, TokenStyle::Label, V).c_str());
    ImGui::EndChild();
    if (side) ImGui::SameLine();

    ImGui::BeginChild("##kinds", ImVec2(0, 0), false);
    ImGui::TextUnformatted("The four kinds on the same bytes");
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("each kind's own trained model, its three most likely next bytes%s", restricted ? " (after top-k / top-p)" : "");
    ImGui::PopTextWrapPos();
    if (!s.has_compare()) {
        ImGui::TextDisabled("(the kinds are not running in this session)");
    } else {
        for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
            const Lane& l = s.compare(k);
            const auto kr = prediction_rows(trace_logits(l.trace(step)), sampling, 3);
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kind_text_color(k, f.dark)), "%-4s", display_name(k));
            for (const PredictionRow& r : kr) {
                ImGui::SameLine();
                ImGui::Text(" '%s' %.0f%%", token_text(r.id, TokenStyle::Label, V).c_str(), 100.0 * (restricted ? r.after : r.before));
            }
            if (kr.empty()) {
                ImGui::SameLine();
                ImGui::TextDisabled("no logits");
            }
        }
    }

    // The logit lens: the residual after each layer read through the final norm and lm_head.
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextWrapped("Logit lens: what each layer's residual would predict");
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("the residual stream after each layer, put through the final RMSNorm (its scale computed on that "
                        "residual) and lm_head, softmax at T = 1; the last row is the model's own prediction");
    ImGui::PopTextWrapPos();
    if (lens_.revision != s.revision() || lens_.step != step) {
        lens_.revision = s.revision();
        lens_.step = step;
        lens_.rows = s.logit_lens(step);
    }
    const std::vector<std::vector<float>>& lens = lens_.rows;
    const Sampling plain{};  // T = 1, nothing cut
    for (size_t i = 0; i < lens.size(); ++i) {
        const std::string name = i == 0 ? "embedding" : "after layer " + std::to_string(i - 1);
        const bool last = i + 1 == lens.size();
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(last ? pal.text : pal.dim), "%s", name.c_str());
        float x = ImGui::GetFontSize() * 7.5f;  // the figures in columns
        for (const PredictionRow& r : prediction_rows(lens[i], plain, 3)) {
            ImGui::SameLine(x);
            x += ImGui::GetFontSize() * 4.5f;
            ImGui::Text(" '%s' %.0f%%", token_text(r.id, TokenStyle::Label, V).c_str(), 100.0 * r.before);
        }
    }
    ImGui::EndChild();
}

}  // namespace mla::app
