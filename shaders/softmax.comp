#version 430
// softmax: row-wise softmax of (scale * x) over rows (R, n), in place.   (Backend::softmax)
//   p_j = exp(scale*x_j - m) / sum, m = max_j scale*x_j
// -infinity entries (masked) give 0. A row that is all -infinity gives all zeros (no NaN).
// Binding: 0 x (R*n). One workgroup of 256 per row: max and sum by shared-memory trees.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Xb { float x[]; };

uniform uint x_off;
uniform uint R;
uniform uint n;
uniform float scale;

shared float red[256];

void main() {
    uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (row >= R) return;  // uniform across the workgroup
    uint t = gl_LocalInvocationID.x;
    uint base = x_off + row * n;
    float neg_inf = uintBitsToFloat(0xff800000u);

    float m = neg_inf;
    for (uint j = t; j < n; j += 256u) m = max(m, scale * x[base + j]);
    red[t] = m;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) red[t] = max(red[t], red[t + s]);
        barrier();
    }
    float mx = red[0];
    barrier();
    if (mx == neg_inf) {  // every entry masked
        for (uint j = t; j < n; j += 256u) x[base + j] = 0.0;
        return;
    }

    float sum = 0.0;
    for (uint j = t; j < n; j += 256u) {
        float e = exp(scale * x[base + j] - mx);
        x[base + j] = e;
        sum += e;
    }
    red[t] = sum;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) red[t] += red[t + s];
        barrier();
    }
    float inv = 1.0 / red[0];
    for (uint j = t; j < n; j += 256u) x[base + j] *= inv;
}
