#version 430
// swiglu: out (n) = silu(gate) * up, silu(g) = g / (1 + exp(-g))      (Backend::swiglu)
// Bindings: 0 out (n), 1 gate (n), 2 up (n). One invocation per element.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer G { float gate[]; };
layout(std430, binding = 2) readonly buffer U { float up[]; };

uniform uint out_off;
uniform uint gate_off;
uniform uint up_off;
uniform uint n;

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 256u + gl_LocalInvocationID.x;
    if (i >= n) return;
    float g = gate[gate_off + i];
    o[out_off + i] = g / (1.0 + exp(-g)) * up[up_off + i];
}
