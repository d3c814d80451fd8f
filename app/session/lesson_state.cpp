#include "session/lesson_state.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/assets.h"
#include "base/json_read.h"
#include "base/text_file.h"

namespace mla::app {

// ============================================================================ loading

Lesson load_app_lesson(const LessonEnv& env, const std::string& dir) {
    std::string d = dir;
    if (d.empty()) {
        try {
            d = lesson_dir();
        } catch (const InputError& e) {
            Lesson l;
            l.errors.push_back({"assets/lesson", 0, e.what()});
            return l;
        }
    }
    return load_lesson(d, env);
}

// ============================================================================ show me

ModelSettings show_me_settings(const ShowMe& s, const ModelSettings& current) {
    ModelSettings m = s.model;
    m.backend = current.backend;  // a choice of machine, not of the page
    return m;
}

void push_show_me(const ShowMe& s, const Session& session, Commands& cmds) {
    cmds.reset();
    cmds.apply(show_me_settings(s, session.settings()), Field::None);
    if (s.steps > 0) cmds.step(s.steps);
}

bool in_show_me_state(const ShowMe& s, const Session& session) {
    return session.settings() == show_me_settings(s, session.settings()) && session.steps() == s.steps;
}


LessonFocus show_me_focus(const ShowMe& s) { return {s.view, s.layer, s.head}; }

// ============================================================================ pages and progress

PageRef page_ref(const Lesson& l, int index) {
    const int total = l.page_count();
    if (total == 0) return {};
    index = std::clamp(index, 0, total - 1);
    for (int c = 0; c < static_cast<int>(l.chapters.size()); ++c) {
        const int n = static_cast<int>(l.chapters[static_cast<size_t>(c)].pages.size());
        if (index < n) return {c, index};
        index -= n;
    }
    return {};
}

int page_index(const Lesson& l, int chapter, int page) {
    int index = 0;
    for (int c = 0; c < chapter && c < static_cast<int>(l.chapters.size()); ++c)
        index += static_cast<int>(l.chapters[static_cast<size_t>(c)].pages.size());
    return index + page;
}

const LessonPage* page_at(const Lesson& l, int index) {
    if (l.page_count() == 0) return nullptr;
    const PageRef r = page_ref(l, index);
    return &l.chapters[static_cast<size_t>(r.chapter)].pages[static_cast<size_t>(r.page)];
}

std::string page_key(const Lesson& l, int index) {
    if (l.page_count() == 0) return "";
    const PageRef r = page_ref(l, index);
    return l.chapters[static_cast<size_t>(r.chapter)].id + "/" + std::to_string(r.page + 1);
}

void LessonProgress::go(const Lesson& l, int index) {
    const int total = l.page_count();
    page = total == 0 ? 0 : std::clamp(index, 0, total - 1);
    if (total > 0) seen.insert(page_key(l, page));
}

void LessonProgress::next_chapter(const Lesson& l) {
    const PageRef r = page_ref(l, page);
    if (r.chapter + 1 < static_cast<int>(l.chapters.size())) go(l, page_index(l, r.chapter + 1, 0));
}

void LessonProgress::prev_chapter(const Lesson& l) {
    const PageRef r = page_ref(l, page);
    if (r.page > 0) go(l, page_index(l, r.chapter, 0));
    else if (r.chapter > 0) go(l, page_index(l, r.chapter - 1, 0));
}

void LessonProgress::reveal(const Lesson& l, int index, bool on) {
    if (on) revealed.insert(page_key(l, index));
    else revealed.erase(page_key(l, index));
}

int LessonProgress::seen_count(const Lesson& l) const {
    int n = 0;
    for (int i = 0; i < l.page_count(); ++i) n += is_seen(l, i) ? 1 : 0;
    return n;
}

// ============================================================================ the lesson and the simulator

bool LessonTouch::apply(const Lesson& l, int index, const Session& s, Commands& cmds) {
    const LessonPage* p = page_at(l, index);
    if (!p || !p->has_show) return false;
    if (!before) before = LearnerState{s.settings(), s.steps(), s.selected()};
    push_show_me(p->show, s, cmds);
    applied_page = std::clamp(index, 0, l.page_count() - 1);  // page_at clamps the same way
    return true;
}

void LessonTouch::restore(const Session& s, Commands& cmds) {
    if (!before) return;
    ModelSettings m = before->settings;
    m.backend = s.settings().backend;
    cmds.reset();
    cmds.apply(m, Field::None);
    if (before->steps > 0) cmds.step(before->steps);
    if (before->selected >= 0) cmds.select(before->selected);
    before.reset();
    applied_page = -1;
}

bool lesson_go(LessonProgress& p, LessonTouch& t, const Lesson& l, int index, const Session& s, Commands& cmds) {
    p.go(l, index);
    return l.page_count() > 0 && p.page != t.applied_page && t.apply(l, p.page, s, cmds);
}

int next_chapter_page(const LessonProgress& p, const Lesson& l) {
    LessonProgress q = p;
    q.next_chapter(l);
    return q.page;
}

int prev_chapter_page(const LessonProgress& p, const Lesson& l) {
    LessonProgress q = p;
    q.prev_chapter(l);
    return q.page;
}

nlohmann::json to_json(const LessonProgress& p, const Lesson& l) {
    nlohmann::json j;
    j["page"] = page_key(l, p.page);
    j["seen"] = std::vector<std::string>(p.seen.begin(), p.seen.end());
    return j;
}

LessonProgress lesson_progress_from_json(const nlohmann::json& j, const Lesson& l) {
    LessonProgress p;
    if (!j.is_object()) return p;
    std::set<std::string> keys;
    for (int i = 0; i < l.page_count(); ++i) keys.insert(page_key(l, i));
    auto read_set = [&](const char* name, std::set<std::string>& out) {
        auto it = j.find(name);
        if (it == j.end() || !it->is_array()) return;
        for (const auto& v : *it)
            if (v.is_string() && keys.count(v.get<std::string>())) out.insert(v.get<std::string>());
    };
    read_set("seen", p.seen);
    if (auto it = j.find("page"); it != j.end() && it->is_string())
        for (int i = 0; i < l.page_count(); ++i)
            if (page_key(l, i) == it->get<std::string>()) p.page = i;
    return p;
}

std::string default_lesson_progress_path() {
    return user_config_path("lesson.json");
}

LessonProgress load_lesson_progress(const std::string& path, const Lesson& l) {
    if (path.empty()) return {};
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};  // nothing read yet
    try {
        return lesson_progress_from_json(read_json_file(path, "", int64_t{1} << 20), l);
    } catch (const InputError&) {
        return {};  // a damaged progress file starts the lesson afresh; saving replaces it
    }
}

bool save_lesson_progress(const LessonProgress& p, const Lesson& l, const std::string& path, std::string* error) {
    if (path.empty()) return false;
    try {
        write_file_atomic(path, to_json(p, l).dump(2) + "\n");
    } catch (const InputError& e) {
        if (error) *error = e.what();
        return false;
    }
    return true;
}

}  // namespace mla::app
