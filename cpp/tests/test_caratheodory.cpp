// eliminate / reduce_rows / refit / reduce: the Caratheodory contract (at most N or rank
// survivors, non-negative weights, features^T w unchanged), checked with plain loops.

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <tchakaloff/caratheodory.hpp>
#include <vector>

#include "check.hpp"

using tchakaloff::Basis;
using tchakaloff::Index;
using tchakaloff::MonomialTable;
using tchakaloff::PointList;
using tchakaloff::RowMatrixXd;

namespace {

// Rows: the Chebyshev features of random points in [-1, 1]^m (column 0 is the constant 1).
RowMatrixXd chebyshev_features(Index rows, Index m, Index k, std::mt19937_64& rng,
                               double line = 0.0) {
  const MonomialTable table(m, k);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  RowMatrixXd f(rows, table.size());
  std::vector<double> x(static_cast<size_t>(m)), out(static_cast<size_t>(table.size()));
  for (Index i = 0; i < rows; ++i) {
    const double t = unif(rng);
    for (Index v = 0; v < m; ++v)  // line != 0: every point on the diagonal x_v = t
      x[static_cast<size_t>(v)] = line != 0.0 ? t : unif(rng);
    table.evaluate(x.data(), Basis::chebyshev, out.data());
    for (Index j = 0; j < table.size(); ++j) f(i, j) = out[static_cast<size_t>(j)];
  }
  return f;
}

Eigen::VectorXd positive_weights(Index n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unif(0.1, 1.0);
  Eigen::VectorXd w(n);
  for (Index i = 0; i < n; ++i) w[i] = unif(rng);
  return w;
}

Index count_positive(const Eigen::VectorXd& w) { return (w.array() > 0).count(); }

// features^T w_after equals features^T w_before up to rounding.
void check_preserved(const RowMatrixXd& f, const Eigen::VectorXd& before,
                     const Eigen::VectorXd& after, double rtol = 1e-12) {
  const Eigen::VectorXd a = f.transpose() * before, b = f.transpose() * after;
  const Eigen::VectorXd scale = f.cwiseAbs().transpose() * before.cwiseAbs();
  CHECK(((a - b).cwiseAbs().array() <= rtol * scale.array() + 1e-300).all());
  CHECK_NEAR(before.sum(), after.sum(), rtol * before.sum());
}

Index rank_of(const RowMatrixXd& f) {
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(f);
  qr.setThreshold(1e-10);
  return qr.rank();
}

void test_eliminate_generic() {
  std::mt19937_64 rng(1);
  const int cases[][2] = {{1, 5}, {2, 3}, {3, 2}, {2, 6}, {4, 3}};
  for (const auto& mk : cases) {
    const Index m = mk[0], k = mk[1], n = tchakaloff::n_moments(m, k);
    for (Index g : {n + 1, 2 * n, 3 * n + 7}) {
      const RowMatrixXd f = chebyshev_features(g, m, k, rng);
      const Eigen::VectorXd before = positive_weights(g, rng);
      Eigen::VectorXd w = before;
      const Index kept = tchakaloff::eliminate(f, w);
      CHECK(kept == count_positive(w));
      CHECK(kept <= n);
      CHECK(kept >= 1);
      CHECK((w.array() >= 0).all());
      check_preserved(f, before, w);
    }
  }
}

void test_eliminate_rank_deficient() {
  std::mt19937_64 rng(2);
  // Points on a line in R^3 at degree 4: N = 35 features but rank 5.
  {
    const RowMatrixXd f = chebyshev_features(60, 3, 4, rng, /*line=*/1.0);
    const Index r = rank_of(f);
    CHECK(r == 5);
    const Eigen::VectorXd before = positive_weights(60, rng);
    Eigen::VectorXd w = before;
    const Index kept = tchakaloff::eliminate(f, w);
    CHECK(kept == count_positive(w));
    CHECK(kept <= r);
    CHECK((w.array() >= 0).all());
    check_preserved(f, before, w);
  }
  // Ten distinct rows, each repeated: rank <= 10 whatever N is.
  {
    const RowMatrixXd distinct = chebyshev_features(10, 2, 5, rng);
    RowMatrixXd f(80, distinct.cols());
    for (Index i = 0; i < 80; ++i) f.row(i) = distinct.row(i % 10);
    const Eigen::VectorXd before = positive_weights(80, rng);
    Eigen::VectorXd w = before;
    const Index kept = tchakaloff::eliminate(f, w);
    CHECK(kept <= 10);
    CHECK((w.array() >= 0).all());
    check_preserved(f, before, w);
  }
  // All rows equal: one survivor carries the whole weight.
  {
    RowMatrixXd f = chebyshev_features(1, 2, 3, rng).replicate(25, 1);
    const Eigen::VectorXd before = positive_weights(25, rng);
    Eigen::VectorXd w = before;
    CHECK(tchakaloff::eliminate(f, w) == 1);
    CHECK_NEAR(w.sum(), before.sum(), 1e-13 * before.sum());
  }
}

void test_eliminate_zero_and_small_inputs() {
  std::mt19937_64 rng(3);
  const RowMatrixXd f = chebyshev_features(40, 2, 2, rng);
  // Zero weights stay zero, and count as absent.
  Eigen::VectorXd before = positive_weights(40, rng);
  for (Index i = 0; i < 40; i += 3) before[i] = 0.0;
  Eigen::VectorXd w = before;
  const Index kept = tchakaloff::eliminate(f, w);
  CHECK(kept <= 6);
  for (Index i = 0; i < 40; i += 3) CHECK(w[i] == 0.0);
  CHECK((w.array() >= 0).all());
  check_preserved(f, before, w);
  // All zero: nothing to do.
  Eigen::VectorXd zeros = Eigen::VectorXd::Zero(40);
  CHECK(tchakaloff::eliminate(f, zeros) == 0);
  CHECK(zeros.isZero(0.0));
  // Fewer live rows than the rank: unchanged.
  const RowMatrixXd few = f.topRows(4);
  const Eigen::VectorXd few_before = positive_weights(4, rng);
  Eigen::VectorXd few_w = few_before;
  CHECK(tchakaloff::eliminate(few, few_w) == 4);
  CHECK(few_w == few_before);
}

void test_reduce_rows() {
  std::mt19937_64 rng(4);
  const int cases[][2] = {{1, 4}, {2, 3}, {3, 3}};
  for (const auto& mk : cases) {
    const Index m = mk[0], k = mk[1], n = tchakaloff::n_moments(m, k);
    for (Index g : {3 * n, 40 * n + 3}) {
      const RowMatrixXd f = chebyshev_features(g, m, k, rng);
      Eigen::VectorXd before = positive_weights(g, rng);
      before[0] = 0.0;
      Eigen::VectorXd w = before;
      const Index kept = tchakaloff::reduce_rows(f, w);
      CHECK(kept == count_positive(w));
      CHECK(kept <= n);
      CHECK(w[0] == 0.0);
      CHECK((w.array() >= 0).all());
      check_preserved(f, before, w, 1e-11);
    }
  }
}

void test_refit() {
  std::mt19937_64 rng(5);
  const RowMatrixXd f = chebyshev_features(10, 2, 3, rng);  // square, generic: exact fit exists
  const Eigen::VectorXd exact = positive_weights(10, rng);
  const Eigen::VectorXd target = f.transpose() * exact;
  Eigen::VectorXd w = exact;
  for (Index i = 0; i < 10; ++i) w[i] *= 1.0 + 1e-7 * static_cast<double>(i % 3);
  const double before = (f.transpose() * w - target).cwiseAbs().maxCoeff();
  const double residual = tchakaloff::refit(f, target, w);
  const double after = (f.transpose() * w - target).cwiseAbs().maxCoeff();
  CHECK(residual <= before);
  CHECK_NEAR(residual, after, 1e-15 * target.cwiseAbs().maxCoeff());
  CHECK(after < 1e-12 * target.cwiseAbs().maxCoeff());
  CHECK((w.array() > 0).all());
  // A fit that would need a negative weight is refused: the old weights are kept.
  Eigen::VectorXd neg = exact;
  neg[0] = -0.5;
  const Eigen::VectorXd far_target = f.transpose() * neg;
  Eigen::VectorXd kept = exact;
  tchakaloff::refit(f, far_target, kept);
  CHECK(kept == exact);
}

// ---- reduce() on point lists -----------------------------------------------------------------

struct Points {
  std::vector<double> x, w;
  Index n, m;
  PointList list(bool weighted = true) const {
    return {x.data(), m, n, nullptr, weighted ? w.data() : nullptr};
  }
};

Points random_points(Index n, Index m, unsigned seed, double zero_fraction) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Points p{std::vector<double>(static_cast<size_t>(n * m)),
           std::vector<double>(static_cast<size_t>(n)), n, m};
  for (Index i = 0; i < n; ++i)
    for (Index v = 0; v < m; ++v)
      p.x[static_cast<size_t>(i * m + v)] =
          normal(rng) * static_cast<double>(v + 1) + 3.0 * static_cast<double>(v);
  for (auto& w : p.w) w = unif(rng) < zero_fraction ? 0.0 : 0.05 + unif(rng);
  return p;
}

