// The rotation angles of RoPE, computed once for both backends: (cos, sin) of
// pos * theta^(-2i/dim) for i < dim/2, with the angle in double from a float frequency (as
// Hugging Face's float32 inv_freq times the position). Kept per (theta, dim) and grown by
// doubling, so a decode step computes no sine or cosine.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace mla {

struct RopeTable {
    int64_t dim = 0, positions = 0;
    std::vector<float> cs;  // (positions, dim/2, 2): cos then sin
    const float* row(int64_t pos) const { return cs.data() + pos * dim; }  // dim/2 (cos, sin) pairs
};

// Fills t for positions 0..positions-1 (theta, dim even).
void fill_rope_table(RopeTable& t, float theta, int64_t dim, int64_t positions);

// Tables by (theta, dim), each holding at least the positions asked for.
class RopeTables {
public:
    // The table with rows 0..positions-1; `grew` is set when it had to be extended.
    const RopeTable& get(float theta, int64_t dim, int64_t positions, bool* grew = nullptr);

private:
    std::map<std::pair<uint32_t, int64_t>, RopeTable> tables_;
};

}  // namespace mla
