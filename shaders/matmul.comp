#version 430
// matmul: Y (M, N) = X (M, K) W (N, K)^T                              (Backend::matmul)
// Row m of X starts at X[m*x_stride]; rows of Y are contiguous.
// Bindings: 0 Y (M*N), 1 X ((M-1)*x_stride + K), 2 W (N*K, row-major).
// Workgroup (16, 16) computes a 16 x 16 tile of Y (x: column n, y: row m); the K axis is
// walked in 16-wide tiles of X and W staged in shared memory (padded against bank conflicts).
layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, binding = 0) writeonly buffer Yb { float Y[]; };
layout(std430, binding = 1) readonly buffer Xb { float X[]; };
layout(std430, binding = 2) readonly buffer Wb { float W[]; };

uniform uint y_off;
uniform uint x_off;
uniform uint w_off;
uniform uint M;
uniform uint N;
uniform uint K;
uniform uint x_stride;

shared float xs[16][17];  // xs[m][k]
shared float ws[16][17];  // ws[n][k]

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint n0 = gl_WorkGroupID.x * 16u, m0 = gl_WorkGroupID.y * 16u;
    float acc = 0.0;
    for (uint k0 = 0u; k0 < K; k0 += 16u) {
        uint k = k0 + tx;
        xs[ty][tx] = (m0 + ty < M && k < K) ? X[x_off + (m0 + ty) * x_stride + k] : 0.0;
        ws[ty][tx] = (n0 + ty < N && k < K) ? W[w_off + (n0 + ty) * K + k] : 0.0;
        barrier();
        for (uint kk = 0u; kk < 16u; ++kk) acc += xs[ty][kk] * ws[tx][kk];
        barrier();
    }
    uint m = m0 + ty, n = n0 + tx;
    if (m < M && n < N) Y[y_off + m * N + n] = acc;
}
