// The lesson in the app, without ImGui: loading it with the sidebar's model mapping, a
// page's "Show me" as session commands, moving between pages (each move applies the new
// page's state), putting back what the learner had before the lesson changed it, and the
// progress remembered between runs ($XDG_CONFIG_HOME/mla-lab/lesson.json, next to settings.json). Tested with
// no window in tests/app/session/test_lesson_show_me.cpp.
#pragma once

#include <optional>
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

// [SECTION] The lesson and the simulator

// What the learner had before the lesson first changed the simulator: the model settings,
// how many steps were run and which one was shown.
struct LearnerState {
    ModelSettings settings;
    int64_t steps = 0;
    int64_t selected = -1;
};

// What the lesson has done to the simulator: the page whose state it applied last, and the
// learner's own state from before the first time (kept until restored).
struct LessonTouch {
    int applied_page = -1;
    std::optional<LearnerState> before;

    // Pushes page `index`'s Show me (its state), first remembering the learner's state if this
    // is the lesson's first change since the last restore. A page with no Show me changes nothing.
    // Returns whether it pushed anything.
    bool apply(const Lesson& l, int index, const Session& s, Commands& cmds);
    bool can_restore() const { return before.has_value(); }
    // Pushes what puts the learner's state back (a reset, their settings, their steps, their
    // selected step) and forgets it. The backend stays the current one, as Show me keeps it.
    void restore(const Session& s, Commands& cmds);
};

// Moves to page `index` (clamped) and, unless the lesson already applied that page's state
// last, applies it: Next, Previous and every other move keep the text and the simulator together.
// Returns whether it pushed the page's state.
bool lesson_go(LessonProgress& p, LessonTouch& t, const Lesson& l, int index, const Session& s, Commands& cmds);
inline bool lesson_next(LessonProgress& p, LessonTouch& t, const Lesson& l, const Session& s, Commands& cmds) {
    return lesson_go(p, t, l, p.page + 1, s, cmds);
}
inline bool lesson_prev(LessonProgress& p, LessonTouch& t, const Lesson& l, const Session& s, Commands& cmds) {
    return lesson_go(p, t, l, p.page - 1, s, cmds);
}
// The page next_chapter() / prev_chapter() would open.
int next_chapter_page(const LessonProgress& p, const Lesson& l);
int prev_chapter_page(const LessonProgress& p, const Lesson& l);

// [SECTION] The progress file

std::string default_lesson_progress_path();  // "" when no home folder is known
LessonProgress load_lesson_progress(const std::string& path, const Lesson& l);
bool save_lesson_progress(const LessonProgress& p, const Lesson& l, const std::string& path, std::string* error = nullptr);

}  // namespace mla::app
