// The logit lens: what the residual stream would predict if the model stopped early. The
// residual before layer 0 (the embedding alone), after each layer, and after the last one is
// read through the model's final norm and lm_head, with the norm's root mean square computed
// on that residual itself (not the last layer's), as nostalgebraist's "logit lens" (2020) does.
// The last row is the model's own logits.
#pragma once

#include <vector>

#include "model/trace.h"
#include "model/weights.h"

namespace mla {

// Rows: L + 1 (the embedding, after layer 0, ..., after layer L - 1); each vocab_size logits.
// Needs the trace's per-layer "x" (the residual entering each layer) and "x_final"; throws
// InputError when it lacks them (a lane that keeps only att_probs and logits).
std::vector<std::vector<float>> logit_lens(const Weights& w, const Trace& t);

}  // namespace mla
