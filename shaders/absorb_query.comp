#version 430
// absorb_query: q_absorbed_h (C) = W_UK,h^T q_nope_h (Dn)           (Backend::absorb_query)
// kv_b (H*(Dn+Dv), C) holds W_UK,h (Dn, C) then W_UV,h (Dv, C) for head h;
// q_nope_h at q[h*q_stride + (0..Dn-1)]; q_absorbed_h at q_absorbed[h*out_stride + (0..C-1)]
// (out_stride >= C leaves room for the RoPE part after it).
// Bindings: 0 q_absorbed ((H-1)*out_stride + C), 1 q, 2 kv_b (H*(Dn+Dv)*C).
// One invocation per (h, c), index h*C + c (consecutive invocations read consecutive weights).
layout(local_size_x = 64) in;

layout(std430, binding = 0) writeonly buffer QA { float q_absorbed[]; };
layout(std430, binding = 1) readonly buffer Q { float q[]; };
layout(std430, binding = 2) readonly buffer KvB { float kv_b[]; };

uniform uint qa_off;
uniform uint q_off;
uniform uint kv_b_off;
uniform uint H;
uniform uint Dn;
uniform uint Dv;
uniform uint C;
uniform uint q_stride;
uniform uint out_stride;

void main() {
    uint idx = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 64u + gl_LocalInvocationID.x;
    if (idx >= H * C) return;
    uint h = idx / C, c = idx % C;
    uint wb = kv_b_off + h * (Dn + Dv) * C + c;
    uint qb = q_off + h * q_stride;
    float acc = 0.0;
    for (uint i = 0u; i < Dn; ++i) acc += kv_b[wb + i * C] * q[qb + i];
    q_absorbed[qa_off + h * out_stride + c] = acc;
}
