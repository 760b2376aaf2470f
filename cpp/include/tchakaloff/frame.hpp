#pragma once
// The affine frame in which the core works: each coordinate mapped onto [-1, 1] by its
// bounding box. Polynomials of degree <= k are closed under affine maps, so matching moments
// in this frame matches the raw moments too, with far better conditioning.

#include <tchakaloff/types.hpp>

namespace tchakaloff {

struct Frame {
  Eigen::VectorXd centre;
  Eigen::VectorXd inv_half_width;  // 1 for a coordinate that does not vary

  static Frame identity(Index dim);
  // Bounding box of the listed rows. Throws std::invalid_argument on NaN or inf.
  static Frame bounding_box(const PointList& list);

  void apply(const double* x, double* out) const;
};

}  // namespace tchakaloff
