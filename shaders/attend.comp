#version 430
// attend: one pass of decode attention over a block of 64 cache rows for one head
// (Backend::attend, first of two dispatches; attend_merge.comp combines the blocks).
//   s_j   = q_h[0, k_dim) . k_{j, h/k_group} + q_h[k_dim, k_dim + k2_dim) . k2_{j, h/k2_group}
//   m     = max_j scale*s_j,  p_j = exp(scale*s_j - m),  l = sum_j p_j
//   acc_d = sum_j p_j v_{j, h/v_group}[d]
// written to partials[(h*blocks + b)*(2 + v_dim)] = (m, l, acc[0..v_dim)); the raw s_j to
// scores[h*T + j] when write_scores is 1. K, K2 and V are 32-bit words holding elements of
// their dtype (cache_dtype.glsl); offsets and strides count elements.
// Bindings: 0 partials, 1 q, 2 k, 3 k2, 4 v, 5 scores. Workgroups (blocks, H), 64 invocations:
// invocation t scores row b*64 + t, then invocations share the v_dim columns.
layout(local_size_x = 64) in;

layout(std430, binding = 0) writeonly buffer Part { float part[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer Kb { uint kw[]; };
layout(std430, binding = 3) readonly buffer K2b { uint k2w[]; };
layout(std430, binding = 4) readonly buffer Vb { uint vw[]; };
layout(std430, binding = 5) writeonly buffer S { float scores[]; };

#include "cache_dtype.glsl"

uniform uint T;
uniform uint blocks;
uniform uint q_off;
uniform uint q_stride;
uniform uint k_elem;
uniform uint k_row_stride;
uniform uint k_head_stride;
uniform uint k_dim;
uniform uint k_group;
uniform uint k_dtype;
uniform uint k2_elem;
uniform uint k2_row_stride;
uniform uint k2_head_stride;
uniform uint k2_dim;
uniform uint k2_group;
uniform uint k2_dtype;
uniform uint v_elem;
uniform uint v_row_stride;
uniform uint v_head_stride;
uniform uint v_dim;
uniform uint v_group;
uniform uint v_dtype;
uniform float scale;
uniform uint part_off;
uniform uint write_scores;
uniform uint s_off;

shared float red[64];
shared float p[64];

void main() {
    uint b = gl_WorkGroupID.x, h = gl_WorkGroupID.y, t = gl_LocalInvocationID.x;
    uint j = b * 64u + t;
    float neg_inf = uintBitsToFloat(0xff800000u);
    float s = neg_inf;
    if (j < T) {
        uint qb = q_off + h * q_stride;
        uint kb = k_elem + j * k_row_stride + (h / k_group) * k_head_stride;
        uint kper = per_word(k_dtype);
        float acc = 0.0;
        for (uint d = 0u; d < k_dim; ++d) {
            uint e = kb + d;
            acc += q[qb + d] * decode_element(k_dtype, kw[e / kper], e);
        }
        if (k2_dim > 0u) {
            uint k2b = k2_elem + j * k2_row_stride + (h / k2_group) * k2_head_stride;
            uint k2per = per_word(k2_dtype);
            for (uint d = 0u; d < k2_dim; ++d) {
                uint e = k2b + d;
                acc += q[qb + k_dim + d] * decode_element(k2_dtype, k2w[e / k2per], e);
            }
        }
        if (write_scores != 0u) scores[s_off + h * T + j] = acc;
        s = scale * acc;
    }
    red[t] = s;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (t < w) red[t] = max(red[t], red[t + w]);
        barrier();
    }
    float m = red[0];
    barrier();
    float e = (j < T && m != neg_inf) ? exp(s - m) : 0.0;
    p[t] = e;
    red[t] = e;
    barrier();
    for (uint w = 32u; w > 0u; w >>= 1) {
        if (t < w) red[t] += red[t + w];
        barrier();
    }
    float l = red[0];
    uint rows = min(64u, T - b * 64u);
    uint base = part_off + (h * blocks + b) * (2u + v_dim);
    if (t == 0u) {
        part[base] = m;
        part[base + 1u] = l;
    }
    uint vper = per_word(v_dtype);
    uint vb = v_elem + (b * 64u) * v_row_stride + (h / v_group) * v_head_stride;
    for (uint d = t; d < v_dim; d += 64u) {
        float acc = 0.0;
        for (uint r = 0u; r < rows; ++r) {
            uint ev = vb + r * v_row_stride + d;
            acc += p[r] * decode_element(v_dtype, vw[ev / vper], ev);
        }
        part[base + 2u + d] = acc;
    }
}
