// libFuzzer target: the window's remembered files, which the user (or a crash half-way
// through an old version's write) may leave in any state. The bytes are written as
// settings.json and read with load_ui_settings, and as lesson.json and read with
// load_lesson_progress against the real lesson (assets/lesson); when they parse as JSON,
// ui_settings_from_json and lesson_progress_from_json get the value too.
//
// The same bytes are also read as a session file (load_session_file: InputError only when they
// are not a JSON object; session_from_json: never throws).
//
// These readers are tolerant by contract ("a bad file gives the defaults / a fresh start"),
// so ANY exception escaping them, an InputError included, is a bug: nothing is caught.
// What they return must also be stable: writing it back and reading it again gives the same.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_common.h"
#include "session/lesson_state.h"
#include "views/registry.h"
#include "window/session_file.h"
#include "window/ui_settings.h"

namespace {

const mla::Lesson& lesson() {
    static const mla::Lesson l = [] {
        mla::Lesson l = mla::app::load_app_lesson(mla::app::lesson_env());
        if (l.page_count() == 0)
            std::fprintf(stderr, "fuzz_settings: no lesson pages found (assets/lesson), progress keys are not checked\n");
        return l;
    }();
    return l;
}

void check_settings(const mla::app::UiSettings& s) {
    fuzz::expect(s.scale >= 0.5f && s.scale <= 3.0f, "scale out of range: " + std::to_string(s.scale));
    fuzz::expect(s.play_speed >= 0.25f && s.play_speed <= 60.0f, "play_speed out of range");
    fuzz::expect(mla::app::ui_settings_from_json(mla::app::to_json(s)) == s,
                 "settings change when written and read back: " + mla::app::to_json(s).dump());
}

void check_session(const mla::app::SessionFile& s) {
    std::vector<std::string> again;
    const mla::app::SessionFile back = mla::app::session_from_json(mla::app::to_json(s), &again);
    fuzz::expect(back == s, "session changes when written and read back: " + mla::app::to_json(s).dump());
    fuzz::expect(again.empty(), "a session written back has problems: " + (again.empty() ? "" : again[0]));
    fuzz::expect(s.shown_step <= s.steps, "shown_step past steps");
}

void check_progress(const mla::app::LessonProgress& p) {
    const mla::Lesson& l = lesson();
    fuzz::expect(p.page >= 0 && (p.page == 0 || p.page < l.page_count()), "progress page out of range");
    fuzz::expect(mla::app::lesson_progress_from_json(mla::app::to_json(p, l), l) == p,
                 "lesson progress changes when written and read back");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)lesson();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string settings = fuzz::write_temp("settings.json", data, size);
    std::string warning;
    check_settings(mla::app::load_ui_settings(settings, &warning));

    const std::string progress = fuzz::write_temp("lesson.json", data, size);
    check_progress(mla::app::load_lesson_progress(progress, lesson()));

    const std::string session = fuzz::write_temp("session.json", data, size);
    try {
        std::vector<std::string> problems;
        check_session(mla::app::load_session_file(session, &problems));
    } catch (const mla::InputError&) {
        // not a JSON object: refused with a message, by contract
    }

    const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) {
        std::vector<std::string> problems;
        check_session(mla::app::session_from_json(j, &problems));
        check_settings(mla::app::ui_settings_from_json(j));
        check_progress(mla::app::lesson_progress_from_json(j, lesson()));
    }
    return 0;
}
