#include "views/timeline.h"

#include <algorithm>
#include <cmath>

#include "views/view_logic.h"
#include "widgets/colormap.h"

namespace mla::app {

void Transport::draw(const Frame& f, Commands& cmds, float& speed, float reserve_right) {
    const Session& s = f.session;
    if (ImGui::Button("Step >")) cmds.forward();
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip(s.scrubbed_back() ? "One recorded step forward (right-arrow key); at the newest step, Step generates"
                                            : "Generate one token (right-arrow key)");
    ImGui::SameLine();
    if (ImGui::Button(playing ? "Pause" : "Play", ImVec2(ImGui::GetFontSize() * 4, 0))) {
        playing = !playing;
        carry = 0;
    }
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Step at the speed on the right (space bar): through the recorded steps first when scrubbed back");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
    ImGui::SliderFloat("##speed", &speed, 0.5f, 30.0f, "%.1f tokens/s", ImGuiSliderFlags_Logarithmic);
    ImGui::SameLine();
    if (ImGui::Button("Reset")) {
        playing = false;
        cmds.reset();
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Empty the cache and start again from the prompt");
    ImGui::SameLine(0, ImGui::GetFontSize());
    // The line about the step wraps before the space kept on the right (the toolbar's buttons).
    ImGui::PushTextWrapPos(std::max(ImGui::GetCursorPosX() + ImGui::GetFontSize() * 8,
                                    ImGui::GetWindowContentRegionMax().x - reserve_right));
    const int64_t sel = f.step;
    if (sel < 0) {
        text_wrapped_colored(palette(f.dark).dim, "no step yet: Step (or the right-arrow key) feeds the first prompt byte");
    } else {
        const std::string line = step_line(s, sel);
        ImGui::BeginGroup();
        ImGui::TextWrapped("%s", line.c_str());
        if (s.scrubbed_back())
            text_wrapped_colored(palette(f.dark).warn, "scrubbed back: Step replays the recorded steps; End = newest");
        ImGui::EndGroup();
    }
    ImGui::PopTextWrapPos();
}

std::string step_line(const Session& s, int64_t sel) {
    if (sel < 0) return "";
    const int64_t next = s.predicted(sel);
    return "step " + std::to_string(sel + 1) + " of " + std::to_string(s.steps()) + ": fed " +
           token_text(s.tokens()[static_cast<size_t>(sel)], TokenStyle::Label) +
           (s.in_prompt(sel) ? " (prompt)" : " (generated)") + " -> predicts " +
           (next >= 0 ? token_text(next, TokenStyle::Label) : std::string("-"));
}

void Transport::draw_compact(const Frame& f, Commands& cmds) {
    const Session& s = f.session;
    ImGui::BeginDisabled(f.step <= 0);
    if (ImGui::Button("< Back")) cmds.select(f.step - 1);
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled) && !f.exporting)
        ImGui::SetTooltip("One step back (left-arrow key)");
    ImGui::SameLine();
    if (ImGui::Button("Step >")) cmds.forward();
    if (ImGui::IsItemHovered() && !f.exporting)
        ImGui::SetTooltip(s.scrubbed_back() ? "One recorded step forward (right-arrow key); at the newest step, Step generates"
                                            : "Generate one token (right-arrow key)");
    ImGui::SameLine();
    if (ImGui::Button(playing ? "Pause" : "Play", ImVec2(ImGui::GetFontSize() * 4, 0))) {
        playing = !playing;
        carry = 0;
    }
    if (ImGui::IsItemHovered() && !f.exporting) ImGui::SetTooltip("Step at the speed set in the normal toolbar (space bar)");
}

void Transport::tick(double dt, const Session& s, Commands& cmds, float speed) {
    if (!playing) return;
    if ((!s.scrubbed_back() && s.steps() >= s.max_steps()) || (!s.error().empty() && s.error_field() == Field::None)) {
        playing = false;
        return;
    }
    carry += dt * speed;
    const int64_t n = static_cast<int64_t>(std::floor(carry));
    if (n > 0) {
        carry -= static_cast<double>(n);
        cmds.forward(std::min<int64_t>(n, 8));
    }
}

