// The Quality view's choices without a window: the sets of the built-in models, the models
// of a set in report order, and the paper's Table 1 column.
#include <catch2/catch.hpp>

#include "base/assets.h"
#include "io/builtin.h"
#include "views/quality_view.h"

using namespace mla;
using namespace mla::app;

TEST_CASE("quality view: the built-in models form the fortunes set, MHA to MLA", "[quality]") {
    const std::vector<TrainedModel> all = load_trained_models(find_assets_subdir("models"));
    const std::vector<std::string> sets = quality_sets(all);
    REQUIRE(!sets.empty());
    CHECK(sets[0] == "fortunes");
    const std::vector<TrainedModel> ms = models_in_set(all, "fortunes");
    REQUIRE(ms.size() == 20);  // seed 1 of each kind, and seeds/ 2 to 5
    CHECK(ms[0].name == "mha-fortunes");
    CHECK(ms[1].name == "mha-fortunes-seed2");
    CHECK(ms[5].name == "gqa-fortunes");
    CHECK(ms[10].name == "mqa-fortunes");
    CHECK(ms[15].name == "mla-fortunes");
    const QualityFindings q = quality_findings(ms);
    REQUIRE(q.kinds.size() == 4);
    for (const KindQuality& k : q.kinds) CHECK(k.runs.size() == 5);
    CHECK(models_in_set(all, "nosuch").empty());
    CHECK(std::string(paper_capability(AttnKind::MLA)) == "Stronger");
    CHECK(std::string(paper_capability(AttnKind::MQA)) == "Weak");
}

TEST_CASE("quality view: a folder without models leaves an error and no sets", "[quality]") {
    QualityView v;
    v.folder = "/nonexistent/models";
    v.load();
    CHECK(v.sets.empty());
    CHECK(v.error.find("/nonexistent/models") != std::string::npos);
    // then the built-in folder loads, and a bad folder afterwards keeps the last good models
    v.folder.clear();
    v.load();
    CHECK(v.error.empty());
    REQUIRE(v.models.size() >= 4);
    v.folder = "/nonexistent/models";
    v.load();
    CHECK(v.models.size() >= 4);
    CHECK(!v.error.empty());
    // re-scoring gives back train.csv's losses
    v.folder.clear();
    v.load();
    v.rescore();
    REQUIRE(v.rescored.size() == 4);  // the built-in model (seed 1) of each kind
    for (const TrainedModel& m : models_in_set(v.models, "fortunes")) {
        if (m.name.find("-seed") != std::string::npos) continue;
        REQUIRE(v.rescored.count(m.name) == 1);
        CHECK(std::abs(v.rescored[m.name] - m.last().val_loss) <= kRescoreTolerance);
    }
}
