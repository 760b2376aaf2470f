#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <tchakaloff/frame.hpp>
#include <tchakaloff/parallel.hpp>

namespace tchakaloff {

Frame Frame::identity(Index dim) {
  return {Eigen::VectorXd::Zero(dim), Eigen::VectorXd::Ones(dim)};
}

namespace {

// Extremes of rows [begin, end) into lo/hi (length m); false if a coordinate is not finite.
// A compile-time M keeps the running extremes in registers.
template <int M>
bool extremes(const PointList& list, Index m, Index begin, Index end, double* lo, double* hi) {
  constexpr int kFixed = M > 0 ? M : 1;
  double l[kFixed], h[kFixed];
  for (int v = 0; v < kFixed; ++v) l[v] = lo[v], h[v] = hi[v];
  int ok = 1;
  for (Index p = begin; p < end; ++p) {
    const double* x = list.points + list.row(p) * m;
    if constexpr (M > 0) {
      for (int v = 0; v < M; ++v) {
        ok &= std::fabs(x[v]) <= std::numeric_limits<double>::max();  // false for NaN too
        l[v] = x[v] < l[v] ? x[v] : l[v];
        h[v] = x[v] > h[v] ? x[v] : h[v];
      }
    } else {
      for (Index v = 0; v < m; ++v) {
        ok &= std::fabs(x[v]) <= std::numeric_limits<double>::max();
        lo[v] = x[v] < lo[v] ? x[v] : lo[v];
        hi[v] = x[v] > hi[v] ? x[v] : hi[v];
      }
    }
  }
  if constexpr (M > 0)
    for (int v = 0; v < M; ++v) lo[v] = l[v], hi[v] = h[v];
  return ok != 0;
}

}  // namespace

Frame Frame::bounding_box(const PointList& list) {
  const Index m = list.dim;
  constexpr double inf = std::numeric_limits<double>::infinity();
  // Per-chunk extremes, combined after the loop; min and max are exact, so any thread count
  // gives the same frame.
  const Index chunks = std::clamp<Index>(list.size / 16384, 1, 256);
  Eigen::MatrixXd lo = Eigen::MatrixXd::Constant(m, chunks, inf), hi = -lo;
  int finite = 1;
#pragma omp parallel for schedule(static) reduction(&& : finite) num_threads(team(list.size* m))
  for (Index c = 0; c < chunks; ++c) {
    const Index begin = list.size * c / chunks, end = list.size * (c + 1) / chunks;
    double* l = lo.col(c).data();
    double* h = hi.col(c).data();
    bool ok;
    switch (m) {
      case 1:
        ok = extremes<1>(list, m, begin, end, l, h);
        break;
      case 2:
        ok = extremes<2>(list, m, begin, end, l, h);
        break;
      case 3:
        ok = extremes<3>(list, m, begin, end, l, h);
        break;
      case 4:
        ok = extremes<4>(list, m, begin, end, l, h);
        break;
      default:
        ok = extremes<0>(list, m, begin, end, l, h);
    }
    finite = finite && ok;
  }
  if (!finite)
    throw std::invalid_argument("the points hold NaN or inf; remove or repair those rows first");
  const Eigen::VectorXd low = lo.rowwise().minCoeff(), high = hi.rowwise().maxCoeff();
  // Halves first: (low + high) overflows for coordinates near the double range (1e308), and
  // halving is exact, so ordinary inputs get the same frame bit for bit.
  Frame frame{low / 2 + high / 2, Eigen::VectorXd::Ones(m)};
  for (Index v = 0; v < m; ++v) {
    const double half = high[v] / 2 - low[v] / 2;
    if (!(half > 0)) continue;
    frame.inv_half_width[v] = 1.0 / half;
    if (!std::isfinite(frame.inv_half_width[v])) {
      std::ostringstream msg;
      msg << "coordinate " << v << " of the points varies by only " << 2 * half
          << ", below the smallest normal double (its scale 1 / " << half
          << " overflows); multiply that column by a large power of two, or drop it";
      throw std::invalid_argument(msg.str());
    }
  }
  return frame;
}

void Frame::apply(const double* x, double* out) const {
  for (Index v = 0; v < centre.size(); ++v) out[v] = (x[v] - centre[v]) * inv_half_width[v];
}

}  // namespace tchakaloff
