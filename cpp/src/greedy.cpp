// Greedy compression: many small merges, smallest groups first (the scheme the paper's error
// bounds are proved for). A merge of N + q objects into N changes only the weight that q
// objects carried, inside a ball of the smallest radius available, so its error is a small
// fraction of a one-shot cell's; done in rounds, the merges of one round are independent.

#include <tchakaloff/compress.hpp>
#include <tchakaloff/neighbours.hpp>

#include <algorithm>
#include <numeric>

namespace tchakaloff {

namespace {

// Live objects: input rows, weights, and their coordinates in the frame (row-major).
struct Live {
  std::vector<Index> rows;
  std::vector<double> weights;

  Index size() const { return static_cast<Index>(rows.size()); }
};

std::vector<double> frame_coordinates(const PointList& list, const Frame& frame,
                                      const std::vector<Index>& rows) {
  const Index m = list.dim;
  std::vector<double> z(rows.size() * static_cast<size_t>(m));
  for (size_t i = 0; i < rows.size(); ++i)
    frame.apply(list.points + rows[i] * m, z.data() + i * static_cast<size_t>(m));
  return z;
}

// One round: pick disjoint smallest balls of `group` live objects, at most enough of them to
// remove `excess` objects, and reduce each to N (reduce_cells: the balls are its cells).
// Returns the new live set.
Live merge_round(const PointList& list, const Frame& frame, Index degree, const Live& live,
                 Index group, Index excess, const CompressOptions& cell_options,
                 double& moment_error) {
  const Index n = live.size(), m = list.dim;
  const std::vector<double> z = frame_coordinates(list, frame, live.rows);
  const NeighbourTree tree(z.data(), n, m);
  std::vector<Index> neighbours(static_cast<size_t>(n * group));
  std::vector<double> radius(static_cast<size_t>(n));
#pragma omp parallel if (n * group * m > kParallelWork)
  {
    std::vector<double> distance2(static_cast<size_t>(group));
#pragma omp for schedule(static)
    for (Index p = 0; p < n; ++p) {
      tree.nearest(z.data() + p * m, group, neighbours.data() + p * group, distance2.data());
      radius[static_cast<size_t>(p)] = distance2.back();
    }
  }
  std::vector<Index> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    return radius[static_cast<size_t>(a)] < radius[static_cast<size_t>(b)] ||
           (radius[static_cast<size_t>(a)] == radius[static_cast<size_t>(b)] && a < b);
  });

  // Disjoint groups, smallest first (sequential: each choice blocks its members). Their
  // members, ball after ball, make the list that reduce_cells reduces cell by cell.
  const Index removes = group - n_moments(m, degree);
  std::vector<char> used(static_cast<size_t>(n), 0);
  std::vector<Index> rows;
  std::vector<double> weights;
  Cells balls{{}, {0}};
  for (const Index p : order) {
    if (static_cast<Index>(balls.offsets.size() - 1) * removes >= excess) break;
    const Index* members = neighbours.data() + p * group;
    if (std::any_of(members, members + group, [&](Index q) { return used[static_cast<size_t>(q)]; }))
      continue;
    for (Index j = 0; j < group; ++j) {
      const auto q = static_cast<size_t>(members[j]);
      used[q] = 1;
      rows.push_back(live.rows[q]);
      weights.push_back(live.weights[q]);
      balls.order.push_back(static_cast<Index>(balls.order.size()));
    }
    balls.offsets.push_back(static_cast<Index>(balls.order.size()));
  }
  const PointList members{list.points, m, static_cast<Index>(rows.size()), rows.data(),
                          weights.data()};
  const Compression merged = reduce_cells(members, balls, degree, cell_options);
  moment_error = std::max(moment_error, merged.moment_error);

  std::vector<std::pair<Index, double>> next;
  next.reserve(static_cast<size_t>(n));
  for (Index p = 0; p < n; ++p)
    if (!used[static_cast<size_t>(p)])
      next.emplace_back(live.rows[static_cast<size_t>(p)], live.weights[static_cast<size_t>(p)]);
  for (size_t i = 0; i < merged.indices.size(); ++i)
    next.emplace_back(merged.indices[i], merged.weights[i]);
  std::sort(next.begin(), next.end());
  Live result;
  for (const auto& [row, weight] : next) {
    result.rows.push_back(row);
    result.weights.push_back(weight);
  }
  return result;
}

}  // namespace

Compression greedy_compress(const PointList& list, const Frame& frame, Index degree, Index size,
                            const CompressOptions& options) {
  const Index n = n_moments(list.dim, degree);
  CompressOptions cell_options = options;  // the rounds report progress, not their cells
  cell_options.progress = nullptr;

  Live live;
  double moment_error = 0.0;
  if (options.presort > 1.0 && static_cast<double>(list.size) > options.presort * static_cast<double>(size)) {
    // Far from the target the groups are tiny anyway: one k-d pass gets there faster.
    const auto first = static_cast<Index>(options.presort * static_cast<double>(size));
    const Compression cut =
        reduce_cells(list, kd_cells(list, frame, std::max<Index>(1, first / n)), degree, cell_options);
    live.rows = cut.indices;
    live.weights = cut.weights;
    moment_error = cut.moment_error;
  } else {
    for (Index p = 0; p < list.size; ++p)
      if (list.weight(p) > 0) {
        live.rows.push_back(list.row(p));
        live.weights.push_back(list.weight(p));
      }
  }

  const Index start = live.size();
  while (live.size() > size) {
    const Index group = std::min(live.size(), n + std::max<Index>(1, options.merge));
    live = merge_round(list, frame, degree, live, group, live.size() - size, cell_options,
                       moment_error);
    if (options.progress) options.progress(start - live.size(), start - size);
  }

  Compression result;
  result.indices = live.rows;
  result.weights = live.weights;
  result.moment_error = moment_error;
  result.cells = live.size();
  // Cells of a greedy run are the kept objects' Voronoi cells: each input object's label is
  // its nearest kept object.
  const std::vector<double> kept = frame_coordinates(list, frame, live.rows);
  const NeighbourTree tree(kept.data(), live.size(), list.dim);
  result.labels.resize(static_cast<size_t>(list.size));
#pragma omp parallel if (list.size * list.dim > kParallelWork)
  {
    std::vector<double> z(static_cast<size_t>(list.dim));
#pragma omp for schedule(static)
    for (Index p = 0; p < list.size; ++p) {
      frame.apply(list.points + list.row(p) * list.dim, z.data());
      double distance2 = 0.0;
      tree.nearest(z.data(), 1, &result.labels[static_cast<size_t>(p)], &distance2);
    }
  }
  return result;
}

}  // namespace tchakaloff