// Monomial moments in the bounding-box frame, computed here without the library's kernels.
Eigen::VectorXd box_moments(const Points& p, const std::vector<Index>& rows,
                            const std::vector<double>& weights, Index k) {
  const MonomialTable table(p.m, k);
  std::vector<double> lo(static_cast<size_t>(p.m), 1e300), hi(static_cast<size_t>(p.m), -1e300);
  for (Index i = 0; i < p.n; ++i)
    for (Index v = 0; v < p.m; ++v) {
      lo[static_cast<size_t>(v)] =
          std::min(lo[static_cast<size_t>(v)], p.x[static_cast<size_t>(i * p.m + v)]);
      hi[static_cast<size_t>(v)] =
          std::max(hi[static_cast<size_t>(v)], p.x[static_cast<size_t>(i * p.m + v)]);
    }
  Eigen::VectorXd out = Eigen::VectorXd::Zero(table.size());
  for (size_t s = 0; s < rows.size(); ++s)
    for (Index j = 0; j < table.size(); ++j) {
      double term = weights[s];
      for (Index v = 0; v < p.m; ++v) {
        const double half = (hi[static_cast<size_t>(v)] - lo[static_cast<size_t>(v)]) / 2;
        const double y = (p.x[static_cast<size_t>(rows[s] * p.m + v)] -
                          (hi[static_cast<size_t>(v)] + lo[static_cast<size_t>(v)]) / 2) /
                         (half > 0 ? half : 1.0);
        term *= std::pow(y, table.exponents()[static_cast<size_t>(j * p.m + v)]);
      }
      out[j] += term;
    }
  return out;
}

