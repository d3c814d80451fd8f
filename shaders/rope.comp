#version 430
// rope: in place, rows r < rows at position pos0 + r, heads h < heads:     (Backend::rope)
// rotate x[r*row_stride + h*head_stride + (0..dim-1)] pair by pair. Pair i (< dim/2)
// turns by angle pos * theta^(-2i/dim):
//   interleaved (DeepSeek): (2i, 2i+1)      half (Llama, "rotate half"): (i, i + dim/2)
// Bindings: 0 x, 1 cs: the host's table of (cos, sin) per position and pair,
// cs[(pos*(dim/2) + i)*2 + {0, 1}], computed once in double exactly as the CPU does.
// One invocation per (r, h, i).
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer Xb { float x[]; };
layout(std430, binding = 1) readonly buffer Cs { float cs[]; };

uniform uint x_off;
uniform uint cs_off;
uniform uint rows;
uniform uint row_stride;
uniform uint heads;
uniform uint head_stride;
uniform uint dim;
uniform uint pos0;
uniform uint interleaved;  // 1: adjacent pairs, 0: rotate half

void main() {
    uint half_dim = dim / 2u;
    uint idx = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 64u + gl_LocalInvocationID.x;
    if (idx >= rows * heads * half_dim) return;
    uint i = idx % half_dim;
    uint h = (idx / half_dim) % heads;
    uint r = idx / (half_dim * heads);
    uint t = cs_off + ((pos0 + r) * half_dim + i) * 2u;
    float c = cs[t], s = cs[t + 1u];
    uint a = interleaved != 0u ? 2u * i : i;
    uint b = interleaved != 0u ? 2u * i + 1u : i + half_dim;
    uint base = x_off + r * row_stride + h * head_stride;
    float x0 = x[base + a], x1 = x[base + b];
    x[base + a] = x0 * c - x1 * s;
    x[base + b] = x0 * s + x1 * c;
}
