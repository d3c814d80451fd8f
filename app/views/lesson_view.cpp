// [SECTION] Loading and navigation
// [SECTION] Drawing: header, chapter list
// [SECTION] Drawing: the page
// [SECTION] Drawing: the view
#include "views/lesson_view.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "views/registry.h"

namespace mla::app {

// ============================================================================ [SECTION] Loading and navigation

void LessonView::load() {
    const std::string key = loaded ? page_key(lesson, progress.page) : "";
    lesson = load_app_lesson(lesson_env(), dir);
    loaded = true;
    for (const LessonError& e : lesson.errors) std::fprintf(stderr, "mla-lab: lesson: %s\n", e.str().c_str());
    progress_path_ = remember ? default_lesson_progress_path() : "";
    if (!key.empty()) {  // a reload keeps the page and what was seen, where those pages still exist
        const LessonProgress old = progress;
        progress = LessonProgress{};
        for (int i = 0; i < lesson.page_count(); ++i) {
            const std::string k = page_key(lesson, i);
            if (old.seen.count(k)) progress.seen.insert(k);
            if (k == key) progress.page = i;
        }
    } else {
        progress = load_lesson_progress(progress_path_, lesson);
    }
    progress.go(lesson, progress.page);
    saved_ = progress;
    if (pending_show_me_ >= 0) progress.go(lesson, pending_show_me_);
}

void LessonView::open(int index, bool show_me_now) {
    if (!loaded) load();
    const int n = lesson.page_count();
    if (index < 0 || index >= n)
        throw InputError("lesson page " + std::to_string(index + 1) + " is not valid: " +
                         (n == 0 ? std::string("the lesson has no page (see the messages above)")
                                 : "the lesson has pages 1 to " + std::to_string(n)));
    progress.go(lesson, index);
    pending_show_me_ = show_me_now ? progress.page : -1;
}

std::optional<LessonFocus> LessonView::take_focus() {
    std::optional<LessonFocus> f = focus_;
    focus_.reset();
    return f;
}

void LessonView::save() {
    if (progress == saved_) return;
    saved_ = progress;
    std::string err;
    if (!progress_path_.empty() && !save_lesson_progress(progress, lesson, progress_path_, &err))
        std::fprintf(stderr, "mla-lab: warning: %s\n", err.c_str());
}

void LessonView::show_me(const Frame& f, Commands& cmds) {
    if (touch_.apply(lesson, progress.page, f.session, cmds)) focus_ = show_me_focus(page_at(lesson, progress.page)->show);
}

void LessonView::go(int index, const Frame& f, Commands& cmds) {
    if (lesson_go(progress, touch_, lesson, index, f.session, cmds)) focus_ = show_me_focus(page_at(lesson, progress.page)->show);
}

void LessonView::turn(int delta, const Frame& f, Commands& cmds) {
    if (!loaded) load();
    if (lesson.page_count() > 0) go(progress.page + delta, f, cmds);
}

void LessonView::keys(const Frame& f, Commands& cmds) {
    const ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput || ImGui::IsAnyItemActive() || io.KeyCtrl || io.KeyAlt) return;
    auto pressed = [this](ImGuiKey k) {
        const int key = ImGui::GetKeyIndex(k);
        return take_key ? take_key(key) : ImGui::IsKeyPressed(key) ? 1 : 0;
    };
    // Pages move by the presses' sum (a quick double press turns two pages).
    const int forward = pressed(ImGuiKey_PageDown) + (arrows ? pressed(ImGuiKey_RightArrow) : 0);
    const int back = pressed(ImGuiKey_PageUp) + (arrows ? pressed(ImGuiKey_LeftArrow) : 0);
    if (forward != back) go(progress.page + forward - back, f, cmds);
    if (!arrows) return;
    for (int n = pressed(ImGuiKey_DownArrow); n > 0; --n) go(next_chapter_page(progress, lesson), f, cmds);
    for (int n = pressed(ImGuiKey_UpArrow); n > 0; --n) go(prev_chapter_page(progress, lesson), f, cmds);
    if (pressed(ImGuiKey_Enter) + pressed(ImGuiKey_KeyPadEnter) > 0) show_me(f, cmds);
}

// ============================================================================ [SECTION] Drawing: header, chapter list