void check_reduction(const Points& p, bool weighted, Index k, const tchakaloff::Reduction& r) {
  const Index n_max = tchakaloff::n_moments(p.m, k);
  CHECK(!r.indices.empty());
  CHECK(static_cast<Index>(r.indices.size()) <= n_max);
  CHECK(r.indices.size() == r.weights.size());
  CHECK(std::is_sorted(r.indices.begin(), r.indices.end()));
  CHECK(std::adjacent_find(r.indices.begin(), r.indices.end()) == r.indices.end());
  double total_in = 0.0, total_out = 0.0;
  for (Index i = 0; i < p.n; ++i) total_in += weighted ? p.w[static_cast<size_t>(i)] : 1.0;
  for (size_t s = 0; s < r.indices.size(); ++s) {
    CHECK(r.indices[s] >= 0 && r.indices[s] < p.n);
    CHECK(r.weights[s] > 0 && std::isfinite(r.weights[s]));
    if (weighted) CHECK(p.w[static_cast<size_t>(r.indices[s])] > 0);  // zero weight: never kept
    total_out += r.weights[s];
  }
  CHECK_NEAR(total_out, total_in, 1e-12 * total_in);
  std::vector<Index> all(static_cast<size_t>(p.n));
  for (Index i = 0; i < p.n; ++i) all[static_cast<size_t>(i)] = i;
  const std::vector<double> in_w =
      weighted ? p.w : std::vector<double>(static_cast<size_t>(p.n), 1.0);
  const Eigen::VectorXd before = box_moments(p, all, in_w, k);
  const Eigen::VectorXd after = box_moments(p, r.indices, r.weights, k);
  CHECK((before - after).cwiseAbs().maxCoeff() <= 1e-9 * total_in);
  CHECK(r.moment_error >= 0.0 && r.moment_error <= 1e-9);
}

