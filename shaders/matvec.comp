#version 430
// matvec: y (N) = W (N, K) x (K); accumulate: y += W x                (Backend::matvec)
// Bindings: 0 y (N), 1 x (K), 2 W (N*K, row-major).
// Workgroup (64, 4): four rows per workgroup, 64 lanes per row. Each lane sums
// W[row, k] x[k] for k = lane, lane + 64, ... (consecutive lanes read consecutive
// weights), then a shared-memory tree reduction adds the 64 partial sums.
layout(local_size_x = 64, local_size_y = 4) in;

layout(std430, binding = 0) buffer Y { float y[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };

uniform uint y_off;
uniform uint x_off;
uniform uint w_off;
uniform uint N;
uniform uint K;
uniform uint accumulate;  // 0 or 1

shared float part[4][64];

void main() {
    uint lane = gl_LocalInvocationID.x;
    uint ly = gl_LocalInvocationID.y;
    uint row = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 4u + ly;
    float acc = 0.0;
    if (row < N) {
        uint base = w_off + row * K;
        for (uint k = lane; k < K; k += 64u) acc += w[base + k] * x[x_off + k];
    }
    part[ly][lane] = acc;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (lane < s) part[ly][lane] += part[ly][lane + s];
        barrier();
    }
    if (lane == 0u && row < N) {
        float v = part[ly][0];
        if (accumulate != 0u) v = y[y_off + row] + v;
        y[y_off + row] = v;
    }
}
