// Convert: a trained MHA, GQA or MQA model turned into MLA (MHA2MLA, TransMLA) and what it
// costs. Pick the source, d_c, the RoPE pairs kept per head, the strategy and the SVD mode;
// see each layer's singular values with the cut, the error per layer, the cache per token,
// the held-out loss of the converted model (live, and the shipped sweep and fine-tuned
// points beside the models trained from scratch), and the attention maps of the source and
// the converted model for the same prompt.
//
// Every number comes from core/convert/convert.h and core/train/train_report.h; this file
// lays them out. The live loss is scored on 16 of the trainer's 64 held-out windows so that
// Apply takes well under a second; the shipped tables use all 64.
#pragma once

#include <string>
#include <vector>

#include "convert/convert.h"
#include "train/train_report.h"
#include "views/view.h"
#include "widgets/heatmap.h"

namespace mla::app {

struct ConvertView {
    static constexpr const char* kId = "convert";
    static constexpr const char* kTitle = "Convert";

    // settings (applied with Apply, Enter in a field, or a change of a choice)
    int source = 0;                        // index into sources
    int64_t kv_lora_rank = 16, rope_pairs = 2;
    int strategy = 0, svd = 0;             // RopeStrategy, SvdMode
    int layer = 0, head = 0;               // attention maps shown
    std::string prompt = "The best way to predict the future is to invent it.";
    int64_t live_windows = 16;

    // results of the last good Apply
    struct Result {
        std::string source_name;
        Config source_cfg;
        ConvertOptions options;
        ConvertResult conv;
        double source_loss = 0, loss = 0;  // bits per byte, live windows
        int64_t windows = 0, seq_len = 0;
        AttentionMaps before, after;
        std::vector<std::string> labels;   // one per prompt byte
    };
    bool has_result = false;
    Result result;
    std::string error;                     // the last Apply's problem, shown until the next good one

    std::vector<TrainedModel> sources;     // MHA, GQA, MQA models of the fortunes set
    std::vector<TrainedModel> scratch;     // the four kinds, for the loss-vs-cache chart
    std::vector<ShippedPoint> sweep, finetune;

    void draw(const Frame& f, Commands& cmds);
    void load();                           // the models and the shipped tables
    void apply();                          // converts and scores; keeps the last result on error
    // "SOURCE,D_C,R[,STRATEGY[,SVD]]" (screenshot --convert); throws InputError naming the bad part.
    void configure(const std::string& spec);

private:
    bool loaded_ = false;
    bool maps_dirty_ = true;
    widgets::Heatmap map_before_, map_after_;
    void upload_maps();
};

}  // namespace mla::app