void test_reduce_properties() {
  const int cases[][3] = {{1, 6, 2000}, {2, 4, 3000}, {3, 3, 5000}, {4, 2, 800}, {3, 0, 100}};
  unsigned seed = 10;
  for (const auto& c : cases) {
    const Points p = random_points(c[2], c[0], seed++, 0.3);
    for (bool weighted : {true, false}) {
      int polls = 0;
      tchakaloff::ReduceOptions options;
      options.poll = [&] { ++polls; };
      const tchakaloff::Reduction r = tchakaloff::reduce(p.list(weighted), c[1], options);
      check_reduction(p, weighted, c[1], r);
      CHECK(r.levels >= 1);
      CHECK(polls >= 1);
    }
    // The monomial basis reaches the same moments (worse conditioned, fine at these sizes).
    tchakaloff::ReduceOptions monomial;
    monomial.basis = Basis::monomial;
    check_reduction(p, true, c[1], tchakaloff::reduce(p.list(), c[1], monomial));
  }
}

void test_reduce_few_points_kept_as_is() {
  Points p = random_points(200, 2, 20, 0.0);
  std::fill(p.w.begin(), p.w.end(), 0.0);
  const std::vector<Index> live{4, 50, 51, 120, 199};
  for (Index i : live) p.w[static_cast<size_t>(i)] = 0.5 + static_cast<double>(i) / 100.0;
  const tchakaloff::Reduction r = tchakaloff::reduce(p.list(), 3);  // N = 10 >= 5
  CHECK(r.indices == live);
  for (size_t s = 0; s < live.size() && s < r.weights.size(); ++s)
    CHECK_NEAR(r.weights[s], p.w[static_cast<size_t>(live[s])], 1e-14);
  check_reduction(p, true, 3, r);

  // Exact duplicates among <= N live points: nothing is removed, so every weight stays.
  const std::vector<double> dup_x{-0.02, 0.75, -1.89, -0.02}, dup_w{0.96, 0.21, 0.7, 0.26};
  const tchakaloff::Reduction d =
      tchakaloff::reduce(PointList{dup_x.data(), 1, 4, nullptr, dup_w.data()}, 3);  // N = 4
  CHECK((d.indices == std::vector<Index>{0, 1, 2, 3}));
  CHECK((d.weights == dup_w));
}

void test_reduce_degenerate() {
  // All points equal, and points on a line.
  Points same = random_points(500, 3, 21, 0.0);
  for (Index i = 0; i < 500; ++i)
    for (Index v = 0; v < 3; ++v)
      same.x[static_cast<size_t>(i * 3 + v)] = 1.0 + static_cast<double>(v);
  check_reduction(same, true, 3, tchakaloff::reduce(same.list(), 3));
  Points line = random_points(700, 2, 22, 0.1);
  for (Index i = 0; i < 700; ++i)
    line.x[static_cast<size_t>(i * 2 + 1)] = 2.0 * line.x[static_cast<size_t>(i * 2)] - 1.0;
  check_reduction(line, true, 5, tchakaloff::reduce(line.list(), 5));
}

