#pragma once
// Caratheodory reduction (the Tchakaloff step): keep at most N = C(m+k, k) of n weighted points,
// with new non-negative weights and the same moments up to degree k.
//
// Recursive form (Litterer-Lyons, Tchernychova, Maalouf-Jubran-Feldman): split the live points
// into G groups, reduce the G group barycentres in R^N with one null-space elimination
// (O(G N^2 + G (G - N)^2), not one solve per removed point), drop the groups that lost all
// weight, rescale the survivors and recurse. Each level re-reads the surviving points from
// their coordinates, so no n x N matrix is ever stored: O(n N + N^3 log(n / N)) time and
// O(G N) extra memory. Lists of at most 4N points (greedy's balls) are reduced on their
// features, evaluated once; a single elimination (at most 2N points) is not re-fitted.

#include <tchakaloff/moments.hpp>
#include <tchakaloff/parallel.hpp>

namespace tchakaloff {

// Reduce's own limit on N: its dense steps hold a few G x N matrices with G >= 2N.
constexpr Index kMaxReduceMoments = 5000;

struct ReduceOptions {
  Basis basis = Basis::chebyshev;
  // Prefer points near the centre of mass: every elimination lowers the weighted sum of
  // |z - mean|^(2 ceil((k+1)/2)) (z in the [-1, 1]^m frame), the next moment the kept set
  // cannot match: in compress, the cells' leading error term. Off by default.
  bool prefer_central = false;
  Poll poll;        // called between batches of groups and between levels
  int threads = 0;  // this call's threads (0: automatic, see CallThreads)
};

struct Reduction {
  std::vector<Index> indices;   // sorted rows of the input
  std::vector<double> weights;  // > 0, same total as the input
  double moment_error = 0.0;    // max |moment residual| / total weight, in the [-1, 1]^m frame
  Index levels = 0;
};

// The positive-weight points of a list, in list order (their rows and weights).
struct LivePoints {
  std::vector<Index> rows;
  std::vector<double> weights;
  Index size() const { return static_cast<Index>(rows.size()); }
  // As a list over the same point array (valid while this object lives).
  PointList list(const PointList& of) const {
    return {of.points, of.dim, size(), rows.data(), weights.data()};
  }
};
LivePoints live_points(const PointList& list);

// Weights `weights` may be null (all ones). Zero-weight points are never kept.
Reduction reduce(const PointList& list, Index degree, const ReduceOptions& options = {});
// The same with a table built once by the caller (compress reduces many cells with one).
Reduction reduce(const PointList& list, const MonomialTable& table, const ReduceOptions& options);

// The dense step. Rows of `features` are points in R^N; on return at most rank(features)
// entries of `weights` are positive, none negative, and features^T weights is unchanged up to
// rounding. Returns the number of positive entries. With a `cost` per row (or empty), every
// elimination step moves the weights in the direction where cost . weights does not grow:
// among the many valid subsets this steers toward a cheap one.
// `poll` is called every 64 removals (the loop is O(G N^2): seconds at N ~ 1000).
Index eliminate(const RowMatrixXd& features, Eigen::VectorXd& weights,
                const Eigen::VectorXd& cost = {}, const Poll& poll = {});

// The same contract for many rows (G >> N): the recursion of `reduce` on explicit features,
// O(G N + N^3 log(G / N)). `poll` is called between its levels.
Index reduce_rows(const RowMatrixXd& features, Eigen::VectorXd& weights,
                  const Eigen::VectorXd& cost = {}, const Poll& poll = {});

// Among the many subsets with the same moments, one that also matches the next ones: from a
// subset of exactly rank(features) points (`kept`: rows of `features`, with `kept_weights`),
// simplex pivots (one point in, one out, weights >= 0, the moments unchanged) while the
// squared residual of the `next` moments (one row per point) to `target` falls, each step
// taking the pivot that lowers it most, at most `steps` of them. The residual of the
// degree-(k + 1) moments is the leading term of a cell's error, so the subset it ends on is
// the more accurate one. Returns the pivots made (kept and kept_weights updated in place).
Index match_next_moments(const RowMatrixXd& features, const RowMatrixXd& next,
                         const Eigen::VectorXd& target, std::vector<Index>& kept,
                         Eigen::VectorXd& kept_weights, Index steps);

// Least-squares re-fit of `weights` (one per row of `features`) to `target` moments. Keeps
// the old weights unless the new ones are all positive and fit better. Returns the residual
// (infinity norm) of the kept weights.
double refit(const RowMatrixXd& features, const Eigen::VectorXd& target, Eigen::VectorXd& weights);

}  // namespace tchakaloff
