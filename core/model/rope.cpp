#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"

namespace mla {

void fill_rope_table(RopeTable& t, float theta, int64_t dim, int64_t positions) {
    MLA_CHECK(dim % 2 == 0 && dim >= 0 && positions >= 0);
    const int64_t half = dim / 2;
    t.dim = dim;
    t.positions = positions;
    t.cs.resize(static_cast<size_t>(positions * half * 2));
    for (int64_t i = 0; i < half; ++i) {
        const double inv_freq = std::pow(static_cast<double>(theta), -2.0 * static_cast<double>(i) / static_cast<double>(dim));
        const double f = static_cast<double>(static_cast<float>(inv_freq));
        for (int64_t pos = 0; pos < positions; ++pos) {
            const double angle = static_cast<double>(pos) * f;
            t.cs[static_cast<size_t>((pos * half + i) * 2)] = static_cast<float>(std::cos(angle));
            t.cs[static_cast<size_t>((pos * half + i) * 2 + 1)] = static_cast<float>(std::sin(angle));
        }
    }
}

const RopeTable& RopeTables::get(float theta, int64_t dim, int64_t positions, bool* grew) {
    uint32_t bits = 0;
    std::memcpy(&bits, &theta, sizeof bits);
    RopeTable& t = tables_[{bits, dim}];
    if (grew) *grew = false;
    if (t.positions >= positions && t.dim == dim) return t;
    fill_rope_table(t, theta, dim, std::max<int64_t>({positions, 2 * t.positions, 256}));
    if (grew) *grew = true;
    return t;
}

}  // namespace mla
