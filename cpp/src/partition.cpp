#include <tchakaloff/partition.hpp>

#include <algorithm>
#include <limits>
#include <numeric>

namespace tchakaloff {

namespace {

// The points being cut, copied row by row in the order of `order` (list positions): every
// scan below reads memory in sequence, where reading through `order` missed the cache at
// almost every point on large inputs.
struct Rows {
  std::vector<double> coords;  // row-major, m columns
  std::vector<Index> order;
  Index m;

  const double* row(Index p) const { return coords.data() + p * m; }
  // Strict order along `axis`, ties broken by list position (so a total order: deterministic).
  bool less(Index a, Index b, Index axis) const {
    const double xa = row(a)[axis], xb = row(b)[axis];
    return xa < xb || (xa == xb && order[static_cast<size_t>(a)] < order[static_cast<size_t>(b)]);
  }
  void swap(Index a, Index b) {
    std::swap_ranges(coords.data() + a * m, coords.data() + (a + 1) * m, coords.data() + b * m);
    std::swap(order[static_cast<size_t>(a)], order[static_cast<size_t>(b)]);
  }
};

// Quickselect in place on whole rows (std::nth_element cannot move rows of run-time width):
// afterwards rows [begin, nth) precede row nth along `axis` and rows (nth, end) follow it.
void select(Rows& rows, Index axis, Index begin, Index nth, Index end) {
  while (end - begin > 16) {
    // Median of three spread positions as the pivot, parked at `begin`.
    const Index mid = begin + (end - begin) / 2, last = end - 1;
    if (rows.less(mid, begin, axis)) rows.swap(mid, begin);
    if (rows.less(last, begin, axis)) rows.swap(last, begin);
    if (rows.less(last, mid, axis)) rows.swap(last, mid);
    rows.swap(begin, mid);  // begin: the median; mid: the smallest of the three
    // Hoare partition around the pivot row (keys are distinct under the total order).
    Index i = begin, j = end;
    for (;;) {
      do ++i; while (i < end && rows.less(i, begin, axis));
      do --j; while (rows.less(begin, j, axis));
      if (i >= j) break;
      rows.swap(i, j);
    }
    rows.swap(begin, j);  // the pivot lands at j, its place in sorted order
    if (j == nth) return;
    if (nth < j) end = j;
    else begin = j + 1;
  }
  for (Index i = begin + 1; i < end; ++i)  // insertion sort of the last few
    for (Index j = i; j > begin && rows.less(j, j - 1, axis); --j) rows.swap(j, j - 1);
}

void split(Rows& rows, const Frame& frame, std::vector<Index>& offsets, Index begin, Index end,
           Index first_cell, Index n_cells) {
  if (n_cells <= 1 || end - begin <= 1) return;
  const Index m = rows.m;
  Eigen::VectorXd lo = Eigen::VectorXd::Constant(m, std::numeric_limits<double>::infinity());
  Eigen::VectorXd hi = -lo;
  for (Index p = begin; p < end; ++p) {
    const double* x = rows.row(p);
    for (Index v = 0; v < m; ++v) {
      lo[v] = std::min(lo[v], x[v]);
      hi[v] = std::max(hi[v], x[v]);
    }
  }
  Index axis = 0;
  ((hi - lo).cwiseProduct(frame.inv_half_width)).maxCoeff(&axis);

  const Index left_cells = n_cells / 2;
  const Index middle = begin + (end - begin) * left_cells / n_cells;
  select(rows, axis, begin, middle, end);
  offsets[static_cast<size_t>(first_cell + left_cells)] = middle;
  // Halves are independent: run the large ones as tasks.
#pragma omp task default(shared) if (end - begin > 100000)
  split(rows, frame, offsets, begin, middle, first_cell, left_cells);
#pragma omp task default(shared) if (end - begin > 100000)
  split(rows, frame, offsets, middle, end, first_cell + left_cells, n_cells - left_cells);
#pragma omp taskwait
}

}  // namespace

Cells kd_cells(const PointList& list, const Frame& frame, Index n_cells) {
  if (n_cells < 1) throw std::invalid_argument("the number of cells must be at least 1");
  n_cells = std::min(n_cells, std::max<Index>(list.size, 1));
  const Index m = list.dim;
  Rows rows{std::vector<double>(static_cast<size_t>(list.size * m)),
            std::vector<Index>(static_cast<size_t>(list.size)), m};
  std::iota(rows.order.begin(), rows.order.end(), Index{0});
#pragma omp parallel for schedule(static) if (list.size * m > kParallelWork)
  for (Index p = 0; p < list.size; ++p)
    std::copy_n(list.points + list.row(p) * m, m, rows.coords.data() + p * m);

  Cells cells;
  cells.offsets.assign(static_cast<size_t>(n_cells + 1), 0);
  cells.offsets.back() = list.size;
#pragma omp parallel if (list.size > kParallelWork)
#pragma omp single
  split(rows, frame, cells.offsets, 0, list.size, 0, n_cells);
  cells.order = std::move(rows.order);
  return cells;
}

}  // namespace tchakaloff
