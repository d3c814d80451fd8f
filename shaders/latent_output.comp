#version 430
// latent_output: out_h (Dv) = W_UV,h o_latent_h (C)                (Backend::latent_output)
// kv_b (H*(Dn+Dv), C) holds W_UK,h (Dn, C) then W_UV,h (Dv, C) for head h;
// out is (H, Dv), o_latent is (H, C).
// Bindings: 0 out (H*Dv), 1 o_latent (H*C), 2 kv_b (H*(Dn+Dv)*C).
// Output row r = h*Dv + d is a dot product of length C: workgroup (64, 4), four rows per
// workgroup, 64 lanes per row and a shared-memory tree reduction (as matvec.comp).
layout(local_size_x = 64, local_size_y = 4) in;

layout(std430, binding = 0) writeonly buffer O { float o[]; };
layout(std430, binding = 1) readonly buffer OL { float o_latent[]; };
layout(std430, binding = 2) readonly buffer KvB { float kv_b[]; };

uniform uint out_off;
uniform uint ol_off;
uniform uint kv_b_off;
uniform uint H;
uniform uint Dn;
uniform uint Dv;
uniform uint C;

shared float part[4][64];

void main() {
    uint lane = gl_LocalInvocationID.x;
    uint ly = gl_LocalInvocationID.y;
    uint row = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 4u + ly;
    float acc = 0.0;
    if (row < H * Dv) {
        uint h = row / Dv, d = row % Dv;
        uint wb = kv_b_off + (h * (Dn + Dv) + Dn + d) * C;
        uint lb = ol_off + h * C;
        for (uint c = lane; c < C; c += 64u) acc += kv_b[wb + c] * o_latent[lb + c];
    }
    part[ly][lane] = acc;
    barrier();
    for (uint s = 32u; s > 0u; s >>= 1) {
        if (lane < s) part[ly][lane] += part[ly][lane + s];
        barrier();
    }
    if (lane == 0u && row < H * Dv) o[out_off + row] = part[ly][0];
}
