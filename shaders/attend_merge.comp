#version 430
// attend_merge: out_h = sum_b e^(m_b - M) acc_b / sum_b e^(m_b - M) l_b, M = max_b m_b
// (Backend::attend, second dispatch: the blocks of attend.comp combined, flash-decoding's
// reduction). A head whose blocks are all masked (M = -inf), or T = 0, gets zeros.
// Bindings: 0 out, 1 partials. One workgroup of 64 per head, invocations over v_dim.
layout(local_size_x = 64) in;

layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer Part { float part[]; };

uniform uint out_off;
uniform uint out_stride;
uniform uint part_off;
uniform uint blocks;
uniform uint v_dim;

void main() {
    uint h = gl_WorkGroupID.x, t = gl_LocalInvocationID.x;
    float neg_inf = uintBitsToFloat(0xff800000u);
    uint stride = 2u + v_dim;
    uint hb = part_off + h * blocks * stride;
    float M = neg_inf;
    for (uint b = 0u; b < blocks; ++b) M = max(M, part[hb + b * stride]);
    float L = 0.0;
    if (M != neg_inf)
        for (uint b = 0u; b < blocks; ++b) {
            float mb = part[hb + b * stride];
            if (mb != neg_inf) L += exp(mb - M) * part[hb + b * stride + 1u];
        }
    for (uint d = t; d < v_dim; d += 64u) {
        float acc = 0.0;
        if (M != neg_inf)
            for (uint b = 0u; b < blocks; ++b) {
                float mb = part[hb + b * stride];
                if (mb != neg_inf) acc += exp(mb - M) * part[hb + b * stride + 2u + d];
            }
        o[out_off + h * out_stride + d] = M != neg_inf ? acc / L : 0.0;
    }
}
