// group_sums / raw_moments against naive loops, thread-count independence, equal_split, the
// frame, and the input checks.

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <tchakaloff/frame.hpp>
#include <tchakaloff/moments.hpp>
#include <tchakaloff/parallel.hpp>
#include <utility>
#include <vector>

#include "check.hpp"

using tchakaloff::Basis;
using tchakaloff::Frame;
using tchakaloff::Index;
using tchakaloff::MonomialTable;
using tchakaloff::PointList;
using tchakaloff::RowMatrixXd;

namespace {

struct Data {
  std::vector<double> points, weights;
  Index n, m;
};

Data random_data(Index n, Index m, unsigned seed, double zero_fraction = 0.2) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  Data d{std::vector<double>(static_cast<size_t>(n * m)),
         std::vector<double>(static_cast<size_t>(n)), n, m};
  for (auto& x : d.points) x = 1.5 * normal(rng) + 0.5;
  for (auto& w : d.weights) w = unif(rng) < zero_fraction ? 0.0 : unif(rng) + 0.1;
  return d;
}

// Naive reference: one basis evaluation per point, summed in list order.
RowMatrixXd naive_group_sums(const PointList& list, const std::vector<Index>& offsets,
                             const MonomialTable& table, Basis basis, const Frame& frame,
                             RowMatrixXd* abs_sums) {
  const auto groups = static_cast<Index>(offsets.size()) - 1;
  RowMatrixXd sums = RowMatrixXd::Zero(groups, table.size());
  *abs_sums = RowMatrixXd::Zero(groups, table.size());
  std::vector<double> y(static_cast<size_t>(list.dim)), f(static_cast<size_t>(table.size()));
  for (Index g = 0; g < groups; ++g)
    for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)]; ++p) {
      frame.apply(list.points + list.row(p) * list.dim, y.data());
      table.evaluate(y.data(), basis, f.data());
      for (Index j = 0; j < table.size(); ++j) {
        sums(g, j) += list.weight(p) * f[static_cast<size_t>(j)];
        (*abs_sums)(g, j) += std::fabs(list.weight(p) * f[static_cast<size_t>(j)]);
      }
    }
  return sums;
}

void test_equal_split() {
  for (Index size : {1, 7, 100, 1001}) {
    for (Index groups : {1, 2, 3, 16, 100}) {
      const auto offsets = tchakaloff::equal_split(size, groups);
      CHECK(offsets.size() == static_cast<size_t>(groups + 1));
      CHECK(offsets.front() == 0 && offsets.back() == size);
      Index smallest = size, largest = 0;
      for (Index g = 0; g < groups; ++g) {
        const Index len = offsets[static_cast<size_t>(g + 1)] - offsets[static_cast<size_t>(g)];
        CHECK(len >= 0);
        smallest = std::min(smallest, len);
        largest = std::max(largest, len);
      }
      CHECK(largest - smallest <= 1);
    }
  }
}

void test_group_sums_vs_naive() {
  const int cases[][2] = {{1, 6}, {2, 5}, {3, 4}, {4, 2}, {6, 3}};
  unsigned seed = 1;
  for (const auto& mk : cases) {
    const Index m = mk[0], k = mk[1];
    const Data d = random_data(1500, m, seed++);
    const MonomialTable table(m, k);
    // A row list (a shuffled subset, some rows twice) over the same points.
    std::vector<Index> rows(1200);
    std::mt19937_64 rng(seed++);
    for (auto& r : rows) r = static_cast<Index>(rng() % 1500);
    std::vector<double> list_weights(rows.size());
    for (size_t p = 0; p < rows.size(); ++p)
      list_weights[p] = d.weights[static_cast<size_t>(rows[p])];

    const PointList full{d.points.data(), m, d.n, nullptr, d.weights.data()};
    const PointList unweighted{d.points.data(), m, d.n, nullptr, nullptr};
    const PointList indexed{d.points.data(), m, static_cast<Index>(rows.size()), rows.data(),
                            list_weights.data()};
    // Uneven groups: empty ones, single points, more than the kernel's 256 lanes.
    const std::vector<Index> uneven{0, 0, 1, 2, 300, 301, 301, 900, 1200};
    for (const PointList* list : {&full, &unweighted, &indexed}) {
      const Frame frame = Frame::bounding_box(*list);
      std::vector<std::vector<Index>> splits{uneven, tchakaloff::equal_split(list->size, 1),
                                             tchakaloff::equal_split(list->size, 37),
                                             tchakaloff::equal_split(list->size, 200)};
      if (list->size != 1200) splits[0].back() = list->size;
      for (const auto& offsets : splits)
        for (Basis basis : {Basis::monomial, Basis::chebyshev}) {
          const Frame& f = basis == Basis::chebyshev ? frame : Frame::identity(m);
          const RowMatrixXd got = tchakaloff::group_sums(*list, offsets, table, basis, f);
          RowMatrixXd scale;
          const RowMatrixXd expected = naive_group_sums(*list, offsets, table, basis, f, &scale);
          CHECK(got.rows() == expected.rows() && got.cols() == expected.cols());
          if (got.rows() != expected.rows() || got.cols() != expected.cols()) continue;
          const double worst =
              ((got - expected).cwiseAbs().array() - 1e-13 * scale.array()).maxCoeff();
          CHECK(worst <= 1e-300);
          // Column 0 is the group's total weight.
          for (Index g = 0; g + 1 < static_cast<Index>(offsets.size()); ++g) {
            double mass = 0.0;
            for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)];
                 ++p)
              mass += list->weight(p);
            CHECK_NEAR(got(g, 0), mass, 1e-13 * (mass + 1.0));
          }
        }
    }
  }
}

