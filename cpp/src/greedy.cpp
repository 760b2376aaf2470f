// Greedy compression: many small merges, smallest groups first (the scheme the paper's error
// bounds are proved for). A merge of N + q objects into N changes only the weight that q
// objects carried, inside a ball of the smallest radius available, so its error is a small
// fraction of a one-shot cell's; done in rounds, the merges of one round are independent.

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <queue>
#include <tchakaloff/greedy.hpp>
#include <tchakaloff/neighbours.hpp>
#include <tchakaloff/parallel.hpp>
#include <tchakaloff/parallel_sort.hpp>

namespace tchakaloff {

namespace {

// Live objects: input rows and weights (sorted by row), and for each one its nearest live
// objects (positions in this list, nearest first, ties by position) with their squared
// distances. A search lists `width` = 2 group of them (all, when fewer live); the live set
// only ever shrinks and objects never move, so while at least `group` listed objects are
// alive, the first `group` of them are still exactly the nearest: a list is searched again
// only after about half of it was removed.
struct Live {
  std::vector<Index> rows;
  std::vector<double> weights;
  Index group = 0;                // objects per ball (0: nothing searched yet)
  Index width = 0;                // list slots per object
  std::vector<Index> neighbours;  // size() * width, the first `alive` of them live
  std::vector<double> distance2;  // size() * width
  std::vector<Index> alive;       // size()
  std::vector<double> reach;      // size(): the farthest listed distance of the last search
  // A tree over the live objects of an earlier round, with each of its points' position in
  // this list (-1: removed since); rebuilt once half of its points are gone.
  std::optional<NeighbourTree> tree;
  std::vector<Index> tree_position;