namespace {

// Wrapped text that breaks lines only at spaces (ImGui's wrap also breaks after '.' and ',',
// which would split "6.54 GiB" or "3,997,696 B"). A '\n' starts a new line.
void words(const std::string& text, float width) {
    std::vector<std::pair<size_t, size_t>> lines;
    size_t line = 0;
    while (line <= text.size()) {
        size_t line_end = text.find('\n', line);
        if (line_end == std::string::npos) line_end = text.size();
        size_t start = line;
        do {
            size_t fit = std::string::npos, pos = start;
            while (true) {
                size_t next = text.find(' ', pos);
                if (next == std::string::npos || next > line_end) next = line_end;
                if (fit != std::string::npos && ImGui::CalcTextSize(text.data() + start, text.data() + next).x > width) break;
                fit = next;
                if (next >= line_end) break;
                pos = next + 1;
            }
            lines.emplace_back(start, fit);
            start = fit;
            while (start < line_end && text[start] == ' ') ++start;
        } while (start < line_end);
        line = line_end + 1;
    }
    // Lines of one text as close as ImGui's own wrapped lines; the usual gap after the last.
    const ImVec2 sp = ImGui::GetStyle().ItemSpacing;
    for (size_t i = 0; i < lines.size(); ++i) {
        const bool last = i + 1 == lines.size();
        if (!last) ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(sp.x, 0.0f));
        ImGui::TextUnformatted(text.data() + lines[i].first, text.data() + lines[i].second);
        if (!last) ImGui::PopStyleVar();
    }
}

// Text on a tinted panel with a coloured bar on the left: notes and equations.
void panel_text(const Frame& f, const std::string& text, ImU32 bar, bool mono) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->ChannelsSplit(2);
    dl->ChannelsSetCurrent(1);
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::Indent(font * 0.9f);
    ImGui::Dummy(ImVec2(0, font * 0.15f));
    if (mono && f.mono) ImGui::PushFont(f.mono);
    words(text, ImGui::GetContentRegionAvail().x - font * 0.5f);
    if (mono && f.mono) ImGui::PopFont();
    ImGui::Dummy(ImVec2(0, font * 0.05f));
    ImGui::Unindent(font * 0.9f);
    const ImVec2 p1(ImGui::GetWindowPos().x + ImGui::GetContentRegionMax().x, ImGui::GetItemRectMax().y);
    dl->ChannelsSetCurrent(0);
    dl->AddRectFilled(p0, p1, pal.panel, 3.0f);
    dl->AddRectFilled(p0, ImVec2(p0.x + font * 0.2f, p1.y), bar, 1.0f);
    dl->ChannelsMerge();
}

void wrapped(ImU32 color, const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, color);
    words(text, ImGui::GetContentRegionAvail().x);
    ImGui::PopStyleColor();
}

bool accent_button(const Frame& f, const char* label, ImVec2 size = ImVec2(0, 0)) {
    const Palette pal = palette(f.dark);
    ImVec4 c = ImGui::ColorConvertU32ToFloat4(pal.accent);
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(c.x, c.y, c.z, 0.75f));
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImVec4(c.x, c.y, c.z, 0.95f));
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, c);
    ImGui::PushStyleColor(ImGuiCol_Text, f.dark ? ImVec4(0.05f, 0.05f, 0.05f, 1) : ImVec4(1, 1, 1, 1));
    const bool r = ImGui::Button(label, size);
    ImGui::PopStyleColor(4);
    return r;
}

// "7. Decoupled RoPE: ...", numbered by the chapter's file (a left-out chapter keeps its number).
std::string chapter_label(const Lesson& l, int index) {
    const LessonChapter& c = l.chapters[static_cast<size_t>(index)];
    return std::to_string(c.number > 0 ? c.number : index + 1) + ". " + c.title;
}

// A selectable row whose label wraps onto as many lines as it needs.
bool wrapped_selectable(const char* id, const std::string& text, bool selected, ImU32 color) {
    const float w = ImGui::GetContentRegionAvail().x;
    const ImVec2 size = ImGui::CalcTextSize(text.c_str(), nullptr, false, w);
    const ImVec2 pos = ImGui::GetCursorPos();
    const bool clicked = ImGui::Selectable(id, selected, 0, ImVec2(0, size.y));
    const ImVec2 after = ImGui::GetCursorPos();
    ImGui::SetCursorPos(pos);
    ImGui::PushStyleColor(ImGuiCol_Text, color);
    ImGui::PushTextWrapPos(pos.x + w);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    ImGui::SetCursorPos(after);
    return clicked;
}

}  // namespace

