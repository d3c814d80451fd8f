#version 430
// attn_values: out_h (dim) = sum_j p[h, j] v_{j, h/group}              (Backend::attn_values)
//   out_h   at out[h*out_stride + (0..dim-1)]
//   v_{j,g} = v[j*v_row_stride + g*v_head_stride + (0..dim-1)];  p is (H, T)
// T = 0 writes zeros. Bindings: 0 out, 1 p (H*T), 2 v.
// One invocation per (h, d), index h*dim + d (consecutive invocations read consecutive v).
layout(local_size_x = 64) in;

layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer P { float p[]; };
layout(std430, binding = 2) readonly buffer Vb { float v[]; };

uniform uint out_off;
uniform uint p_off;
uniform uint v_off;
uniform uint H;
uniform uint T;
uniform uint dim;
uniform uint out_stride;
uniform uint v_row_stride;
uniform uint v_head_stride;
uniform uint group_size;

void main() {
    uint idx = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 64u + gl_LocalInvocationID.x;
    if (idx >= H * dim) return;
    uint h = idx / dim, d = idx % dim;
    uint pb = p_off + h * T;
    uint vb = v_off + (h / group_size) * v_head_stride + d;
    float acc = 0.0;
    for (uint j = 0u; j < T; ++j) acc += p[pb + j] * v[vb + j * v_row_stride];
    o[out_off + h * out_stride + d] = acc;
}
