#include "model/trace.h"

namespace mla {

int64_t TensorRecord::numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string TensorRecord::shape_str() const {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += " x ";
        s += std::to_string(shape[i]);
    }
    return s;
}

const TensorRecord* Trace::find(const std::string& name, int layer) const {
    for (const auto& t : tensors)
        if (t.layer == layer && t.name == name) return &t;
    return nullptr;
}

std::vector<float> Trace::head_probs(int layer, int64_t head) const {
    const TensorRecord* p = find("att_probs", layer);
    if (!p || p->shape.size() != 2 || head < 0 || head >= p->shape[0]) return {};
    const int64_t T = p->shape[1];
    return std::vector<float>(p->data.begin() + head * T, p->data.begin() + (head + 1) * T);
}

}  // namespace mla
