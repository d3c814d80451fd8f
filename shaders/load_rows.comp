#version 430
// load_rows: dst[r*dst_stride + c] = float(src[r*src_stride + c])     (Backend::load_rows)
// src holds dtype elements in 32-bit words (cache_dtype.glsl). Bindings: 0 dst (floats),
// 1 src (words). One invocation per element, index i = r*cols + c.
layout(local_size_x = 256) in;

layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };
layout(std430, binding = 1) readonly buffer Src { uint src[]; };

#include "cache_dtype.glsl"

uniform uint dst_off;
uniform uint dst_stride;
uniform uint src_elem;   // element index of (0, 0) inside the binding, in dtype units
uniform uint src_stride;
uniform uint rows;
uniform uint cols;
uniform uint dtype;

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 256u + gl_LocalInvocationID.x;
    if (i >= rows * cols) return;
    uint r = i / cols, c = i % cols;
    uint e = src_elem + r * src_stride + c;
    dst[dst_off + r * dst_stride + c] = decode_element(dtype, src[e / per_word(dtype)], e);
}
