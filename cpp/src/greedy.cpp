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

// Live objects: input rows and weights (sorted by row), and each one's `group` nearest live
// objects (positions in this list, nearest first) with the squared radius of that ball.
// The live set only ever shrinks and objects never move, so a neighbour list none of whose
// members was removed is still exact in the next round: only the others are searched again.
struct Live {
  std::vector<Index> rows;
  std::vector<double> weights;
  Index group = 0;                  // neighbours per object (0: none known yet)
  std::vector<Index> neighbours;    // size() * group
  std::vector<double> radius;       // size()
  std::vector<char> stale;          // size(): its neighbour list must be searched again

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

// Searches the `group` nearest live objects of every object whose list is missing or stale.
void find_neighbours(const PointList& list, const Frame& frame, Live& live, Index group) {
  const Index n = live.size(), m = list.dim;
  if (live.group != group) {  // a new ball size: every list is searched
    live.group = group;
    live.neighbours.assign(static_cast<size_t>(n * group), 0);
    live.radius.assign(static_cast<size_t>(n), 0.0);
    live.stale.assign(static_cast<size_t>(n), 1);
  }
  if (std::none_of(live.stale.begin(), live.stale.end(), [](char s) { return s != 0; })) return;
  const std::vector<double> z = frame_coordinates(list, frame, live.rows);
  const NeighbourTree tree(z.data(), n, m);
  // A search costs some tens of distance and heap steps per neighbour.
#pragma omp parallel if (n * group * 16 > kParallelWork)
  {
    std::vector<double> distance2(static_cast<size_t>(group));
#pragma omp for schedule(static)
    for (Index p = 0; p < n; ++p) {
      if (!live.stale[static_cast<size_t>(p)]) continue;
      tree.nearest(z.data() + p * m, group, live.neighbours.data() + p * group, distance2.data());
      live.radius[static_cast<size_t>(p)] = distance2.back();
      live.stale[static_cast<size_t>(p)] = 0;
    }
  }
}

// One round: pick disjoint smallest balls of `group` live objects, at most enough of them to
// remove `excess` objects, and reduce each to N (reduce_cells: the balls are its cells).
// Returns the new live set, with the neighbour lists that are still exact carried over.
Live merge_round(const PointList& list, const Frame& frame, Index degree, Live& live,
                 Index group, Index excess, const CompressOptions& cell_options,
                 double& moment_error) {
  const Index n = live.size(), m = list.dim;
  find_neighbours(list, frame, live, group);
  const std::vector<double>& radius = live.radius;
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
    const Index* members = live.neighbours.data() + p * group;
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

  // The next live set, sorted by row: the unused objects and what the balls kept.
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

  // Old position -> new position (-1: removed). Rows keep their order, so the mapped lists
  // keep their ties in the same order too.
  std::vector<Index> moved(static_cast<size_t>(n), -1);
  for (size_t p = 0, q = 0; p < live.rows.size() && q < result.rows.size(); ++p)
    if (live.rows[p] == result.rows[q]) moved[p] = static_cast<Index>(q++);
  result.group = group;
  result.neighbours.resize(static_cast<size_t>(result.size() * group));
  result.radius.resize(static_cast<size_t>(result.size()));
  result.stale.assign(static_cast<size_t>(result.size()), 0);
  for (size_t p = 0; p < live.rows.size(); ++p) {
    const auto q = static_cast<size_t>(moved[p]);
    if (moved[p] < 0) continue;
    result.radius[q] = live.radius[p];
    const Index* before = live.neighbours.data() + p * static_cast<size_t>(group);
    Index* after = result.neighbours.data() + q * static_cast<size_t>(group);
    for (Index j = 0; j < group; ++j) {
      after[j] = moved[static_cast<size_t>(before[j])];
      if (after[j] < 0) {
        result.stale[q] = 1;
        break;
      }
    }
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
#pragma omp parallel if (list.size * list.dim * 16 > kParallelWork)
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
