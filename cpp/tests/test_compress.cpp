// NeighbourTree against brute force, compress (kd and greedy) against its contract: at most
// `size` kept rows, positive weights, the total and the global moments unchanged, the same
// answer for any thread count; the greedy rounds against a plain version of them; and the
// parallel sort the rounds use against std::sort.

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <tchakaloff/compress.hpp>
#include <tchakaloff/greedy.hpp>
#include <tchakaloff/neighbours.hpp>
#include <tchakaloff/parallel_sort.hpp>
#include <utility>
#include <vector>

#include "check.hpp"

using tchakaloff::Compression;
using tchakaloff::CompressOptions;
using tchakaloff::Index;
using tchakaloff::NeighbourTree;
using tchakaloff::Partition;
using tchakaloff::PointList;

namespace {

std::vector<double> uniform_points(Index n, Index m, unsigned seed, double grid = 0.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> x(static_cast<size_t>(n * m));
  for (double& v : x) v = grid > 0 ? std::round(u(rng) / grid) * grid : u(rng);  // grid: ties
  return x;
}

// The (squared distance, index) pairs from row p of x (m columns) to every row, sorted: the
// brute-force reference. With `position`, rows are reported by position, negative ones left out.
std::vector<std::pair<double, Index>> by_distance(const std::vector<double>& x, Index m, Index p,
                                                  const std::vector<Index>* position = nullptr) {
  std::vector<std::pair<double, Index>> all;
  for (Index q = 0; q < static_cast<Index>(x.size()) / m; ++q) {
    const Index reported = position ? (*position)[static_cast<size_t>(q)] : q;
    if (reported < 0) continue;
    double d2 = 0;
    for (Index v = 0; v < m; ++v)
      d2 += (x[q * m + v] - x[p * m + v]) * (x[q * m + v] - x[p * m + v]);
    all.emplace_back(d2, reported);
  }
  std::sort(all.begin(), all.end());
  return all;
}

void nearest_matches_brute_force() {
  // grid: ties everywhere; count 17, 120 and 300 take the sorted buffer, the heap and the
  // scan of all points; `removed` skips every third point through the position map.
  for (const double grid : {0.0, 0.25})
    for (const Index count : {17, 120, 300})
      for (const bool removed : {false, true}) {
        const Index n = 2000, m = 3;
        const std::vector<double> x = uniform_points(n, m, 1, grid);
        const NeighbourTree tree(x.data(), n, m);
        std::vector<Index> position(static_cast<size_t>(n));
        for (Index q = 0, alive = 0; q < n; ++q)
          position[static_cast<size_t>(q)] = removed && q % 3 == 0 ? -1 : alive++;
        std::vector<Index> found(static_cast<size_t>(count));
        std::vector<double> distance2(static_cast<size_t>(count));
        for (Index p = 0; p < n; p += 37) {
          const auto all = by_distance(x, m, p, &position);
          tree.nearest(x.data() + p * m, count, found.data(), distance2.data(),
                       removed ? position.data() : nullptr);
          for (Index j = 0; j < count; ++j) {
            CHECK(found[static_cast<size_t>(j)] == all[static_cast<size_t>(j)].second);
            CHECK(distance2[static_cast<size_t>(j)] == all[static_cast<size_t>(j)].first);
          }
        }
      }
}

double moment(const std::vector<double>& x, Index m, const std::vector<Index>& rows,
              const std::vector<double>& weights, const std::vector<int>& power) {
  double total = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    double value = weights[i];
    for (Index v = 0; v < m; ++v)
      value *= std::pow(x[rows[i] * m + v], power[static_cast<size_t>(v)]);
    total += value;
  }
  return total;
}

