// The rotation angles of RoPE, computed once for both backends: (cos, sin) of
// pos * f_i for the float32 inverse frequencies f_i (Config::rope_inv_freq: theta^(-2i/dim),
// or the source model's own frequencies for partial RoPE), with the angle in double (as
// Hugging Face's float32 inv_freq times the position). Kept per frequency list and grown by
// doubling, so a decode step computes no sine or cosine.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace mla {

struct RopeTable {
    int64_t dim = 0, positions = 0;
    std::vector<float> cs;  // (positions, dim/2, 2): cos then sin
    const float* row(int64_t pos) const { return cs.data() + pos * dim; }  // dim/2 (cos, sin) pairs
};

// The standard ladder of Hugging Face: float32(theta^(-2i/dim)) for i < dim/2 (theta rounded to float first).
std::vector<float> rope_ladder(double theta, int64_t dim);

// Fills t for positions 0..positions-1; dim = 2 * inv_freq.size().
void fill_rope_table(RopeTable& t, const std::vector<float>& inv_freq, int64_t positions);

// Tables by frequency list, each holding at least the positions asked for.
class RopeTables {
public:
    // The table with rows 0..positions-1; `grew` is set when it had to be extended.
    const RopeTable& get(const std::vector<float>& inv_freq, int64_t positions, bool* grew = nullptr);

private:
    std::map<std::vector<float>, RopeTable> tables_;
};

}  // namespace mla
