// Host tensor types: row-major so host memory matches the GPU buffers.
#pragma once

#include <Eigen/Core>

namespace mla {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;
using MatMap = Eigen::Map<Mat>;
using CMatMap = Eigen::Map<const Mat>;
using VecMap = Eigen::Map<Vec>;
using CVecMap = Eigen::Map<const Vec>;

}  // namespace mla