void compress_keeps_moments(Partition partition) {
  const Index n = 6000, m = 2, degree = 3, size = 600;
  const std::vector<double> x = uniform_points(n, m, 2);
  const PointList list{x.data(), m, n, nullptr, nullptr};
  CompressOptions options;
  options.partition = partition;
  options.merge = 2;
  options.prepass = partition == Partition::greedy ? 3.0 : 0.0;
  const Compression c = tchakaloff::compress(list, degree, size, options);
  CHECK(static_cast<Index>(c.indices.size()) <= size);
  // greedy's last merges remove only the excess (k-d cells fill the rest in Python)
  if (partition == Partition::greedy) CHECK(static_cast<Index>(c.indices.size()) == size);
  CHECK(std::is_sorted(c.indices.begin(), c.indices.end()));
  CHECK(std::all_of(c.weights.begin(), c.weights.end(), [](double w) { return w > 0; }));
  CHECK(static_cast<Index>(c.labels.size()) == n);
  std::vector<Index> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), Index{0});
  const std::vector<double> ones(static_cast<size_t>(n), 1.0);
  for (int a = 0; a <= degree; ++a)
    for (int b = 0; a + b <= degree; ++b)
      CHECK_NEAR(moment(x, m, c.indices, c.weights, {a, b}), moment(x, m, all, ones, {a, b}),
                 1e-10 * n);
#ifdef _OPENMP
  CompressOptions one_thread = options;
  one_thread.threads = 1;
  const Compression serial = tchakaloff::compress(list, degree, size, one_thread);
  CHECK(serial.indices == c.indices);
  CHECK(serial.weights == c.weights);
  CHECK(serial.labels == c.labels);
#endif
}

}  // namespace

// The greedy rounds written plainly: every list searched by brute force in every round.
// greedy_compress searches lazily, keeps longer lists across rounds and reuses its tree;
// it must take the same balls in the same order, so the result is the same to the bit.
Compression plain_greedy(const std::vector<double>& x, Index m, Index degree, Index size,
                         const CompressOptions& options) {
  const Index n_all = static_cast<Index>(x.size()) / m, n = tchakaloff::n_moments(m, degree);
  const PointList list{x.data(), m, n_all, nullptr, nullptr};
  const tchakaloff::Frame frame = tchakaloff::Frame::bounding_box(list);
  std::vector<Index> rows(static_cast<size_t>(n_all));
  std::iota(rows.begin(), rows.end(), Index{0});
  std::vector<double> weights(rows.size(), 1.0);
  while (static_cast<Index>(rows.size()) > size) {
    const auto live = static_cast<Index>(rows.size());
    const Index group =
        std::min(live, n + std::min(live - size, std::max<Index>(1, options.merge)));
    std::vector<double> z(static_cast<size_t>(live * m));
    for (Index p = 0; p < live; ++p)
      frame.apply(x.data() + rows[static_cast<size_t>(p)] * m, z.data() + p * m);
    std::vector<std::vector<Index>> ball(static_cast<size_t>(live));
    std::vector<std::pair<double, Index>> order;
    for (Index p = 0; p < live; ++p) {
      const auto all = by_distance(z, m, p);
      for (Index j = 0; j < group; ++j)
        ball[static_cast<size_t>(p)].push_back(all[static_cast<size_t>(j)].second);
      order.emplace_back(all[static_cast<size_t>(group - 1)].first, p);
    }
    std::sort(order.begin(), order.end());
    std::vector<char> used(static_cast<size_t>(live), 0);
    std::vector<Index> member_rows;
    std::vector<double> member_weights;
    tchakaloff::Cells balls{{}, {0}};
    for (const auto& [radius, p] : order) {
      if ((balls.count() + 1) * (group - n) > live - size) break;  // whole balls only
      const std::vector<Index>& members = ball[static_cast<size_t>(p)];
      if (std::any_of(members.begin(), members.end(),
                      [&](Index q) { return used[static_cast<size_t>(q)]; }))
        continue;
      for (const Index q : members) {
        used[static_cast<size_t>(q)] = 1;
        member_rows.push_back(rows[static_cast<size_t>(q)]);
        member_weights.push_back(weights[static_cast<size_t>(q)]);
        balls.order.push_back(static_cast<Index>(balls.order.size()));
      }
      balls.offsets.push_back(static_cast<Index>(balls.order.size()));
    }
    const PointList members{x.data(), m, static_cast<Index>(member_rows.size()), member_rows.data(),
                            member_weights.data()};
    const Compression merged = tchakaloff::reduce_cells(members, balls, degree, options);
    std::vector<std::pair<Index, double>> next;
    for (Index p = 0; p < live; ++p)
      if (!used[static_cast<size_t>(p)])
        next.emplace_back(rows[static_cast<size_t>(p)], weights[static_cast<size_t>(p)]);
    for (size_t i = 0; i < merged.indices.size(); ++i)
      next.emplace_back(merged.indices[i], merged.weights[i]);
    std::sort(next.begin(), next.end());
    rows.clear();
    weights.clear();
    for (const auto& [row, weight] : next) {
      rows.push_back(row);
      weights.push_back(weight);
    }
  }
  Compression result;
  result.indices = rows;
  result.weights = weights;
  return result;
}