void LessonView::draw_header(const Frame& f, Commands& cmds, bool list_shown) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    const PageRef r = page_ref(lesson, progress.page);
    const LessonChapter& c = lesson.chapters[static_cast<size_t>(r.chapter)];
    if (ImGui::SmallButton(list_shown ? "Hide chapters" : "Show chapters")) chapter_list = list_shown ? 0 : 1;
    // Each item on the line while it fits, else on the next (a narrow view, a large scale).
    auto next_fits = [](float w) {
        ImGui::SameLine();
        if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
    };
    const auto small_w = [](const char* label) { return ImGui::CalcTextSize(label).x + ImGui::GetStyle().FramePadding.x * 2; };
    ImGui::SameLine();
    ImGui::SetNextItemWidth(std::min(font * 17.0f, std::max(font * 8.0f, ImGui::GetContentRegionAvail().x)));
    const std::string current = chapter_label(lesson, r.chapter);
    if (ImGui::BeginCombo("##chapter", current.c_str(), ImGuiComboFlags_HeightLarge)) {
        for (int ci = 0; ci < static_cast<int>(lesson.chapters.size()); ++ci) {
            if (ImGui::Selectable(chapter_label(lesson, ci).c_str(), ci == r.chapter)) go(page_index(lesson, ci, 0), f, cmds);
        }
        ImGui::EndCombo();
    }
    next_fits(small_w("< Previous") + small_w("Next >") + ImGui::GetStyle().ItemSpacing.x);
    if (ImGui::SmallButton("< Previous")) go(progress.page - 1, f, cmds);
    ImGui::SameLine();
    if (ImGui::SmallButton("Next >")) go(progress.page + 1, f, cmds);
    char page[48], seen[64];
    std::snprintf(page, sizeof page, "page %d of %d", r.page + 1, static_cast<int>(c.pages.size()));
    std::snprintf(seen, sizeof seen, "| %d of %d pages seen", progress.seen_count(lesson), lesson.page_count());
    next_fits(ImGui::CalcTextSize(page).x);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "%s", page);
    next_fits(ImGui::CalcTextSize(seen).x);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "%s", seen);
    next_fits(small_w("Reload"));
    if (ImGui::SmallButton("Reload")) load();
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Read the lesson files again (%s)", lesson.chapters.empty() ? "assets/lesson" : c.file.c_str());
}

void LessonView::draw_chapters(const Frame& f, Commands& cmds) {
    const Palette pal = palette(f.dark);
    const PageRef cur = page_ref(lesson, progress.page);
    for (int ci = 0; ci < static_cast<int>(lesson.chapters.size()); ++ci) {
        const LessonChapter& c = lesson.chapters[static_cast<size_t>(ci)];
        ImGui::PushID(ci);
        if (wrapped_selectable("##chapter", chapter_label(lesson, ci), false, ci == cur.chapter ? pal.accent : pal.text))
            go(page_index(lesson, ci, 0), f, cmds);
        if (ci == cur.chapter) {
            ImGui::Indent();
            for (int pi = 0; pi < static_cast<int>(c.pages.size()); ++pi) {
                const int index = page_index(lesson, ci, pi);
                const bool here = index == progress.page;
                ImGui::PushID(pi);
                const ImU32 col = here ? pal.accent : progress.is_seen(lesson, index) ? pal.text : pal.dim;
                if (wrapped_selectable("##page", c.pages[static_cast<size_t>(pi)].title, here, col)) go(index, f, cmds);
                ImGui::PopID();
            }
            ImGui::Unindent();
        }
        ImGui::PopID();
    }
    ImGui::Spacing();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "Dimmed: pages not yet seen");
}

// ============================================================================ [SECTION] Drawing: the page

