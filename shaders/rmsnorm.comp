#version 430
// rmsnorm: y (n) = x / rms(x) * w, rms(x) = sqrt(mean(x^2) + eps)     (Backend::rmsnorm)
// y may equal x. Bindings: 0 y (n), 1 x (n), 2 w (n).
// One workgroup of 256: strided sums of squares, a shared-memory tree reduction, then
// each invocation scales the same elements it read.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Yb { float y[]; };
layout(std430, binding = 1) readonly buffer Xb { float x[]; };
layout(std430, binding = 2) readonly buffer Wb { float w[]; };

uniform uint y_off;
uniform uint x_off;
uniform uint w_off;
uniform uint n;
uniform float eps;

shared float part[256];

void main() {
    uint t = gl_LocalInvocationID.x;
    float ss = 0.0;
    for (uint i = t; i < n; i += 256u) {
        float v = x[x_off + i];
        ss += v * v;
    }
    part[t] = ss;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) part[t] += part[t + s];
        barrier();
    }
    float inv = 1.0 / sqrt(part[0] / float(n) + eps);
    for (uint i = t; i < n; i += 256u) y[y_off + i] = x[x_off + i] * inv * w[w_off + i];
}
