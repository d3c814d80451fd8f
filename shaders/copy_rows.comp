#version 430
// copy_rows: dst[r*dst_stride + c] = src[r*src_stride + c]           (Backend::copy_rows)
// for r < rows, c < cols; src_stride 0 repeats one row.
// Bindings: 0 dst ((rows-1)*dst_stride + cols), 1 src ((rows-1)*src_stride + cols).
// One invocation per element, index i = r*cols + c.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };

uniform uint dst_off;
uniform uint src_off;
uniform uint dst_stride;
uniform uint src_stride;
uniform uint rows;
uniform uint cols;

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 256u + gl_LocalInvocationID.x;
    if (i >= rows * cols) return;
    uint r = i / cols, c = i % cols;
    dst[dst_off + r * dst_stride + c] = src[src_off + r * src_stride + c];
}
