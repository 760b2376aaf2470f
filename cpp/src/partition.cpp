#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <tchakaloff/parallel.hpp>
#include <tchakaloff/partition.hpp>
#include <utility>

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

// A cut between cells: rows whose key along `axis` is below `key` go to the left side.
struct Cut {
  Index axis = 0;
  Rows::Key key{0.0, 0};
};

// Cuts [begin, end) into n_cells parts; the cut between cells c - 1 and c goes to cuts[c].
void split(Rows& rows, const Frame& frame, std::vector<Cut>& cuts, FirstError& error, Index begin,
           Index end, Index first_cell, Index n_cells) {
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
  // Halves first: hi - lo overflows for coordinates near the double range.
  Index axis = 0;
  ((hi / 2 - lo / 2).cwiseProduct(frame.inv_half_width)).maxCoeff(&axis);

  const Index left_cells = n_cells / 2;
  const Index middle = begin + (end - begin) * left_cells / n_cells;
  select(rows, axis, begin, middle, end - 1);
  cuts[static_cast<size_t>(first_cell + left_cells)] = {axis, rows.key(middle, axis)};
  // Halves are independent: run the large ones as tasks (an exception stays in its task).
#pragma omp task default(shared) if (end - begin > 16384)
  error.run([&] { split(rows, frame, cuts, error, begin, middle, first_cell, left_cells); });
#pragma omp task default(shared) if (end - begin > 16384)
  error.run([&] {
    split(rows, frame, cuts, error, middle, end, first_cell + left_cells, n_cells - left_cells);
  });
#pragma omp taskwait
}

// Rows the cuts are chosen on: all of them up to a sample size, else one drawn at random
// from each of `sample` equal strata (a fixed seed: the cells stay a function of the input).
// The median of a sample this large lands within a few percent of the true one, and the
// cells then cost one pass over the rows instead of one per level of the tree.
std::vector<Index> cut_sample(Index size, Index n_cells) {
  const Index sample = std::max<Index>(Index{1} << 17, 256 * n_cells);
  std::vector<Index> positions(static_cast<size_t>(std::min(size, sample)));
  if (size <= sample) {
    std::iota(positions.begin(), positions.end(), Index{0});
  } else {
    std::mt19937_64 generator(20251001);
    for (Index s = 0; s < sample; ++s) {
      const Index begin = size * s / sample, end = size * (s + 1) / sample;
      positions[static_cast<size_t>(s)] =
          begin + static_cast<Index>(generator() % static_cast<std::uint64_t>(end - begin));
    }
  }
  return positions;
}

}  // namespace

Cells kd_cells(const PointList& list, const Frame& frame, Index n_cells, const Poll& poll) {
  if (n_cells < 1) throw std::invalid_argument("the number of cells must be at least 1");
  n_cells = std::min(n_cells, std::max<Index>(list.size, 1));
  const Index m = list.dim;
  auto point = [&](Index p) { return list.points + list.row(p) * m; };
  std::vector<Cut> cuts(static_cast<size_t>(n_cells));
  {
    Rows rows{{}, cut_sample(list.size, n_cells), m};
    const auto n_rows = static_cast<Index>(rows.order.size());
    rows.coords.resize(static_cast<size_t>(n_rows * m));
#pragma omp parallel for schedule(static) num_threads(team(n_rows* m))
    for (Index r = 0; r < n_rows; ++r)
      std::copy_n(point(rows.order[static_cast<size_t>(r)]), m, rows.coords.data() + r * m);
    FirstError error;
#pragma omp parallel num_threads(team(n_rows * 8))
#pragma omp single
    error.run([&] { split(rows, frame, cuts, error, 0, n_rows, 0, n_cells); });
    error.rethrow();
  }
  if (poll) poll();

  // Every row goes down the cuts to its cell (for the sampled rows, where the split put them).
  // A descent is a chain of dependent loads, so a block of rows descends level by level
  // together: the block's chains overlap. Every row takes the same number of steps, without
  // branches (a one-cell part stays where it is).
  std::vector<Index> cell_of(static_cast<size_t>(list.size));
  Index depth = 0;
  while ((Index{1} << depth) < n_cells) ++depth;
  constexpr Index kBlock = 16;
  constexpr Index kBlocksPerPoll = Index{1} << 16;  // about a million rows
  const Index n_blocks = (list.size + kBlock - 1) / kBlock;
  for (Index start = 0; start < n_blocks; start += kBlocksPerPoll) {
    const Index stop = std::min(n_blocks, start + kBlocksPerPoll);
#pragma omp parallel for schedule(static) num_threads(team((stop - start) * kBlock * depth))
    for (Index b = start; b < stop; ++b) {
      const Index begin = b * kBlock, rows_here = std::min(kBlock, list.size - begin);
      Index first[kBlock] = {}, count[kBlock];
      std::fill_n(count, kBlock, n_cells);
      for (Index level = 0; level < depth; ++level)
        for (Index j = 0; j < rows_here; ++j) {
          const Index left = count[j] / 2, p = begin + j;
          const Cut& cut = cuts[static_cast<size_t>(first[j] + left)];
          const double v = point(p)[cut.axis];  // not below the cut's key, with bitwise ops
          const bool right =
              (count[j] == 1) | (v > cut.key.x) | ((v == cut.key.x) & (p >= cut.key.position));
          first[j] += right ? left : 0;
          count[j] = right ? count[j] - left : left;
        }
      std::copy_n(first, rows_here, cell_of.data() + begin);
    }
    if (poll) poll();
  }

  // Each cell lists its objects in input order, so that what a cell's reduction keeps depends
  // on the cells alone: a counting sort by cell, over chunks of rows in parallel (each chunk
  // writes its rows of a cell after those of the chunks before it).
  const Index chunks = std::clamp<Index>(list.size / 65536, 1, 64);
  std::vector<Index> slot(static_cast<size_t>(chunks * n_cells), 0);  // chunk-major
  auto chunk_rows = [&](Index c) {
    return std::pair{list.size * c / chunks, list.size * (c + 1) / chunks};
  };
#pragma omp parallel for schedule(static) num_threads(chunks > 1 ? team(list.size) : 1)
  for (Index c = 0; c < chunks; ++c) {
    const auto [begin, end] = chunk_rows(c);
    for (Index p = begin; p < end; ++p)
      ++slot[static_cast<size_t>(c * n_cells + cell_of[static_cast<size_t>(p)])];
  }
  Cells cells;
  cells.offsets.assign(static_cast<size_t>(n_cells + 1), 0);
  Index next = 0;
  for (Index cell = 0; cell < n_cells; ++cell) {
    cells.offsets[static_cast<size_t>(cell)] = next;
    for (Index c = 0; c < chunks; ++c)
      next += std::exchange(slot[static_cast<size_t>(c * n_cells + cell)], next);
  }
  cells.offsets.back() = next;
  cells.order.resize(static_cast<size_t>(list.size));
#pragma omp parallel for schedule(static) num_threads(chunks > 1 ? team(list.size) : 1)
  for (Index c = 0; c < chunks; ++c) {
    const auto [begin, end] = chunk_rows(c);
    Index* chunk_slot = slot.data() + c * n_cells;
    for (Index p = begin; p < end; ++p)
      cells.order[static_cast<size_t>(chunk_slot[cell_of[static_cast<size_t>(p)]]++)] = p;
  }
  return cells;
}

}  // namespace tchakaloff
