#include "model/rope.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace mla {

std::vector<float> rope_ladder(double theta, int64_t dim) {
    std::vector<float> f(static_cast<size_t>(std::max<int64_t>(dim / 2, 0)));
    for (size_t i = 0; i < f.size(); ++i)
        f[i] = static_cast<float>(std::pow(static_cast<double>(static_cast<float>(theta)),
                                           -2.0 * static_cast<double>(i) / static_cast<double>(dim)));
    return f;
}

void fill_rope_table(RopeTable& t, const std::vector<float>& inv_freq, int64_t positions) {
    MLA_CHECK(positions >= 0);
    const int64_t half = static_cast<int64_t>(inv_freq.size());
    t.dim = 2 * half;
    t.positions = positions;
    t.cs.resize(static_cast<size_t>(positions * half * 2));
    for (int64_t i = 0; i < half; ++i) {
        const double f = static_cast<double>(inv_freq[static_cast<size_t>(i)]);
        for (int64_t pos = 0; pos < positions; ++pos) {
            const double angle = static_cast<double>(pos) * f;
            t.cs[static_cast<size_t>((pos * half + i) * 2)] = static_cast<float>(std::cos(angle));
            t.cs[static_cast<size_t>((pos * half + i) * 2 + 1)] = static_cast<float>(std::sin(angle));
        }
    }
}

const RopeTable& RopeTables::get(const std::vector<float>& inv_freq, int64_t positions, bool* grew) {
    RopeTable& t = tables_[inv_freq];
    if (grew) *grew = false;
    if (t.positions >= positions && t.dim == 2 * static_cast<int64_t>(inv_freq.size())) return t;
    fill_rope_table(t, inv_freq, std::max<int64_t>({positions, 2 * t.positions, 256}));
    if (grew) *grew = true;
    return t;
}

}  // namespace mla
