#version 430
// embed: x (D) = table[token] (V, D)                                 (Backend::embed)
// Bindings: 0 x (D), 1 table row `token` (D): the host binds the row, so table_off is
// the offset inside that bound range.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Table { float table[]; };

uniform uint x_off;
uniform uint table_off;
uniform uint D;

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 256u + gl_LocalInvocationID.x;
    if (i >= D) return;
    x[x_off + i] = table[table_off + i];
}