void LessonView::draw_page(const Frame& f, Commands& cmds) {
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    const LessonPage& p = *page_at(lesson, progress.page);
    const PageRef r = page_ref(lesson, progress.page);
    if (shown_page_ != progress.page) ImGui::SetScrollY(0);
    shown_page_ = progress.page;

    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "%s", chapter_label(lesson, r.chapter).c_str());
    ImGui::SetWindowFontScale(1.3f);
    wrapped(pal.text, p.title);
    ImGui::SetWindowFontScale(1.0f);
    ImGui::Spacing();

    BlockKind prev = BlockKind::Paragraph;
    bool first = true;
    for (const LessonBlock& b : p.blocks) {
        // Equation lines and bullets in a row stay together; other blocks get a gap.
        if (!first && !(b.kind == prev && (b.kind == BlockKind::Equation || b.kind == BlockKind::Bullet)))
            ImGui::Dummy(ImVec2(0, font * 0.35f));
        first = false;
        prev = b.kind;
        switch (b.kind) {
            case BlockKind::Paragraph: wrapped(pal.text, b.text); break;
            case BlockKind::Equation: panel_text(f, b.text, pal.accent, true); break;
            case BlockKind::Note: panel_text(f, b.text, pal.warn, false); break;
            case BlockKind::Bullet:
                ImGui::Bullet();
                ImGui::SameLine();
                ImGui::BeginGroup();  // later lines line up with the first
                wrapped(pal.text, b.text);
                ImGui::EndGroup();
                break;
        }
    }

    if (p.has_show) {
        ImGui::Dummy(ImVec2(0, font * 0.6f));
        if (accent_button(f, "Show me")) show_me(f, cmds);
        ImGui::SameLine();
        const bool here = in_show_me_state(p.show, f.session);
        if (here && touch_.applied_page == progress.page)
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.good), "The simulator is in this page's state: play with it.");
        else if (touch_.applied_page == progress.page)
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "Changed since: Show me goes back.");
        else
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "Sets the simulator to:");
        wrapped(pal.dim, describe_show_me(p.show));
    }
    if (touch_.can_restore()) {
        ImGui::Dummy(ImVec2(0, font * 0.3f));
        if (ImGui::Button("Restore my settings")) touch_.restore(f.session, cmds);
        if (ImGui::IsItemHovered() && !f.exporting)
            ImGui::SetTooltip("Put back the settings and steps you had before the lesson changed the simulator");
        wrapped(pal.dim, "Before the lesson: " + describe_learner(*touch_.before));
    }

    if (!p.question.empty()) {
        ImGui::Dummy(ImVec2(0, font * 0.6f));
        ImGui::Separator();
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.accent), "Question");
        wrapped(pal.text, p.question);
        const bool open = progress.is_revealed(lesson, progress.page);
        if (ImGui::SmallButton(open ? "Hide the answer" : "Show the answer")) progress.reveal(lesson, progress.page, !open);
        if (open) wrapped(pal.good, p.answer);
    }

    ImGui::Dummy(ImVec2(0, font * 0.8f));
    ImGui::Separator();
    if (ImGui::Button("< Previous")) go(progress.page - 1, f, cmds);
    ImGui::SameLine();
    if (ImGui::Button("Next >")) go(progress.page + 1, f, cmds);
    wrapped(pal.dim, arrows ? "Keys: Left/Right or PageUp/PageDown: page; Up/Down: chapter; Enter: Show me"
                              : "Keys: PageUp/PageDown: page");
}

// ============================================================================ [SECTION] Drawing: the view