// Above kParallelWork the kernel runs in a parallel region: same sums as the naive loop, and
// bit-identical for 1 and 2 threads.
void test_group_sums_parallel_path() {
  const Index m = 3, k = 4;
  const Data d = random_data(20'000, m, 99);
  const MonomialTable table(m, k);
  const PointList list{d.points.data(), m, d.n, nullptr, d.weights.data()};
  CHECK(list.size * table.size() > tchakaloff::kParallelWork);
  const Frame frame = Frame::bounding_box(list);
  const auto offsets = tchakaloff::equal_split(list.size, 150);
  const RowMatrixXd got = tchakaloff::group_sums(list, offsets, table, Basis::chebyshev, frame);
  RowMatrixXd scale;
  const RowMatrixXd expected =
      naive_group_sums(list, offsets, table, Basis::chebyshev, frame, &scale);
  CHECK(((got - expected).cwiseAbs().array() <= 1e-13 * scale.array() + 1e-300).all());
#ifdef _OPENMP
  auto sums_on = [&](int threads) {
    const tchakaloff::CallThreads call(threads);
    return tchakaloff::group_sums(list, offsets, table, Basis::chebyshev, frame);
  };
  const RowMatrixXd one = sums_on(1), two = sums_on(2);
  CHECK(one == two);
  CHECK(one == got);
#endif
}

void test_group_sums_poll() {
  const Data d = random_data(2000, 2, 7);
  const PointList list{d.points.data(), 2, d.n, nullptr, d.weights.data()};
  const MonomialTable table(2, 3);
  const Frame frame = Frame::bounding_box(list);
  int calls = 0;
  const auto offsets = tchakaloff::equal_split(list.size, 200);
  (void)tchakaloff::group_sums(list, offsets, table, Basis::chebyshev, frame, [&] { ++calls; });
  CHECK(calls >= 1);
  // A poll that throws aborts the computation with its exception.
  CHECK_THROWS_WITH(tchakaloff::group_sums(list, offsets, table, Basis::chebyshev, frame,
                                           [] { throw std::runtime_error("interrupted by test"); }),
                    std::runtime_error, "interrupted by test");
}

void test_raw_moments_vs_direct() {
  const int cases[][2] = {{1, 8}, {2, 6}, {3, 5}, {5, 3}};
  unsigned seed = 100;
  for (const auto& mk : cases) {
    const Index m = mk[0], k = mk[1];
    const Data d = random_data(3000, m, seed++);
    const MonomialTable table(m, k);
    for (const double* w : {d.weights.data(), static_cast<const double*>(nullptr)}) {
      const PointList list{d.points.data(), m, d.n, nullptr, w};
      const Eigen::VectorXd got = tchakaloff::raw_moments(list, k);
      CHECK(got.size() == table.size());
      for (Index j = 0; j < table.size(); ++j) {
        double sum = 0.0, scale = 0.0;
        for (Index i = 0; i < d.n; ++i) {
          double term = w ? w[i] : 1.0;
          for (Index v = 0; v < m; ++v)
            term *= std::pow(d.points[static_cast<size_t>(i * m + v)],
                             table.exponents()[static_cast<size_t>(j * m + v)]);
          sum += term;
          scale += std::fabs(term);
        }
        CHECK_NEAR(got[j], sum, 1e-12 * scale);
      }
    }
  }
}

void test_raw_moments_thread_independent() {
#ifdef _OPENMP
  const Data d = random_data(50'000, 3, 9);  // 12 chunks of 4096 points
  const PointList list{d.points.data(), 3, d.n, nullptr, d.weights.data()};
  auto moments_on = [&](int threads) {
    const tchakaloff::CallThreads call(threads);
    return tchakaloff::raw_moments(list, 6);
  };
  const Eigen::VectorXd one = moments_on(1), two = moments_on(2), three = moments_on(3);
  CHECK(one.size() == two.size() && one.size() == three.size());
  bool identical = true;
  for (Index j = 0; j < one.size(); ++j)
    identical = identical && one[j] == two[j] && one[j] == three[j];
  CHECK(identical);
  // And the frame (exact min / max per chunk) too.
  const Data big = random_data(300'000, 2, 10);
  const PointList big_list{big.points.data(), 2, big.n, nullptr, nullptr};
  auto frame_on = [&](int threads) {
    const tchakaloff::CallThreads call(threads);
    return Frame::bounding_box(big_list);
  };
  const Frame f1 = frame_on(1), f2 = frame_on(2);
  CHECK(f1.centre == f2.centre && f1.inv_half_width == f2.inv_half_width);
#else
  std::printf("  (built without OpenMP: thread-count test skipped)\n");
#endif
}

void test_raw_moments_errors() {
  const Data d = random_data(100, 2, 11);
  std::vector<double> pts = d.points;
  pts[17] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(tchakaloff::raw_moments(PointList{pts.data(), 2, 100, nullptr, nullptr}, 2),
                    std::invalid_argument, "NaN or inf");
  pts[17] = -std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(tchakaloff::raw_moments(PointList{pts.data(), 2, 100, nullptr, nullptr}, 2),
                    std::invalid_argument, "NaN or inf");
  pts[17] = 1e200;  // finite, but x^2 overflows
  CHECK_THROWS_WITH(tchakaloff::raw_moments(PointList{pts.data(), 2, 100, nullptr, nullptr}, 2),
                    std::invalid_argument, "overflow");
  CHECK_THROWS(tchakaloff::raw_moments(PointList{d.points.data(), 2, 0, nullptr, nullptr}, 2),
               std::invalid_argument);
  CHECK_THROWS(tchakaloff::raw_moments(PointList{d.points.data(), 2, 100, nullptr, nullptr}, -1),
               std::invalid_argument);
  std::vector<double> huge(50 * 2, 0.0);
  CHECK_THROWS_WITH(tchakaloff::raw_moments(PointList{huge.data(), 50, 2, nullptr, nullptr}, 10),
                    std::invalid_argument, "lower the degree");
}

void test_check_input() {
  const Data d = random_data(20, 2, 12, 0.0);
  std::vector<double> w = d.weights;
  const auto list = [&](const double* pts, const double* wts, Index n = 20) {
    return PointList{pts, 2, n, nullptr, wts};
  };
  CHECK_NOTHROW(tchakaloff::check_input(list(d.points.data(), w.data()), true));
  CHECK_NOTHROW(tchakaloff::check_input(list(d.points.data(), nullptr), true));
  CHECK_THROWS_WITH(tchakaloff::check_input(list(d.points.data(), w.data(), 0), false),
                    std::invalid_argument, "at least one row");
  w[3] = -1.0;
  CHECK_THROWS_WITH(tchakaloff::check_input(list(d.points.data(), w.data()), false),
                    std::invalid_argument, "weight 3");
  w[3] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(tchakaloff::check_input(list(d.points.data(), w.data()), false),
                    std::invalid_argument, "finite and >= 0");
  w[3] = std::numeric_limits<double>::infinity();
  CHECK_THROWS(tchakaloff::check_input(list(d.points.data(), w.data()), false),
               std::invalid_argument);
  std::fill(w.begin(), w.end(), 0.0);
  CHECK_THROWS_WITH(tchakaloff::check_input(list(d.points.data(), w.data()), false),
                    std::invalid_argument, "positive, finite total");
  std::fill(w.begin(), w.end(), 1e308);
  CHECK_THROWS_WITH(tchakaloff::check_input(list(d.points.data(), w.data()), false),
                    std::invalid_argument, "positive, finite total");
  // Points are only checked on request.
  std::vector<double> pts = d.points;
  pts[5] = std::numeric_limits<double>::quiet_NaN();
  CHECK_NOTHROW(tchakaloff::check_input(list(pts.data(), nullptr), false));
  CHECK_THROWS_WITH(tchakaloff::check_input(list(pts.data(), nullptr), true), std::invalid_argument,
                    "NaN or inf");
}

void test_frame() {
  const Data d = random_data(500, 3, 13);
  std::vector<double> pts = d.points;
  for (Index i = 0; i < 500; ++i) pts[static_cast<size_t>(i * 3 + 1)] = 4.0;  // constant
  const PointList list{pts.data(), 3, 500, nullptr, nullptr};
  const Frame frame = Frame::bounding_box(list);
  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  double y[3];
  for (Index i = 0; i < 500; ++i) {
    frame.apply(pts.data() + i * 3, y);
    for (int v = 0; v < 3; ++v) {
      lo[v] = std::min(lo[v], y[v]);
      hi[v] = std::max(hi[v], y[v]);
    }
  }
  CHECK_NEAR(lo[0], -1.0, 1e-15);
  CHECK_NEAR(hi[0], 1.0, 1e-15);
  CHECK_NEAR(lo[2], -1.0, 1e-15);
  CHECK_NEAR(hi[2], 1.0, 1e-15);
  CHECK(lo[1] == 0.0 && hi[1] == 0.0);  // a constant coordinate is only centred
  CHECK(frame.inv_half_width[1] == 1.0);
  CHECK(frame.centre[1] == 4.0);

  // Only the listed rows count.
  std::vector<Index> rows{0, 1, 2};
  const PointList sub{pts.data(), 3, 3, rows.data(), nullptr};
  const Frame small = Frame::bounding_box(sub);
  double sub_lo = 1e300, sub_hi = -1e300;
  for (Index r : rows) {
    sub_lo = std::min(sub_lo, pts[static_cast<size_t>(r * 3)]);
    sub_hi = std::max(sub_hi, pts[static_cast<size_t>(r * 3)]);
  }
  CHECK_NEAR(small.centre[0], (sub_lo + sub_hi) / 2, 1e-15);
  CHECK_NEAR(small.inv_half_width[0], 2.0 / (sub_hi - sub_lo), 1e-12 / (sub_hi - sub_lo));

  const Frame id = Frame::identity(3);
  id.apply(pts.data(), y);
  for (int v = 0; v < 3; ++v) CHECK(y[v] == pts[static_cast<size_t>(v)]);

  // NaN / inf anywhere, also in a large input handled in chunks, and a span beyond doubles.
  std::vector<double> big(40'000 * 2, 1.0);
  big[2 * 35'123 + 1] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(Frame::bounding_box(PointList{big.data(), 2, 40'000, nullptr, nullptr}),
                    std::invalid_argument, "NaN or inf");
  big[2 * 35'123 + 1] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(Frame::bounding_box(PointList{big.data(), 2, 40'000, nullptr, nullptr}),
                    std::invalid_argument, "NaN or inf");
  // Spans near the double range map onto [-1, 1] (their sum and difference overflow); a
  // subnormal span, whose scale overflows, is refused with what to do.
  for (const auto& [lo, hi] :
       {std::pair{-1e308, 1e308}, std::pair{1e308, 1.3e308}, std::pair{-1.7e308, -1.6e308}}) {
    std::vector<double> wide{lo, 0.0, hi, 0.0};
    const Frame f = Frame::bounding_box(PointList{wide.data(), 2, 2, nullptr, nullptr});
    double z[2];
    f.apply(wide.data(), z);
    CHECK_NEAR(z[0], -1.0, 1e-12);  // 1 / 1e308 is subnormal: a few bits fewer
    f.apply(wide.data() + 2, z);
    CHECK_NEAR(z[0], 1.0, 1e-12);
  }
  std::vector<double> thin{0.0, 0.0, 0.0, 1e-310};
  CHECK_THROWS_WITH(Frame::bounding_box(PointList{thin.data(), 2, 2, nullptr, nullptr}),
                    std::invalid_argument, "power of two");
  for (Index m : {1, 5, 8}) {  // the fixed-size and the generic kernels
    std::vector<double> p(static_cast<size_t>(10 * m), 2.0);
    p[static_cast<size_t>(m * 7 + m - 1)] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS(Frame::bounding_box(PointList{p.data(), m, 10, nullptr, nullptr}),
                 std::invalid_argument);
  }
}

}  // namespace

int main() {
  check::run("equal_split", test_equal_split);
  check::run("group_sums vs naive loop", test_group_sums_vs_naive);
  check::run("group_sums parallel path", test_group_sums_parallel_path);
  check::run("group_sums poll", test_group_sums_poll);
  check::run("raw_moments vs direct products", test_raw_moments_vs_direct);
  check::run("raw_moments thread independent", test_raw_moments_thread_independent);
  check::run("raw_moments errors", test_raw_moments_errors);
  check::run("check_input", test_check_input);
  check::run("Frame", test_frame);
  return check::finish("test_moments");
}
