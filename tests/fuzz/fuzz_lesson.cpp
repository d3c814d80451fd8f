// libFuzzer target: the bytes are one lesson chapter file (assets/lesson/*.md), parsed with
// the default environment (every view but the lesson may be opened), values computed.
//
// parse_lesson_chapter reports every mistake in `errors` with its line; load_lesson calls it
// without a try, so ANY exception escaping it (an InputError included) is a bug: one bad
// file would lose every chapter. Nothing is caught here.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_common.h"
#include "lesson/lesson.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const mla::LessonEnv env = mla::default_lesson_env();
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<mla::LessonError> errors;
    const mla::LessonChapter c = mla::parse_lesson_chapter(text, "05-fuzz.md", env, errors);
    for (const mla::LessonError& e : errors)
        fuzz::expect(e.line >= 0, "lesson error with a negative line: " + e.str());
    if (errors.empty()) fuzz::expect(c.id == "05-fuzz", "chapter id '" + c.id + "'");
    return 0;
}