void LessonView::draw(const Frame& f, Commands& cmds) {
    if (!loaded) load();
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();

    if (!lesson.errors.empty()) {
        const std::string head = lesson.chapters.empty()
                                     ? "The lesson could not be loaded:"
                                     : "Some lesson files have mistakes; those chapters are left out (fix them and press Reload):";
        std::string text = head;
        for (const LessonError& e : lesson.errors) {
            text += '\n';
            text += e.str();
        }
        panel_text(f, text, pal.warn, false);
        ImGui::Spacing();
    }
    if (lesson.page_count() == 0) {
        if (ImGui::Button("Reload")) load();
        return;
    }
    if (pending_show_me_ >= 0) {
        progress.go(lesson, pending_show_me_);
        pending_show_me_ = -1;
        show_me(f, cmds);
    }
    keys(f, cmds);
    // The live view gets the room: the chapter column shows by default only on wide windows.
    const float width = ImGui::GetContentRegionAvail().x;
    const bool list = chapter_list == 1 || (chapter_list < 0 && width >= font * 110.0f);
    draw_header(f, cmds, list);

    const LessonPage& p = *page_at(lesson, progress.page);
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float sp = ImGui::GetStyle().ItemSpacing.x;
    const bool live = draw_live && p.has_show && !p.show.view.empty();
    const float list_w = list ? std::min(font * 14.0f, avail.x * 0.2f) : 0.0f;
    const float rest = avail.x - (list ? list_w + sp : 0.0f);
    const float text_w = live ? std::clamp(rest * 0.34f, font * 21.0f, font * 30.0f) : rest;
    // Too narrow for the text beside a live view of at least 30 characters: the text above,
    // the live view under it.
    const bool stacked = live && rest - text_w - sp < font * 30.0f;

    if (list) {
        ImGui::BeginChild("##lesson_chapters", ImVec2(list_w, 0), true);
        draw_chapters(f, cmds);
        ImGui::EndChild();
        ImGui::SameLine();
    }
    // Stacked, each part keeps a readable height and the lesson scrolls as a whole.
    const float page_h = stacked ? std::max(font * 9.0f, avail.y * 0.4f) : 0.0f;
    const float live_h = stacked ? std::max(font * 20.0f, avail.y - page_h - sp) : 0.0f;
    ImGui::BeginChild("##lesson_page", ImVec2(live && !stacked ? text_w : 0, page_h), false);
    draw_page(f, cmds);
    ImGui::EndChild();
    if (live) {
        if (!stacked) ImGui::SameLine();
        ImGui::BeginChild("##lesson_live", ImVec2(stacked ? rest : 0, live_h), true);
        std::string title = p.show.view;
        title[0] = static_cast<char>(title[0] - 'a' + 'A');
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim), "Live: the %s view", title.c_str());
        ImGui::Separator();
        draw_live(p.show.view, f, cmds);
        ImGui::EndChild();
    }
    save();
}

std::string describe_learner(const LearnerState& s) {
    ShowMe m;
    m.model = s.settings;
    m.steps = s.steps;
    return describe_show_me(m);
}

std::string describe_show_me(const ShowMe& s) {
    const ShowMe d;
    const auto n = [](int64_t v) { return std::to_string(v); };
    std::string out;
    switch (s.model.kind) {
        case AttnKind::MHA: out = "MHA"; break;
        case AttnKind::GQA: out = "GQA with " + n(s.model.kv_heads) + (s.model.kv_heads == 1 ? " KV head" : " KV heads"); break;
        case AttnKind::MQA: out = "MQA"; break;
        case AttnKind::MLA:
            out = "MLA (d_c = " + n(s.model.kv_lora_rank) + ", d_r = " + n(s.model.rope_dim);
            if (s.model.q_lora_rank > 0) out += ", d'_c = " + n(s.model.q_lora_rank);
            out += "), ";
            out += to_string(s.model.mla_path);
            out += " path";
            if (s.model.rope_on_latent) out += ", RoPE on the compressed keys";
            break;
    }
    if (s.model.no_cache) out += ", no cache";
    if (s.model.prompt != d.model.prompt) {
        std::string shown;  // on one line: a new line as \n
        for (char ch : s.model.prompt) shown += ch == '\n' ? std::string("\\n") : std::string(1, ch);
        out += "; prompt \"" + shown + "\"";
    }
    if (s.model.seed != d.model.seed) out += "; weights seed " + std::to_string(s.model.seed);
    if (s.model.trained_set != d.model.trained_set) out += "; trained on " + s.model.trained_set;
    out += s.steps > 0 ? "; " + n(s.steps) + (s.steps == 1 ? " step" : " steps") : std::string("; reset");
    if (!s.view.empty()) {
        const ViewEntry* v = find_view(s.view);
        out += "; " + std::string(v ? v->title : s.view.c_str()) + " view";
        if (s.layer > 0 || s.head >= 0) out += ", layer " + n(s.layer);
        if (s.head >= 0) out += ", head " + n(s.head);
    }
    return out;
}

}  // namespace mla::app
