// The project's own random generator: splitmix64, with uniform and approximately normal
// floats computed by integer arithmetic and one float multiply, so every platform and
// standard library gives the same bits (std::normal_distribution does not).
#pragma once

#include <cstdint>

namespace mla {

class Rng {
public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 24 random bits: exact in float32.
    float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
    // Uniform in [-1, 1).
    float symmetric() { return 2.0f * uniform() - 1.0f; }
    // Irwin-Hall sum of 4 uniforms, centred and scaled to unit variance (variance of one U(0,1) is 1/12).
    float normal() {
        float s = uniform() + uniform() + uniform() + uniform() - 2.0f;
        return s * 1.7320508f;  // sqrt(12 / 4)
    }

private:
    uint64_t state_;
};

}  // namespace mla
