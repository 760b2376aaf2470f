#include <tchakaloff/partition.hpp>

#include <algorithm>
#include <limits>
#include <numeric>

namespace tchakaloff {

namespace {

void split(const PointList& list, const Frame& frame, Cells& cells, Index begin, Index end,
           Index first_cell, Index n_cells) {
  if (n_cells <= 1 || end - begin <= 1) return;
  const Index m = list.dim;
  Index* order = cells.order.data();
  Eigen::VectorXd lo = Eigen::VectorXd::Constant(m, std::numeric_limits<double>::infinity());
  Eigen::VectorXd hi = -lo;
  for (Index p = begin; p < end; ++p) {
    const double* x = list.points + list.row(order[p]) * m;
    for (Index v = 0; v < m; ++v) {
      lo[v] = std::min(lo[v], x[v]);
      hi[v] = std::max(hi[v], x[v]);
    }
  }
  Index axis = 0;
  ((hi - lo).cwiseProduct(frame.inv_half_width)).maxCoeff(&axis);

  const Index left_cells = n_cells / 2;
  const Index middle = begin + (end - begin) * left_cells / n_cells;
  std::nth_element(order + begin, order + middle, order + end, [&](Index a, Index b) {
    const double xa = list.points[list.row(a) * m + axis], xb = list.points[list.row(b) * m + axis];
    return xa < xb || (xa == xb && a < b);
  });
  cells.offsets[static_cast<size_t>(first_cell + left_cells)] = middle;
  // Halves are independent: run the large ones as tasks.
#pragma omp task default(shared) if (end - begin > 100000)
  split(list, frame, cells, begin, middle, first_cell, left_cells);
#pragma omp task default(shared) if (end - begin > 100000)
  split(list, frame, cells, middle, end, first_cell + left_cells, n_cells - left_cells);
#pragma omp taskwait
}

}  // namespace

Cells kd_cells(const PointList& list, const Frame& frame, Index n_cells) {
  if (n_cells < 1) throw std::invalid_argument("the number of cells must be at least 1");
  n_cells = std::min(n_cells, std::max<Index>(list.size, 1));
  Cells cells;
  cells.order.resize(static_cast<size_t>(list.size));
  std::iota(cells.order.begin(), cells.order.end(), Index{0});
  cells.offsets.assign(static_cast<size_t>(n_cells + 1), 0);
  cells.offsets.back() = list.size;
#pragma omp parallel if (list.size > kParallelWork)
#pragma omp single
  split(list, frame, cells, 0, list.size, 0, n_cells);
  return cells;
}

}  // namespace tchakaloff