void greedy_matches_plain_rounds() {
  for (const auto& [m, degree] : {std::pair<Index, Index>{2, 3}, {3, 2}, {1, 4}}) {
    const Index n = 1500, size = 150;
    const std::vector<double> x = uniform_points(n, m, 5);
    CompressOptions options;
    options.partition = Partition::greedy;
    options.prefer_central = false;
    options.merge = 2;
    const PointList list{x.data(), m, n, nullptr, nullptr};
    const Compression fast = tchakaloff::greedy_compress(
        list, tchakaloff::Frame::bounding_box(list), degree, size, options);
    const Compression plain = plain_greedy(x, m, degree, size, options);
    CHECK(fast.indices == plain.indices);
    CHECK(fast.weights == plain.weights);
  }
}

// parallel_sort gives std::sort's order for every thread count (chunks merged pairwise,
// an odd chunk count included).
void parallel_sort_matches_sort() {
  std::mt19937_64 rng(9);
  std::vector<std::pair<double, Index>> values(100003);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = {static_cast<double>(rng() % 1000), static_cast<Index>(i)};  // ties on .first
  std::vector<std::pair<double, Index>> expected = values;
  std::sort(expected.begin(), expected.end());
#ifdef _OPENMP
  for (const int threads : {1, 2, 3, 5}) {
    const tchakaloff::CallThreads call(threads);
#endif
    std::vector<std::pair<double, Index>> sorted = values;
    tchakaloff::parallel_sort(sorted);
    CHECK(sorted == expected);
#ifdef _OPENMP
  }
#endif
}

