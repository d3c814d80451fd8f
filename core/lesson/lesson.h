// The lesson: chapters of short pages that follow the article, read at run time from plain
// text files (assets/lesson/*.md) that a teacher can edit or translate without recompiling.
// Every figure on a page can be a {{...}} value computed here, at load, from the cost model
// and the cache calculator, so no number in the text is typed by hand. A mistake in a file
// is reported with its file and line; the chapters without mistakes still load.
//
// The format (assets/lesson/README.md says the same for teachers):
//
//   # Chapter title                 first line of the file (one per file)
//   ## Page title                   starts a page
//   Plain text.                     lines join into a paragraph; a blank line ends it
//   $$ score = q . k / sqrt(d)      an equation line (shown in the monospace font)
//   > The article says ...          a note; used where the article simplifies
//   - item                          a bullet
//   @show kind=gqa kv_heads=2 ...   the page's "Show me" (several @show lines add up)
//   @question How many ...?         a question (one per page); the next lines join it
//   @answer {{bytes_per_token mqa}} its answer, shown on click
//   <!-- a comment -->              ignored (may span lines)
//
// Show-me keys (the rest keep the defaults of ShowMe below): kind (mha|gqa|mqa|mla),
// kv_heads, kv_lora_rank, rope_dim, q_lora_rank, mla_path (cached-kv|recompute|absorbed),
// rope_on_latent, no_cache (true|false), cache_dtype (fp32|bf16|fp16|fp8), seed, prompt ("quoted text"; \n a new line), steps,
// view, layer, head, trained (fortunes|repeat: the set of trained weights).
//
// Values, {{name args}}. On the page's model (the built-in model with the page's Show-me
// sizes; KIND = mha|gqa|mqa|mla, default the page's kind; the simulator computes in fp32):
//   elements [KIND] [path=P]                  cache elements per token per layer   "128"
//   bytes_per_token [KIND] [path=P] [dtype=D] all layers, default fp32 (4 B)       "1,536 B"
//   cache_bytes [KIND] [tokens=T] ...         held after T tokens (default: steps) "43,008 B"
//   flops [KIND] [tokens=T] [no_cache|cache]  FLOPs of the step that makes T tokens "98,304 FLOPs"
//   flops_total [KIND] [tokens=T] [...]       FLOPs of steps 1..T
//   ratio KIND KIND [path=P]                  elements of the first / the second   "3.2x"
//   config FIELD [KIND]                       a config.json field of that model    "16"
// On a real model's preset (assets/presets/NAME.json; KIND = own|mha|gqa|mqa|mla|mla-cached-kv;
// dtype default bf16, tokens default 100,000, batch default 1):
//   preset.elements NAME KIND      "32,768"        preset.terms NAME KIND     "2 x 128 x 128"
//   preset.symbolic NAME KIND      "2 H Dh"        preset.formula NAME KIND   "... = 3,997,696 B/token"
//   preset.bytes_per_token NAME KIND "3,997,696 B" preset.bytes NAME KIND     "399,769,600,000 B"
//   preset.gb NAME KIND            "399.8 GB"      preset.gib NAME KIND       "372.3 GiB"
//   preset.ratio NAME KIND KIND    "56.9x"         preset.field NAME FIELD    "512"
// Measured on the trained models (assets/models; set default fortunes, train/train_report.h):
//   quality.loss KIND [set=S]   final validation loss of the built-in model (seed 1)  "1.7226"
//   quality.mean KIND           its mean over the seeds trained                      "1.7xxx"
//   quality.range KIND          lowest to highest over the seeds       "1.7226 to 1.7915"
//   quality.seeds KIND          how many seeds                                       "5"
//   quality.spread              the largest range of one kind                        "0.0689"
//   quality.verdict             the sentence comparing that spread with the differences
//                               between kinds (quality_findings' last line)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/model_settings.h"
#include "model/config.h"
#include "model/cost.h"

namespace mla {

// [SECTION] A page

// The state a page's "Show me" puts the simulator in: the model settings (the app's own
// struct and defaults, io/model_settings.h) plus what the window shows. Keys a page does not
// write keep the defaults, so a page's state never depends on what the learner did before.
struct ShowMe {
    ModelSettings model;           // kind, sizes, path, options, weights, prompt (backend: the learner's)
    int64_t steps = 0;             // tokens to run after a reset
    std::string view;              // the view to show ("" = none)
    int layer = 0;                 // the layer the view shows
    int head = -1;                 // the query head highlighted (-1 = none)
};

enum class BlockKind { Paragraph, Equation, Note, Bullet };

struct LessonBlock {
    BlockKind kind = BlockKind::Paragraph;
    std::string text;              // values filled in
    int line = 0;                  // where it starts in the file
};

// One {{...}} as computed at load.
struct LessonValue {
    std::string expr;              // "bytes_per_token mqa"
    std::string name;              // "bytes_per_token"
    std::string kind;              // the KIND argument as written ("" = the page's kind)
    bool plain = true;             // no path=, dtype=, tokens=, no_cache argument
    double value = 0;              // the number behind the text
    std::string text;              // "384 B"
    int line = 0;
};

struct LessonPage {
    std::string title;
    int line = 0;
    std::vector<LessonBlock> blocks;
    bool has_show = false;
    ShowMe show;                   // defaults when !has_show (the values use them)
    int show_line = 0;
    std::string question, answer;  // empty when the page asks nothing
    std::vector<LessonValue> values;
};

struct LessonChapter {
    std::string file;              // as opened
    std::string id;                // the file name without extension: "04-mqa-gqa"
    std::string title;
    int number = 0;                // its place among all the folder's chapter files, from 1 (kept when
                                   // an earlier file has a mistake, so "chapter 7" stays chapter 7)
    std::vector<LessonPage> pages;
};

struct LessonError {
    std::string file;
    int line = 0;                  // 0 = the whole file
    std::string message;
    std::string str() const;       // "assets/lesson/04-mqa-gqa.md:12: ..."
};

struct Lesson {
    std::vector<LessonChapter> chapters;  // those without mistakes, in file-name order
    std::vector<LessonError> errors;      // every mistake found, in file order
    int page_count() const;
};

// [SECTION] Loading

// What a lesson file may name besides the model: the views a page may open (`view=`). The
// app passes its view registry's ids; the default is every view but the lesson itself.
struct LessonEnv {
    std::vector<std::string> views;
};
LessonEnv default_lesson_env();

// Parses one chapter file's text. Appends every mistake to `errors` (file, line, message);
// the returned chapter is usable only when none was added.
LessonChapter parse_lesson_chapter(const std::string& text, const std::string& file, const LessonEnv& env,
                                   std::vector<LessonError>& errors);

constexpr int64_t kMaxChapterBytes = int64_t{4} << 20;  // a chapter file is read whole: at most 4 MiB

// Every *.md file of `dir`, in file-name order. A file with a mistake is left out and its
// mistakes reported; the others load. A missing folder is one error.
Lesson load_lesson(const std::string& dir, const LessonEnv& env);

// The lesson folder, assets/lesson, found as every assets folder is (base/assets.h).
// Throws InputError naming where it looked.
std::string lesson_dir();

// One {{...}} expression (without the braces) on a page's model; throws InputError.
LessonValue lesson_value(const std::string& expr, const ShowMe& show, const LessonEnv& env);

}  // namespace mla