void test_reduce_thread_independent() {
#ifdef _OPENMP
  const Points p = random_points(40'000, 3, 23, 0.2);
  tchakaloff::ReduceOptions options;
  options.threads = 1;
  const tchakaloff::Reduction one = tchakaloff::reduce(p.list(), 4, options);
  options.threads = 2;
  const tchakaloff::Reduction two = tchakaloff::reduce(p.list(), 4, options);
  CHECK(one.indices == two.indices);
  CHECK(one.weights == two.weights);  // bit for bit
  CHECK(one.moment_error == two.moment_error);
#else
  std::printf("  (built without OpenMP: thread-count test skipped)\n");
#endif
}

void test_reduce_errors() {
  const Points p = random_points(50, 2, 24, 0.0);
  std::vector<double> wide(10 * 50, 0.5);
  CHECK_THROWS_WITH(tchakaloff::reduce(PointList{wide.data(), 50, 10, nullptr, nullptr}, 10),
                    std::invalid_argument, "more than reduce supports");
  CHECK_THROWS(tchakaloff::reduce(PointList{wide.data(), 6, 10, nullptr, nullptr}, 9),
               std::invalid_argument);  // C(15, 9) = 5005 > 5000
  std::vector<double> x = p.x;
  x[13] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(tchakaloff::reduce(PointList{x.data(), 2, 50, nullptr, nullptr}, 2),
                    std::invalid_argument, "NaN or inf");
  std::vector<double> w = p.w;
  w[7] = -1.0;
  CHECK_THROWS_WITH(tchakaloff::reduce(PointList{p.x.data(), 2, 50, nullptr, w.data()}, 2),
                    std::invalid_argument, "weight 7");
  std::fill(w.begin(), w.end(), 0.0);
  CHECK_THROWS(tchakaloff::reduce(PointList{p.x.data(), 2, 50, nullptr, w.data()}, 2),
               std::invalid_argument);
  CHECK_THROWS(tchakaloff::reduce(PointList{p.x.data(), 2, 0, nullptr, nullptr}, 2),
               std::invalid_argument);
  CHECK_THROWS(tchakaloff::reduce(PointList{p.x.data(), 2, 50, nullptr, nullptr}, -1),
               std::invalid_argument);
  // A poll that throws aborts the reduction.
  const Points big = random_points(5000, 2, 25, 0.0);
  tchakaloff::ReduceOptions options;
  options.poll = [] { throw std::runtime_error("stop requested"); };
  CHECK_THROWS_WITH(tchakaloff::reduce(big.list(), 3, options), std::runtime_error,
                    "stop requested");
}

// Ctrl-C reaches a long reduction within a fraction of a second: the poll runs between the
// batches of every group_sums pass and between the levels of the dense recursion, not only
// once per level (a k = 8 reduction used to run to its end).
void test_reduce_polls_often() {
  const Points p = random_points(200'000, 3, 26, 0.0);
  int polls = 0;
  tchakaloff::ReduceOptions options;
  options.poll = [&] { ++polls; };
  const tchakaloff::Reduction r = tchakaloff::reduce(p.list(), 8, options);
  CHECK(static_cast<Index>(r.indices.size()) <= 165);
  CHECK(polls >= 16 + r.levels);  // the first pass alone runs in 16 batches
}

// Extreme finite inputs: coordinates near the double range reduce exactly (their frame's
// centre overflowed to inf, and the levels looped forever on NaN features).
void test_reduce_near_double_range() {
  std::mt19937_64 rng(27);
  std::uniform_real_distribution<double> uniform(1e308, 1.3e308);
  for (const Index n : {4, 5, 40, 5000}) {
    std::vector<double> x(static_cast<size_t>(n));
    for (double& v : x) v = uniform(rng);
    const tchakaloff::Reduction r =
        tchakaloff::reduce(PointList{x.data(), 1, n, nullptr, nullptr}, 1);
    CHECK(r.indices.size() <= 2);
    CHECK(r.moment_error < 1e-12);
    double total = 0.0;
    for (const double w : r.weights) total += w;
    CHECK_NEAR(total, static_cast<double>(n), 1e-9 * static_cast<double>(n));
  }
}

// Repeated lattice points with weights spread over 1e+-28: the group barycentres lost mass
// (~1e-7 at degree 3, a ReductionError at degree 5); the distinct points are exact.
void test_reduce_repeated_points_wide_weights() {
  std::mt19937_64 rng(28);
  std::normal_distribution<double> spread(0.0, 20.0);
  const Index n = 2563, m = 3;
  std::vector<double> x(static_cast<size_t>(n * m)), w(static_cast<size_t>(n));
  for (double& v : x) v = static_cast<double>(rng() % 2);
  double total = 0.0;
  for (double& v : w) total += v = std::exp(spread(rng));
  for (const Index degree : {3, 5}) {
    const tchakaloff::Reduction r =
        tchakaloff::reduce(PointList{x.data(), m, n, nullptr, w.data()}, degree);
    double kept = 0.0;
    for (const double v : r.weights) kept += v;
    CHECK(static_cast<Index>(r.indices.size()) <= tchakaloff::n_moments(m, degree));
    CHECK_NEAR(kept, total, 1e-13 * total);
    CHECK(r.moment_error < 1e-13);
  }
}

}  // namespace

// match_next_moments: from a subset that keeps the moments, pivots keep them (same points
// of the input, N of them, weights >= 0) and lower the next moments' residual, never raise it.
void test_match_next_moments() {
  std::mt19937_64 rng(7);
  const int cases[][2] = {{1, 4}, {2, 3}, {3, 2}, {2, 5}};
  for (const auto& mk : cases) {
    const Index m = mk[0], k = mk[1], n = tchakaloff::n_moments(m, k);
    const Index g = 10 * n;
    const RowMatrixXd all = chebyshev_features(g, m, k + 1, rng);
    const RowMatrixXd f = all.leftCols(n), next = all.rightCols(all.cols() - n);
    const Eigen::VectorXd input = positive_weights(g, rng);
    Eigen::VectorXd w = input;
    CHECK(tchakaloff::eliminate(f, w) == n);
    std::vector<Index> kept;
    for (Index i = 0; i < g; ++i)
      if (w[i] > 0) kept.push_back(i);
    Eigen::VectorXd kept_weights(n);
    for (Index i = 0; i < n; ++i) kept_weights[i] = w[kept[static_cast<size_t>(i)]];
    auto residual = [&](const std::vector<Index>& rows, const Eigen::VectorXd& weights) {
      Eigen::VectorXd r = -next.transpose() * input;
      for (Index i = 0; i < n; ++i)
        r += weights[i] * next.row(rows[static_cast<size_t>(i)]).transpose();
      return r.norm();
    };
    const double before = residual(kept, kept_weights);
    const Index pivots =
        tchakaloff::match_next_moments(f, next, next.transpose() * input, kept, kept_weights, 16);
    CHECK(pivots >= 1);
    CHECK(residual(kept, kept_weights) < before);
    CHECK(static_cast<Index>(kept.size()) == n);
    std::vector<Index> sorted = kept;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    CHECK((kept_weights.array() >= 0).all());
    Eigen::VectorXd after = Eigen::VectorXd::Zero(g);
    for (Index i = 0; i < n; ++i) after[kept[static_cast<size_t>(i)]] = kept_weights[i];
    check_preserved(f, input, after, 1e-9);
  }
}

int main() {
  check::run("match_next_moments", test_match_next_moments);
  check::run("eliminate: generic features", test_eliminate_generic);
  check::run("reduce polls often", test_reduce_polls_often);
  check::run("reduce near the double range", test_reduce_near_double_range);
  check::run("reduce repeated points, wide weights", test_reduce_repeated_points_wide_weights);
  check::run("eliminate: rank-deficient features", test_eliminate_rank_deficient);
  check::run("eliminate: zero weights, small inputs", test_eliminate_zero_and_small_inputs);
  check::run("reduce_rows", test_reduce_rows);
  check::run("refit", test_refit);
  check::run("reduce: properties", test_reduce_properties);
  check::run("reduce: few points kept as is", test_reduce_few_points_kept_as_is);
  check::run("reduce: degenerate points", test_reduce_degenerate);
  check::run("reduce: thread independent", test_reduce_thread_independent);
  check::run("reduce: errors", test_reduce_errors);
  return check::finish("test_caratheodory");
}