// Ctrl-C: one large cell polls inside its reduction, and greedy's k-d prepass polls between
// its batches of cells, before the first round reports progress (neither polled before).
void compress_polls() {
  const Index n = 200'000, m = 3;
  const std::vector<double> x = uniform_points(n, m, 11);
  const PointList list{x.data(), m, n, nullptr, nullptr};
  int polls = 0;
  CompressOptions options;
  options.poll = [&] { ++polls; };
  const Compression one_cell = tchakaloff::compress(list, 4, 35, options);
  CHECK(one_cell.cells == 1 && one_cell.indices.size() <= 35);
  CHECK(polls >= 16);
  int before_progress = -1;
  polls = 0;
  options.partition = Partition::greedy;
  options.prepass = 4.0;
  options.merge = 4;
  options.progress = [&](Index, Index) {
    if (before_progress < 0) before_progress = polls;
  };
  const Compression greedy = tchakaloff::compress(list, 2, 10'000, options);
  CHECK(static_cast<Index>(greedy.indices.size()) == 10'000);
  CHECK(before_progress >= 10);
}

// An exception thrown on a worker thread comes out of the region as itself, after it.
void first_error_leaves_the_region() {
  const tchakaloff::CallThreads call(2);
  tchakaloff::FirstError error;
  std::vector<int> done(1000, 0);
#pragma omp parallel for schedule(static) num_threads(tchakaloff::team(Index{1} << 30))
  for (int i = 0; i < 1000; ++i)
    error.run([&] {
      if (i % 97 == 13) throw std::invalid_argument("row " + std::to_string(i));
      done[static_cast<size_t>(i)] = 1;
    });
  CHECK_THROWS_WITH(error.rethrow(), std::invalid_argument, "row ");
  CHECK(std::count(done.begin(), done.end(), 1) == 1000 - 11);
}

// Factors far apart in the cells' metric: the squared distances overflowed and a neighbour
// search threw inside a parallel region, which ended the process.
void extreme_metric() {
  const Index n = 500, m = 3;
  const std::vector<double> x = uniform_points(n, m, 12);
  const PointList list{x.data(), m, n, nullptr, nullptr};
  for (const Partition partition : {Partition::kd, Partition::greedy}) {
    CompressOptions options;
    options.partition = partition;
    options.metric = Eigen::Vector3d(1e160, 1.0, 1.0);
    const Compression c = tchakaloff::compress(list, 2, 60, options);
    CHECK(static_cast<Index>(c.indices.size()) <= 60);
    CHECK(c.moment_error < 1e-9);
  }
}

// The default options are what the Python API runs: greedy's automatic merge and k-d pass
// resolve to the documented values (the same result as setting them), "auto" picks the largest
// affordable degree, and out-of-range settings are refused by the core itself.
void default_options_are_the_products() {
  CHECK(tchakaloff::greedy_merge(15) == 1 && tchakaloff::greedy_merge(84) == 10);
  CHECK(std::abs(tchakaloff::greedy_prepass(2, 4) - std::pow(16.0, 0.4)) < 1e-15);
  CHECK(tchakaloff::greedy_prepass(4, 1) == 4.0);  // capped at kPrepassMax
  CHECK(tchakaloff::auto_degree(2, 300) == 23);    // N(2, 23) = 300 < N(2, 24) = 325
  CHECK(tchakaloff::auto_degree(1, 2000) == 499);  // at most 500 moments
  CHECK(tchakaloff::auto_degree(3, 3) == 0);

  const Index n = 4000, m = 2, degree = 3, size = 400;
  const std::vector<double> x = uniform_points(n, m, 21);
  const PointList list{x.data(), m, n, nullptr, nullptr};
  CompressOptions automatic;
  automatic.partition = Partition::greedy;
  CompressOptions chosen = automatic;
  chosen.merge = tchakaloff::greedy_merge(tchakaloff::n_moments(m, degree));
  chosen.prepass = tchakaloff::greedy_prepass(m, degree);
  const Compression a = tchakaloff::compress(list, degree, size, automatic);
  const Compression b = tchakaloff::compress(list, degree, size, chosen);
  CHECK(a.indices == b.indices && a.weights == b.weights);
  CHECK(static_cast<Index>(a.indices.size()) == size);

  CompressOptions bad_merge, bad_threads;
  bad_merge.merge = -1;
  bad_threads.threads = -1;
  CHECK_THROWS(tchakaloff::compress(list, degree, size, bad_merge), std::invalid_argument);
  CHECK_THROWS(tchakaloff::compress(list, degree, size, bad_threads), std::invalid_argument);
}

int main() {
  check::run("default_options_are_the_products", default_options_are_the_products);
  check::run("nearest_matches_brute_force", nearest_matches_brute_force);
  check::run("parallel_sort_matches_sort", parallel_sort_matches_sort);
  check::run("compress_polls", compress_polls);
  check::run("first_error_leaves_the_region", first_error_leaves_the_region);
  check::run("extreme_metric", extreme_metric);
  check::run("kd_keeps_moments", [] { compress_keeps_moments(Partition::kd); });
  check::run("greedy_keeps_moments", [] { compress_keeps_moments(Partition::greedy); });
  check::run("greedy_matches_plain_rounds", greedy_matches_plain_rounds);
  return check::finish("test_compress");
}
