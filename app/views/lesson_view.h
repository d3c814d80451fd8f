// Lesson: the article's chapters as short pages (text, equations, notes where the article
// simplifies, a question with its answer on click) next to the live view the page talks
// about. Moving to a page (Next, Previous, the chapter list, the keys) puts the simulator in
// that page's state; "Show me" puts it back after the learner has played with it, and
// "Restore my settings" brings back what the learner had before the lesson changed anything.
// Pages are read from assets/lesson/*.md at run time; a mistake in a file is shown with its
// file and line, and the other chapters still work ("Reload" rereads the files).
//
// Keys (when no text field is active): PageUp/PageDown always; and when `arrows` is set,
// Left/Right (page), Up/Down (chapter), Enter (Show me).
//
// What the window provides: `draw_live` (draws one of its views inside the lesson),
// `arrows` (true when the lesson tab is the one shown), `remember` (false for screenshots),
// and it applies take_focus() to its views (layer, head) after Show me.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "session/lesson_state.h"
#include "views/view.h"

namespace mla::app {

struct LessonView {
    static constexpr const char* kId = "lesson";
    static constexpr const char* kTitle = "Lesson";

    // ---- set by the window
    std::function<void(const std::string& view, const Frame&, Commands&)> draw_live;
    bool arrows = true;            // Left/Right/Up/Down/Enter belong to the lesson this frame
    // How many times a key (ImGui's key index) was pressed since the last frame; the window
    // queues presses so none is lost. Unset: ImGui's own polling (one per frame at most).
    std::function<int(int key)> take_key;
    bool remember = true;          // read and write the progress file

    // ---- state
    Lesson lesson;
    bool loaded = false;
    LessonProgress progress;
    int chapter_list = -1;         // the chapter column: 1 shown, 0 hidden, -1 shown when there is room
    std::string dir;               // "" = lesson_dir()

    // Loads (or reloads) the lesson and the remembered progress; prints mistakes to stderr.
    void load();
    // Opens page `index` (0-based over all chapters); with show_me, runs its Show me on the
    // next draw (for `mla-lab screenshot --view lesson --page N`). Throws InputError naming
    // the valid pages (counted from 1) when there is no such page.
    void open(int index, bool show_me);
    // The view, layer and head to bring up after a Show me, once.
    std::optional<LessonFocus> take_focus();

    void draw(const Frame& f, Commands& cmds);
    // Previous (-1) or next (+1) page, applying its state: the presentation bar's buttons.
    void turn(int delta, const Frame& f, Commands& cmds);
    bool at_first_page() const { return progress.page <= 0; }
    bool at_last_page() const { return progress.page + 1 >= lesson.page_count(); }

private:
    void keys(const Frame& f, Commands& cmds);
    void go(int index, const Frame& f, Commands& cmds);  // to a page, applying its state
    void show_me(const Frame& f, Commands& cmds);
    void draw_header(const Frame& f, Commands& cmds, bool list_shown);
    void draw_chapters(const Frame& f, Commands& cmds);
    void draw_page(const Frame& f, Commands& cmds);
    void save();

    std::optional<LessonFocus> focus_;
    int pending_show_me_ = -1;     // page whose Show me runs on the next draw
    int shown_page_ = -1;          // page drawn last frame (scroll to top on change)
    LessonTouch touch_;            // the page applied last, and the learner's state from before
    LessonProgress saved_;
    std::string progress_path_;
};

// What Show me sets, in words: "GQA with 2 KV heads; 32 steps; Cache view, head 1".
std::string describe_show_me(const ShowMe& s);
// The same for the learner's own state: "MQA; 5 steps".
std::string describe_learner(const LearnerState& s);

}  // namespace mla::app
