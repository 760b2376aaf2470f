#include <tchakaloff/partition.hpp>

#include <algorithm>
#include <cmath>
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
  // Sort key along an axis: ties broken by list position, so the order is total and the
  // cells deterministic.
  struct Key {
    double x;
    Index position;
    bool operator<(const Key& other) const {
      return x < other.x || (x == other.x && position < other.position);
    }
  };
  Key key(Index p, Index axis) const { return {row(p)[axis], order[static_cast<size_t>(p)]}; }
  void swap(Index a, Index b) {
    std::swap_ranges(coords.data() + a * m, coords.data() + (a + 1) * m, coords.data() + b * m);
    std::swap(order[static_cast<size_t>(a)], order[static_cast<size_t>(b)]);
  }
};

// Selection in place on whole rows (std::nth_element cannot move rows of run-time width):
// afterwards rows [left, k) precede row k along `axis` and rows (k, right] follow it.
// Floyd and Rivest's algorithm: the pivot is first selected within a window around k (a
// sample of about n^(2/3) rows), so it lands within a few hundred ranks of k and each pass
// over the rows discards almost all of them; about 1.5 n comparisons for a median where
// quickselect makes 3 n or more, and the passes are what costs on large inputs (memory).
void select(Rows& rows, Index axis, Index left, Index k, Index right) {
  while (right > left) {
    if (right - left > 600) {
      // Window of s rows around k, shifted by sd towards the nearer end (their formulas).
      const auto n = static_cast<double>(right - left + 1), i = static_cast<double>(k - left + 1);
      const double z = std::log(n), s = 0.5 * std::exp(2 * z / 3);
      const double sd = 0.5 * std::sqrt(z * s * (n - s) / n) * (i < n / 2 ? -1 : i > n / 2 ? 1 : 0);
      const auto at = static_cast<double>(k);
      select(rows, axis, std::max(left, static_cast<Index>(at - i * s / n + sd)), k,
             std::min(right, static_cast<Index>(at + (n - i) * s / n + sd)));
    }
    // Partition around the row at k (Hoare's scheme with sentinels at both ends).
    const Rows::Key t = rows.key(k, axis);
    Index i = left, j = right;
    rows.swap(left, k);
    if (t < rows.key(right, axis)) rows.swap(right, left);
    while (i < j) {
      rows.swap(i, j);
      ++i;
      --j;
      while (rows.key(i, axis) < t) ++i;
      while (t < rows.key(j, axis)) --j;
    }
    if (rows.order[static_cast<size_t>(left)] == t.position) {
      rows.swap(left, j);
    } else {
      ++j;
      rows.swap(j, right);
    }
    // The pivot is now at j, its place in sorted order.
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
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
  select(rows, axis, begin, middle, end - 1);
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

  // Each cell lists its objects in input order, so that what a cell's reduction keeps depends
  // on the cells alone, not on where the selection happened to leave its rows.
  std::vector<double>().swap(rows.coords);
  const Index* offsets = cells.offsets.data();
  Index* order = rows.order.data();
  std::vector<Index> cell_of(static_cast<size_t>(list.size));
#pragma omp parallel for schedule(static) if (list.size > kParallelWork)
  for (Index c = 0; c < n_cells; ++c)
    for (Index p = offsets[c]; p < offsets[c + 1]; ++p) cell_of[static_cast<size_t>(order[p])] = c;
  std::vector<Index> fill(cells.offsets.begin(), cells.offsets.end() - 1);  // next slot per cell
  for (size_t p = 0; p < cell_of.size(); ++p)
    order[fill[static_cast<size_t>(cell_of[p])]++] = static_cast<Index>(p);
  cells.order = std::move(rows.order);
  return cells;
}

}  // namespace tchakaloff