  Index size() const { return static_cast<Index>(rows.size()); }
  bool exact(Index p) const { return alive[static_cast<size_t>(p)] >= group; }
  // The ball's squared radius if the list is exact, else a lower bound of it (the reach:
  // everything not listed was at least that far).
  double radius(Index p) const {
    return exact(p) ? distance2[static_cast<size_t>(p * width + group - 1)]
                    : reach[static_cast<size_t>(p)];
  }
};

std::vector<double> frame_coordinates(const PointList& list, const Frame& frame,
                                      const std::vector<Index>& rows) {
  const Index m = list.dim;
  std::vector<double> z(rows.size() * static_cast<size_t>(m));
  for (size_t i = 0; i < rows.size(); ++i)
    frame.apply(list.points + rows[i] * m, z.data() + i * static_cast<size_t>(m));
  return z;
}

// Searches the lists of the given objects, in parallel.
void search_neighbours(const PointList& list, const Frame& frame, Live& live,
                       const std::vector<Index>& objects) {
  if (objects.empty()) return;
  const Index m = list.dim, width = live.width, count = std::min(width, live.size());
  if (!live.tree || 2 * live.size() < live.tree->size()) {
    const std::vector<double> z = frame_coordinates(list, frame, live.rows);
    live.tree.emplace(z.data(), live.size(), m);
    live.tree_position.resize(static_cast<size_t>(live.size()));
    std::iota(live.tree_position.begin(), live.tree_position.end(), Index{0});
  }
  const auto n_objects = static_cast<Index>(objects.size());
  // A search costs about a hundred cycles per listed neighbour.
  FirstError error;
#pragma omp parallel num_threads(team(n_objects* count * 128))
  {
    std::vector<double> z;  // allocated where a failure is caught; the loop still runs
    error.run([&] { z.resize(static_cast<size_t>(m)); });
#pragma omp for schedule(static)
    for (Index i = 0; i < n_objects; ++i)
      if (!z.empty())
        error.run([&] {
          const auto p = static_cast<size_t>(objects[static_cast<size_t>(i)]);
          double* distance2 = live.distance2.data() + p * width;
          frame.apply(list.points + live.rows[p] * m, z.data());
          live.tree->nearest(z.data(), count, live.neighbours.data() + p * width, distance2,
                             live.tree_position.data());
          live.alive[p] = count;
          live.reach[p] = distance2[count - 1];
        });
  }
  error.rethrow();
}

// The balls of one round: their members' rows and weights, ball after ball (the cells of
// `balls`), and which live objects they took.
struct Balls {
  std::vector<Index> rows;
  std::vector<double> weights;
  Cells cells{{}, {0}};
  std::vector<char> used;
};

// Picks disjoint smallest balls of `group` live objects, at most enough of them to remove
// `excess` objects (whole balls only: the caller shrinks the last round's balls to the
// excess left).
Balls take_balls(const PointList& list, const Frame& frame, Index degree, Live& live, Index group,
                 Index excess, const Poll& poll) {
  const Index n = live.size(), m = list.dim;
  if (live.group != group) {  // a new ball size: every list is searched
    live.group = group;
    live.width = 2 * group;
    live.neighbours.resize(static_cast<size_t>(n * live.width));
    live.distance2.resize(live.neighbours.size());
    live.alive.assign(static_cast<size_t>(n), 0);
    live.reach.assign(static_cast<size_t>(n), 0.0);
  }
  // Balls are taken smallest first, ties by position. Searched lazily: removals only ever
  // grow a ball, so a stale radius is a lower bound, and a ball whose radius is exact and
  // not above any other bound is the smallest. Stale lists are searched when their turn
  // comes (a batch at a time, in parallel), and never for objects a ball already took.
  using Key = std::pair<double, Index>;
  std::vector<Key> order(static_cast<size_t>(n));
  for (Index p = 0; p < n; ++p) order[static_cast<size_t>(p)] = {live.radius(p), p};
  parallel_sort(order);
  // Lists searched in this round, with their true radius, waiting for their turn.
  std::priority_queue<Key, std::vector<Key>, std::greater<>> waiting;
  constexpr size_t kBatch = 256;

  // Disjoint groups, smallest first (sequential: each choice blocks its members). Their
  // members, ball after ball, make the list that reduce_cells reduces cell by cell.
  const Index removes = group - n_moments(m, degree);
  Balls taken;
  taken.used.assign(static_cast<size_t>(n), 0);
  std::vector<char>& used = taken.used;
  Cells& balls = taken.cells;
  std::vector<char> searched(static_cast<size_t>(n), 0);  // its key in `order` is outdated
  // Still to be met in `order`: not taken (its own ball would hold a taken object) and not
  // waiting with a new radius.
  auto pending = [&](Index q) {
    return !used[static_cast<size_t>(q)] && !searched[static_cast<size_t>(q)];
  };
  size_t cursor = 0;
  // Whole balls only: the caller shrinks the balls of the last round to the excess left.
  while (static_cast<Index>(balls.offsets.size()) * removes <= excess) {
    while (cursor < order.size() && !pending(order[cursor].second)) ++cursor;
    Index p;
    if (cursor < order.size() && (waiting.empty() || order[cursor] < waiting.top())) {
      p = order[cursor].second;
      if (!live.exact(p)) {
        // The smallest bound is not exact: search the stale lists of the next batch, which
        // then wait with their true radius.
        std::vector<Index> stale;
        for (size_t i = cursor; i < std::min(order.size(), cursor + kBatch); ++i) {
          const Index q = order[i].second;
          if (pending(q) && !live.exact(q)) stale.push_back(q);
        }
        search_neighbours(list, frame, live, stale);
        if (poll) poll();
        for (const Index q : stale) {
          searched[static_cast<size_t>(q)] = 1;
          waiting.emplace(live.radius(q), q);
        }
        continue;
      }
      ++cursor;
    } else if (!waiting.empty()) {
      p = waiting.top().second;
      waiting.pop();
    } else {
      break;
    }
    const Index* members = live.neighbours.data() + p * live.width;
    if (std::any_of(members, members + group,
                    [&](Index q) { return used[static_cast<size_t>(q)]; }))
      continue;
    for (Index j = 0; j < group; ++j) {
      const auto q = static_cast<size_t>(members[j]);
      used[q] = 1;
      taken.rows.push_back(live.rows[q]);
      taken.weights.push_back(live.weights[q]);
      balls.order.push_back(static_cast<Index>(balls.order.size()));
    }
    balls.offsets.push_back(static_cast<Index>(balls.order.size()));
  }
  return taken;
}

// The live set after a round into `result` (whose buffers it reuses: they only shrink, so
// nothing is allocated or cleared again): the objects no ball took and what the balls kept,
// sorted by row, with the neighbour lists mapped to the new positions (still exact while
// `group` of their objects remain).
void next_live(Live& live, const std::vector<char>& used, const Compression& merged, Live& result) {
  const Index n = live.size();
  // The next live set, sorted by row: the unused objects (in row order already) merged with
  // what the balls kept (sorted by reduce_cells).
  result.rows.clear();
  result.weights.clear();
  size_t k = 0;
  for (Index p = 0; p <= n; ++p) {
    const Index row = p < n ? live.rows[static_cast<size_t>(p)] : std::numeric_limits<Index>::max();
    for (; k < merged.indices.size() && merged.indices[k] < row; ++k) {
      result.rows.push_back(merged.indices[k]);
      result.weights.push_back(merged.weights[k]);
    }
    if (p < n && !used[static_cast<size_t>(p)]) {
      result.rows.push_back(row);
      result.weights.push_back(live.weights[static_cast<size_t>(p)]);
    }
  }

  // Old position -> new position (-1: removed). Rows keep their order, so the mapped lists
  // keep their ties in the same order too.
  std::vector<Index> moved(static_cast<size_t>(n), -1);
  for (size_t p = 0, q = 0; p < live.rows.size() && q < result.rows.size(); ++p)
    if (live.rows[p] == result.rows[q]) moved[p] = static_cast<Index>(q++);
  result.tree = std::move(live.tree);
  result.tree_position = std::move(live.tree_position);
  for (Index& position : result.tree_position)
    if (position >= 0) position = moved[static_cast<size_t>(position)];

  // Lists keep their live objects, in order; the ball stays exact while `group` remain.
  const Index width = live.width;
  result.group = live.group;
  result.width = width;
  result.neighbours.resize(static_cast<size_t>(result.size() * width));
  result.distance2.resize(result.neighbours.size());
  result.alive.resize(static_cast<size_t>(result.size()));
  result.reach.resize(static_cast<size_t>(result.size()));
#pragma omp parallel for schedule(static) num_threads(team(n* width))
  for (Index p = 0; p < n; ++p) {
    if (moved[static_cast<size_t>(p)] < 0) continue;
    const auto q = static_cast<size_t>(moved[static_cast<size_t>(p)]);
    const Index* before = live.neighbours.data() + p * width;
    const double* before2 = live.distance2.data() + p * width;
    Index* after = result.neighbours.data() + q * width;
    double* after2 = result.distance2.data() + q * width;
    Index alive = 0;
    for (Index j = 0; j < live.alive[static_cast<size_t>(p)]; ++j)
      if (moved[static_cast<size_t>(before[j])] >= 0) {
        after[alive] = moved[static_cast<size_t>(before[j])];
        after2[alive++] = before2[j];
      }
    result.alive[q] = alive;
    result.reach[q] = live.reach[static_cast<size_t>(p)];
  }
}

// One round: the balls, each reduced to N (reduce_cells: the balls are its cells), and the
// live set that follows.
void merge_round(const PointList& list, const Frame& frame, Index degree, Live& live, Index group,
                 Index excess, const CompressOptions& cell_options, double& moment_error,
                 Live& result) {
  const Balls balls = take_balls(list, frame, degree, live, group, excess, cell_options.poll);
  const PointList members{list.points, list.dim, static_cast<Index>(balls.rows.size()),
                          balls.rows.data(), balls.weights.data()};
  const Compression merged = reduce_cells(members, balls.cells, degree, cell_options);
  moment_error = std::max(moment_error, merged.moment_error);
  next_live(live, balls.used, merged, result);
}

}  // namespace

Compression greedy_compress(const PointList& list, const Frame& frame, Index degree, Index size,
                            const CompressOptions& options) {
  const Index n = n_moments(list.dim, degree);
  CompressOptions cell_options = options;  // the rounds report progress, not their cells
  cell_options.progress = nullptr;
  // Measured: the next-moment search in the k-d pass's cells made the merges after it less
  // accurate (Fig. 2, m = 2, k = 4: 3.1e-11 against 1.7e-11), and greedy's balls are too
  // small for it.
  cell_options.refine_steps = 0;

  Live live;
  double moment_error = 0.0;
  if (options.prepass > 1.0 &&
      static_cast<double>(list.size) > options.prepass * static_cast<double>(size)) {
    // Far from the target one k-d pass is much cheaper than rounds (the caller sizes it so
    // that its cells leave a small Taylor remainder next to the last merges).
    const auto first = static_cast<Index>(options.prepass * static_cast<double>(size));
    // never fewer cells than hold `size` (N each): near size ~ N, first / N would keep less
    const Index cells = std::max(first / n, (size + n - 1) / n);
    const Compression cut =
        reduce_cells(list, kd_cells(list, frame, cells, options.poll), degree, cell_options);
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
  Live next;
  while (live.size() > size) {
    // The last rounds remove no more than the excess, so that exactly `size` objects stay.
    const Index removes = std::min(live.size() - size, std::max<Index>(1, options.merge));
    const Index group = std::min(live.size(), n + removes);
    merge_round(list, frame, degree, live, group, live.size() - size, cell_options, moment_error,
                next);
    if (next.size() >= live.size())  // no ball could be taken or reduced: it would loop
      throw ReductionError(
          "a greedy round removed no object; the objects are too ill-conditioned at this "
          "degree: lower the degree, or use partition='kd'");
    std::swap(live, next);
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
  constexpr Index kChunk = Index{1} << 16;  // rows between two polls
  for (Index begin = 0; begin < list.size; begin += kChunk) {
    const Index end = std::min(list.size, begin + kChunk);
    FirstError error;
#pragma omp parallel num_threads(team((end - begin) * list.dim * 16))
    {
      std::vector<double> z;
      error.run([&] { z.resize(static_cast<size_t>(list.dim)); });
#pragma omp for schedule(static)
      for (Index p = begin; p < end; ++p)
        if (!z.empty())
          error.run([&] {
            frame.apply(list.points + list.row(p) * list.dim, z.data());
            double distance2 = 0.0;
            tree.nearest(z.data(), 1, &result.labels[static_cast<size_t>(p)], &distance2);
          });
    }
    error.rethrow();
    if (options.poll) options.poll();
  }
  return result;
}

}  // namespace tchakaloff
