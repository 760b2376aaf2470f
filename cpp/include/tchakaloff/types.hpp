#pragma once
// Shared vocabulary of the core: matrix types, the point lists the kernels walk over, and the
// errors they raise.

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace tchakaloff {

using Index = std::int64_t;
// Row-major matches numpy's C order, so points cross the Python boundary without a copy.
using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using PointsRef = Eigen::Ref<const RowMatrixXd>;

// Parallel regions open only above this much work (points x functions, or similar): below
// it, waking threads costs more than it saves.
constexpr Index kParallelWork = 200000;

// Called between batches of work on the calling thread; may throw to abort (Ctrl-C).
using Poll = std::function<void()>;

// A numerical breakdown that is not the caller's fault (Python sees tchakaloff.ReductionError).
class ReductionError : public std::runtime_error {
 public:
  explicit ReductionError(const std::string& what) : std::runtime_error(what) {}
};

// A weighted list of rows of a point array. Position p in the list is the row
// `rows ? rows[p] : p` with weight `weights ? weights[p] : 1`. The kernels never copy points:
// a reduction level is a new (rows, weights) list over the same array.
struct PointList {
  const double* points = nullptr;  // row-major, `dim` columns
  Index dim = 0;
  Index size = 0;
  const Index* rows = nullptr;
  const double* weights = nullptr;

  Index row(Index p) const { return rows ? rows[p] : p; }
  double weight(Index p) const { return weights ? weights[p] : 1.0; }
};

}  // namespace tchakaloff
