// Predictions: what the model predicts after the shown step. The ten most likely next
// tokens with their probability after the temperature and after top-k and top-p (what a
// draw uses), the token that came next and how it was chosen, and what each of the four
// attention kinds predicts on the same tokens. The numbers come from the step's logits in
// the trace and core's sampling_distribution (view_logic.h prediction_rows). Under them, the
// logit lens (Session::logit_lens): what each layer's residual would predict.
#pragma once

#include <cstdint>
#include <vector>

#include "views/view.h"

namespace mla::app {

struct PredictionsView {
    static constexpr const char* kId = "predictions";
    static constexpr const char* kTitle = "Predictions";
    void draw(const Frame& f, Commands& cmds);

private:
    // The lens of the shown step, computed when the run or the step changes, not every frame.
    struct {
        uint64_t revision = ~uint64_t{0};
        int64_t step = -1;
        std::vector<std::vector<float>> rows;
    } lens_;
};

}  // namespace mla::app
