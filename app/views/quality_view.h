// Quality: the paper's trade-off measured on our own trained models (issue 7). Validation
// loss of the MHA, GQA, MQA and MLA models while they trained, the final loss against
// cache bytes per token, and a table with each model's size, budget and the paper's
// Table 1 verdict beside our measurement.
//
// Every number comes from core/train/train_report.h (load_trained_models, quality_findings,
// heldout_loss); this file only lays them out. The models are the folders of
// assets/models (one set per corpus: "fortunes", ...).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "train/train_report.h"
#include "views/view.h"

namespace mla::app {

// [SECTION] What to show (no ImGui)

// The paper's capability column (DeepSeek-V2, Table 1): Strong, Moderate, Weak, Stronger.
const char* paper_capability(AttnKind kind);

// [SECTION] The view

struct QualityView {
    static constexpr const char* kId = "quality";
    static constexpr const char* kTitle = "Quality";

    std::string folder;                    // model folders; "" = the built-in assets/models
    std::vector<TrainedModel> models;      // every set (last good load)
    std::vector<std::string> sets;
    int set = 0;                           // index into sets
    bool from_start = false;               // also plot the first steps (loss 6 -> 2.5)
    std::map<std::string, double> rescored;  // model name -> decoder's validation loss
    std::string error;                     // shown until the next good load

    void draw(const Frame& f, Commands& cmds);
    void load();                           // (re)reads the folder; keeps the last good models on error
    void rescore();                        // heldout_loss of each kind's built-in (seed 1) model of the current set

    // The current set's models and their findings, computed again only when the set or the
    // loaded models change (not every frame).
    const std::vector<TrainedModel>& shown();
    const QualityFindings& findings();

private:
    bool loaded_ = false;
    int shown_set_ = -1;                   // the set `shown_` and `findings_` are of (-1: none yet)
    std::vector<TrainedModel> shown_;
    QualityFindings findings_;
};

}  // namespace mla::app
