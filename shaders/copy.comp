#version 430
// copy: dst[i] = src[i] for i < n                                    (Backend::copy)
// Bindings: 0 dst (n), 1 src (n). The host binds each view's range and passes the
// remaining element offsets (below the storage-buffer alignment) as *_off.
// Overlapping views of one buffer are staged through a scratch buffer by the host.
layout(local_size_x = 256) in;

layout(std430, binding = 0) buffer Dst { float dst[]; };
layout(std430, binding = 1) readonly buffer Src { float src[]; };

uniform uint dst_off;
uniform uint src_off;
uniform uint n;

void main() {
    uint i = (gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x) * 256u + gl_LocalInvocationID.x;
    if (i >= n) return;
    dst[dst_off + i] = src[src_off + i];
}
