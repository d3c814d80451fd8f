// Every view of the window, listed once, in tab order. Each view's header holds its id
// (--view, the settings file, lesson files, export names) and title (tab, tile, menu); this
// list says which views exist and how to draw each. Tabs, tiles, Ctrl+1..9, the --view help
// and messages, the lesson's view names and the frame benchmark all read it.
#pragma once

#include <string>
#include <vector>

#include "lesson/lesson.h"
#include "views/absorption_view.h"
#include "views/attention_view.h"
#include "views/cache_view.h"
#include "views/compare_view.h"
#include "views/convert_view.h"
#include "views/curves_view.h"
#include "views/lesson_view.h"
#include "views/predictions_view.h"
#include "views/quality_view.h"
#include "views/shapes_view.h"
#include "views/view.h"

namespace mla::app {

// The view objects, with their UI state (the window owns one).
struct Views {
    ShapesView shapes;
    CacheView cache;
    AttentionView attention;
    AbsorptionView absorption;
    CompareView compare;
    CurvesView curves;
    LessonView lesson;
    QualityView quality;
    PredictionsView predictions;
    ConvertView convert;
};

struct ViewEntry {
    const char* id;      // "shapes"
    const char* title;   // "Shapes"
    void (*draw)(Views& views, const Frame& f, Commands& cmds);
};

const std::vector<ViewEntry>& view_registry();
const std::vector<std::string>& view_ids();          // the registry's ids, in tab order
const ViewEntry* find_view(const std::string& id);  // nullptr when no view has that id
// "shapes, cache, attention, absorption, compare, curves, lesson, quality, predictions or convert"
std::string view_id_list(const std::vector<std::string>& ids = view_ids());
// Throws InputError naming the views when `id` is not one ("" passes: the default view).
void check_view(const std::string& id);
// What a lesson page may show (`view=`): every view but the lesson itself.
LessonEnv lesson_env();

}  // namespace mla::app
