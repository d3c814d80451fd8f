#version 430
// attn_scores: scores (H, T) (+)= q_h . k_{j, h/group}               (Backend::attn_scores)
//   q_h     = q[h*q_stride + (0..dim-1)]
//   k_{j,g} = k[j*k_row_stride + g*k_head_stride + (0..dim-1)]
// group = query heads per KV head (1 = MHA, H = MQA and MLA's shared latent).
// Bindings: 0 scores (H*T), 1 q, 2 k. One invocation per (h, j), index h*T + j.
layout(local_size_x = 64) in;

layout(std430, binding = 0) buffer S { float scores[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer Kb { float k[]; };

uniform uint s_off;
uniform uint q_off;
uniform uint k_off;
uniform uint H;
uniform uint T;
uniform uint dim;
uniform uint q_stride;
uniform uint k_row_stride;
uniform uint k_head_stride;
uniform uint group_size;
uniform uint accumulate;  // 0 or 1

void main() {
    uint idx = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 64u + gl_LocalInvocationID.x;
    if (idx >= H * T) return;
    uint h = idx / T, j = idx % T;
    uint qb = q_off + h * q_stride;
    uint kb = k_off + j * k_row_stride + (h / group_size) * k_head_stride;
    float acc = 0.0;
    for (uint d = 0u; d < dim; ++d) acc += q[qb + d] * k[kb + d];
    if (accumulate != 0u) acc = scores[s_off + idx] + acc;
    scores[s_off + idx] = acc;
}