void Timeline::draw(const Frame& f, Commands& cmds) {
    const Session& s = f.session;
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    const int64_t n = s.steps();
    // Steps are numbered from 1 everywhere on screen (the header's "step 3 of 3"); the
    // selection is 0-based inside.
    int sel = static_cast<int>(std::max<int64_t>(f.step, 0)) + 1;
    ImGui::SetNextItemWidth(-1);
    if (n > 0) {
        const std::string fmt = "step %d of " + std::to_string(n);
        if (ImGui::SliderInt("##scrub", &sel, 1, static_cast<int>(n), fmt.c_str())) cmds.select(sel - 1);
    } else {
        ImGui::BeginDisabled();
        int zero = 0;
        ImGui::SliderInt("##scrub", &zero, 0, 0, "no steps yet");
        ImGui::EndDisabled();
    }

    const float strip_h = font * 2.2f;
    ImGui::BeginChild("##timeline", ImVec2(-1, strip_h + ImGui::GetStyle().ScrollbarSize + 4), false,
                      ImGuiWindowFlags_HorizontalScrollbar);
    const auto& labels = s.token_labels();
    const float pad = font * 0.35f;
    std::vector<float> x(static_cast<size_t>(n) + 1, 0.0f);
    for (int64_t i = 0; i < n; ++i)
        x[static_cast<size_t>(i) + 1] =
            x[static_cast<size_t>(i)] + std::max(font * 1.1f, ImGui::CalcTextSize(labels[static_cast<size_t>(i)].c_str()).x + 2 * pad) + 2;
    const float total = x.back();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("##strip", ImVec2(std::max(total, 1.0f), strip_h));
    const bool clicked = ImGui::IsItemClicked();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float sx = ImGui::GetScrollX(), vis_w = ImGui::GetWindowWidth();
    const ImU32 prompt_bg = f.dark ? IM_COL32(60, 64, 76, 255) : IM_COL32(215, 220, 230, 255);
    const ImU32 gen_bg = f.dark ? IM_COL32(40, 84, 70, 255) : IM_COL32(200, 236, 222, 255);
    for (int64_t i = 0; i < n; ++i) {
        const float x0 = x[static_cast<size_t>(i)], x1 = x[static_cast<size_t>(i) + 1] - 2;
        if (x1 < sx || x0 > sx + vis_w) continue;
        const ImVec2 a(origin.x + x0, origin.y), b(origin.x + x1, origin.y + font * 1.4f);
        const bool is_sel = i == f.step;
        dl->AddRectFilled(a, b, s.in_prompt(i) ? prompt_bg : gen_bg, 3.0f);
        if (is_sel) dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), pal.warn, 3.0f, 0, 2.5f);
        if (i == f.follow && !is_sel) dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), pal.accent, 3.0f, 0, 2.0f);
        else if (i > f.step) dl->AddRectFilled(a, b, f.dark ? IM_COL32(0, 0, 0, 110) : IM_COL32(255, 255, 255, 140), 3.0f);
        const char* lab = labels[static_cast<size_t>(i)].c_str();
        const float tw = ImGui::CalcTextSize(lab).x;
        dl->AddText(ImVec2((a.x + b.x - tw) * 0.5f, a.y + font * 0.2f), pal.text, lab);
        if (i == 0 || (i + 1) % 10 == 0) {  // step numbers 1, 10, 20, ...
            char buf[24];
            std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(i + 1));
            dl->AddText(ImGui::GetFont(), font * 0.7f, ImVec2(a.x, b.y + 1), pal.dim, buf);
        }
    }
    if (clicked && n > 0) {
        const float mx = ImGui::GetIO().MousePos.x - origin.x;
        const auto it = std::upper_bound(x.begin(), x.end(), mx);
        const int64_t i = std::clamp<int64_t>(static_cast<int64_t>(it - x.begin()) - 1, 0, n - 1);
        cmds.select(i);
    }
    if (ImGui::IsItemHovered() && n > 0 && !f.exporting) {
        const float mx = ImGui::GetIO().MousePos.x - origin.x;
        const auto it = std::upper_bound(x.begin(), x.end(), mx);
        const int64_t i = static_cast<int64_t>(it - x.begin()) - 1;
        if (i >= 0 && i < n) f.hover_token(i);
        if (i >= 0 && i < n) {
            const std::string role = s.config().vocab_size == 256 ? utf8_byte_role(s.tokens(), i) : "";
            ImGui::SetTooltip("step %lld (position %lld): %s (%s, byte %lld)%s%s", static_cast<long long>(i + 1),
                              static_cast<long long>(i), labels[static_cast<size_t>(i)].c_str(),
                              s.in_prompt(i) ? "prompt" : "generated", static_cast<long long>(s.tokens()[static_cast<size_t>(i)]),
                              role.empty() ? "" : "\n", role.c_str());
        }
    }
    // Keep the selected token in sight when the selection moves.
    if (f.step != scrolled_to && f.step >= 0) {
        const float x0 = x[static_cast<size_t>(f.step)], x1 = x[static_cast<size_t>(f.step) + 1];
        if (x0 < sx || x1 > sx + vis_w - font) ImGui::SetScrollX(std::max(0.0f, x1 - vis_w * 0.8f));
        scrolled_to = f.step;
    }
    ImGui::EndChild();

    // What the model predicts after the selected step, in one line (the Predictions view has more).
    const ModelSettings& ms = s.settings();
    const Sampling sampling{ms.temperature, ms.top_k, ms.top_p};
    const auto rows = prediction_rows(trace_logits(f.trace), sampling, 5);
    if (rows.empty()) {
        ImGui::TextDisabled("next byte: step once to see what the model predicts");
        return;
    }
    const int64_t next = s.predicted(f.step);
    const int64_t V = s.config().vocab_size;
    ImGui::TextDisabled("after step %lld the model predicts:", static_cast<long long>(f.step + 1));
    for (const PredictionRow& r : rows) {
        ImGui::SameLine();
        const double p = sampling.restricts() ? r.after : r.before;
        const std::string lab = token_text(r.id, TokenStyle::Label, V);
        if (r.id == next) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.accent), "['%s' %.0f%%]", lab.c_str(), 100.0 * p);
        else ImGui::Text("'%s' %.0f%%", lab.c_str(), 100.0 * p);
    }
    ImGui::SameLine();
    ImGui::TextDisabled(s.in_prompt(f.step + 1) ? "(brackets: its guess; the prompt's byte is fed)" : "(brackets: chosen)");
}

}  // namespace mla::app
