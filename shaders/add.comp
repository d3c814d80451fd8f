#version 430
// add: y (n) += x (n)                                                  (Backend::add)
// Bindings: 0 y (n), 1 x (n). One invocation per element.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Yb { float y[]; };
layout(std430, binding = 1) readonly buffer Xb { float x[]; };

uniform uint y_off;
uniform uint x_off;
uniform uint n;

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 256u + gl_LocalInvocationID.x;
    if (i >= n) return;
    y[y_off + i] = y[y_off + i] + x[x_off + i];
}
