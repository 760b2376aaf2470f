// NeighbourTree against brute force, and compress (kd and greedy) against its contract: at
// most `size` kept rows, positive weights, the total and the global moments unchanged, the
// same answer for any thread count.

#include <tchakaloff/compress.hpp>
#include <tchakaloff/neighbours.hpp>

#include "check.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

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
          std::vector<std::pair<double, Index>> all;
          for (Index q = 0; q < n; ++q) {
            if (position[static_cast<size_t>(q)] < 0) continue;
            double d2 = 0;
            for (Index v = 0; v < m; ++v)
              d2 += (x[q * m + v] - x[p * m + v]) * (x[q * m + v] - x[p * m + v]);
            all.emplace_back(d2, position[static_cast<size_t>(q)]);
          }
          std::sort(all.begin(), all.end());
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
    for (Index v = 0; v < m; ++v) value *= std::pow(x[rows[i] * m + v], power[static_cast<size_t>(v)]);
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
  options.presort = partition == Partition::greedy ? 3.0 : 0.0;
  const Compression c = tchakaloff::compress(list, degree, size, options);
  CHECK(static_cast<Index>(c.indices.size()) <= size);
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
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const Compression serial = tchakaloff::compress(list, degree, size, options);
  omp_set_num_threads(threads);
  CHECK(serial.indices == c.indices);
  CHECK(serial.weights == c.weights);
  CHECK(serial.labels == c.labels);
#endif
}

}  // namespace

int main() {
  check::run("nearest_matches_brute_force", nearest_matches_brute_force);
  check::run("kd_keeps_moments", [] { compress_keeps_moments(Partition::kd); });
  check::run("greedy_keeps_moments", [] { compress_keeps_moments(Partition::greedy); });
  return check::finish("test_compress");
}
