#include "views/registry.h"

namespace mla::app {

namespace {

template <class V, V Views::*member> ViewEntry entry() {
    return {V::kId, V::kTitle, [](Views& v, const Frame& f, Commands& c) { (v.*member).draw(f, c); }};
}

}  // namespace

const std::vector<ViewEntry>& view_registry() {
    static const std::vector<ViewEntry> views = {
        entry<ShapesView, &Views::shapes>(),         entry<CacheView, &Views::cache>(),
        entry<AttentionView, &Views::attention>(),   entry<AbsorptionView, &Views::absorption>(),
        entry<CompareView, &Views::compare>(),       entry<CurvesView, &Views::curves>(),
        entry<LessonView, &Views::lesson>(),         entry<QualityView, &Views::quality>(),
        entry<PredictionsView, &Views::predictions>(), entry<ConvertView, &Views::convert>(),
    };
    return views;
}

const std::vector<std::string>& view_ids() {
    static const std::vector<std::string> ids = [] {
        std::vector<std::string> out;
        for (const ViewEntry& v : view_registry()) out.push_back(v.id);
        return out;
    }();
    return ids;
}

const ViewEntry* find_view(const std::string& id) {
    for (const ViewEntry& v : view_registry())
        if (id == v.id) return &v;
    return nullptr;
}

std::string view_id_list(const std::vector<std::string>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) out += i + 1 == ids.size() ? " or " : ", ";
        out += ids[i];
    }
    return out;
}

void check_view(const std::string& id) {
    if (!id.empty() && !find_view(id)) throw InputError("view '" + id + "' is not known; use " + view_id_list());
}

LessonEnv lesson_env() {
    LessonEnv env;
    for (const ViewEntry& v : view_registry())
        if (std::string(v.id) != LessonView::kId) env.views.push_back(v.id);
    return env;
}

}  // namespace mla::app
