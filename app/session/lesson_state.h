// The lesson in the app, without ImGui: loading it with the sidebar's model mapping, a
// page's "Show me" as session commands, moving between pages, and the progress remembered
// between runs ($XDG_CONFIG_HOME/mla-lab/lesson.json, next to settings.json). Tested with
// no window in tests/app/session/test_lesson_show_me.cpp.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "lesson/lesson.h"
#include "session/session.h"

namespace mla::app {

// [SECTION] Loading

// The lesson from `dir` ("" = lesson_dir()) with the views a page may open (the window's,
// views/registry.h lesson_env()); never throws: a missing folder is an error entry.
Lesson load_app_lesson(const LessonEnv& env, const std::string& dir = "");

// [SECTION] Show me

// The session settings a page's Show me sets: the page's keys on the defaults, so the state
// does not depend on what was done before. The backend (a choice of machine) is kept.
ModelSettings show_me_settings(const ShowMe& s, const ModelSettings& current);

// Pushes what puts the session in the page's state: a reset, the settings, then the steps.
void push_show_me(const ShowMe& s, const Session& session, Commands& cmds);

// Whether the session is in the page's state now (same settings, same number of steps).
bool in_show_me_state(const ShowMe& s, const Session& session);

// What the window brings up after Show me.
struct LessonFocus {
    std::string view;  // a view id ("" = none)
    int layer = 0;
    int head = -1;     // -1 = none highlighted
};
LessonFocus show_me_focus(const ShowMe& s);

// [SECTION] Pages and progress

struct PageRef {
    int chapter = 0;
    int page = 0;
};

// Pages are numbered 0..page_count()-1 across all chapters, in order.
PageRef page_ref(const Lesson& l, int index);          // clamped into range
int page_index(const Lesson& l, int chapter, int page);
const LessonPage* page_at(const Lesson& l, int index);  // nullptr when the lesson has no page
std::string page_key(const Lesson& l, int index);       // "04-mqa-gqa/2" (chapter file, page from 1)

struct LessonProgress {
    int page = 0;                    // the page shown
    std::set<std::string> seen;      // page keys opened
    std::set<std::string> revealed;  // page keys whose answer is shown (not saved: each run asks again)

    void go(const Lesson& l, int index);  // clamped; marks the page seen
    void next(const Lesson& l) { go(l, page + 1); }
    void prev(const Lesson& l) { go(l, page - 1); }
    void next_chapter(const Lesson& l);   // first page of the next chapter
    void prev_chapter(const Lesson& l);   // first page of this chapter, or of the one before
    bool is_seen(const Lesson& l, int index) const { return seen.count(page_key(l, index)) > 0; }
    bool is_revealed(const Lesson& l, int index) const { return revealed.count(page_key(l, index)) > 0; }
    void reveal(const Lesson& l, int index, bool on);
    int seen_count(const Lesson& l) const;  // pages of this lesson seen
    bool operator==(const LessonProgress&) const = default;
};

// {"page": "04-mqa-gqa/2", "seen": ["01-repeated-work/1", ...]}. Reading is tolerant: keys that
// name no page of this lesson are dropped; a bad file gives a fresh start.
nlohmann::json to_json(const LessonProgress& p, const Lesson& l);
LessonProgress lesson_progress_from_json(const nlohmann::json& j, const Lesson& l);

std::string default_lesson_progress_path();  // "" when no home folder is known
LessonProgress load_lesson_progress(const std::string& path, const Lesson& l);
bool save_lesson_progress(const LessonProgress& p, const Lesson& l, const std::string& path, std::string* error = nullptr);

}  // namespace mla::app
