// n_moments, check_moment_count and MonomialTable against independent references: Pascal's
// triangle for the counts, an odometer enumeration for the order, std::pow / cos(a acos x) for
// the basis values.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <tchakaloff/monomials.hpp>
#include <vector>

#include "check.hpp"

using tchakaloff::Basis;
using tchakaloff::Index;
using tchakaloff::MonomialTable;

namespace {

// C(s, j) for s <= 61 from Pascal's rule (additions only: no overflow below 2^62).
std::vector<std::vector<std::uint64_t>> pascal(int rows) {
  std::vector<std::vector<std::uint64_t>> c(static_cast<size_t>(rows + 1));
  for (int s = 0; s <= rows; ++s) {
    c[static_cast<size_t>(s)].assign(static_cast<size_t>(s + 1), 1);
    for (int j = 1; j < s; ++j)
      c[static_cast<size_t>(s)][static_cast<size_t>(j)] =
          c[static_cast<size_t>(s - 1)][static_cast<size_t>(j - 1)] +
          c[static_cast<size_t>(s - 1)][static_cast<size_t>(j)];
  }
  return c;
}

// Every alpha in {0..k}^m with |alpha| <= k (odometer), sorted by total degree, then
// lexicographically descending.
std::vector<std::vector<int>> reference_exponents(int m, int k) {
  std::vector<std::vector<int>> out;
  std::vector<int> alpha(static_cast<size_t>(m), 0);
  while (true) {
    int total = 0;
    for (int a : alpha) total += a;
    if (total <= k) out.push_back(alpha);
    int v = 0;
    while (v < m && alpha[static_cast<size_t>(v)] == k) alpha[static_cast<size_t>(v++)] = 0;
    if (v == m) break;
    ++alpha[static_cast<size_t>(v)];
  }
  std::sort(out.begin(), out.end(), [](const std::vector<int>& a, const std::vector<int>& b) {
    int sa = 0, sb = 0;
    for (int x : a) sa += x;
    for (int x : b) sb += x;
    if (sa != sb) return sa < sb;
    return a > b;
  });
  return out;
}

std::vector<int> row(const MonomialTable& t, Index j) {
  const auto m = static_cast<size_t>(t.dim());
  return {t.exponents().begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(j) * m),
          t.exponents().begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(j + 1) * m)};
}

const int kGrid[][2] = {{1, 0}, {1, 1}, {1, 8}, {2, 0}, {2, 3}, {2, 8}, {3, 1}, {3, 4},
                        {3, 8}, {4, 2}, {4, 6}, {5, 5}, {6, 0}, {6, 4}, {7, 3}, {10, 2}};

void test_n_moments_matches_pascal() {
  const auto c = pascal(61);
  for (int m = 1; m <= 60; ++m)
    for (int k = 0; m + k <= 61; ++k)
      CHECK(static_cast<std::uint64_t>(tchakaloff::n_moments(m, k)) ==
            c[static_cast<size_t>(m + k)][static_cast<size_t>(k)]);
  CHECK(tchakaloff::n_moments(1, 0) == 1);
  CHECK(tchakaloff::n_moments(3, 2) == 10);
  CHECK(tchakaloff::n_moments(3'000'000'000LL, 2) == 4'500'000'004'500'000'001LL);
}

void test_n_moments_invalid_and_overflow() {
  CHECK_THROWS_WITH(tchakaloff::n_moments(0, 2), std::invalid_argument, "at least one");
  CHECK_THROWS_WITH(tchakaloff::n_moments(-4, 2), std::invalid_argument, "at least one");
  CHECK_THROWS_WITH(tchakaloff::n_moments(3, -1), std::invalid_argument, "degree");
  CHECK_THROWS_WITH(tchakaloff::n_moments(100, 100), std::invalid_argument, "overflows 64 bits");
  CHECK_THROWS_WITH(tchakaloff::n_moments(1000, 1000), std::invalid_argument, "lower the degree");
  CHECK_THROWS(tchakaloff::n_moments(Index{1} << 40, Index{1} << 40), std::invalid_argument);
  // C(62, 31) = 465428353255261088 fits in 63 bits although the running product
  // C(61, 30) * 62 does not.
  CHECK(tchakaloff::n_moments(31, 31) == 465428353255261088LL);
}

void test_check_moment_count() {
  CHECK_NOTHROW(tchakaloff::check_moment_count(2, 2, 6, "this test"));
  CHECK_THROWS_WITH(tchakaloff::check_moment_count(2, 2, 5, "this test"), std::invalid_argument,
                    "this test");
  CHECK_THROWS_WITH(tchakaloff::check_moment_count(50, 10, tchakaloff::kMaxMonomials, "x"),
                    std::invalid_argument, "lower the degree or the number of coordinates");
  CHECK_THROWS(tchakaloff::check_moment_count(0, 2, 100, "x"), std::invalid_argument);
}

void test_table_order() {
  for (const auto& mk : kGrid) {
    const int m = mk[0], k = mk[1];
    const MonomialTable table(m, k);
    const auto expected = reference_exponents(m, k);
    CHECK(table.dim() == m);
    CHECK(table.degree() == k);
    CHECK(table.size() == tchakaloff::n_moments(m, k));
    CHECK(static_cast<size_t>(table.size()) == expected.size());
    CHECK(table.exponents().size() == expected.size() * static_cast<size_t>(m));
    bool same = static_cast<size_t>(table.size()) == expected.size();
    for (Index j = 0; same && j < table.size(); ++j)
      same = row(table, j) == expected[static_cast<size_t>(j)];
    CHECK(same);
  }
}

void test_table_parents() {
  for (const auto& mk : kGrid) {
    const int m = mk[0], k = mk[1];
    const MonomialTable table(m, k);
    const Index n = table.size();
    CHECK(table.parent().size() == static_cast<size_t>(n));
    CHECK(table.factor().size() == static_cast<size_t>(n));
    CHECK(table.is_parent().size() == static_cast<size_t>(n));
    std::vector<char> used(static_cast<size_t>(n), 0);
    for (Index j = 1; j < n; ++j) {
      std::vector<int> alpha = row(table, j);
      size_t v = 0;
      while (alpha[v] == 0) ++v;  // first non-zero coordinate
      const int p = table.parent()[static_cast<size_t>(j)];
      CHECK(p >= 0 && p < j);
      CHECK(table.factor()[static_cast<size_t>(j)] == static_cast<int>(v) * (k + 1) + alpha[v]);
      alpha[v] = 0;
      CHECK(row(table, p) == alpha);
      used[static_cast<size_t>(p)] = 1;
    }
    int degree_of_last = 0;
    for (int a : row(table, n - 1)) degree_of_last += a;
    CHECK(degree_of_last == k);
    for (Index j = 0; j < n; ++j) {
      CHECK((table.is_parent()[static_cast<size_t>(j)] != 0) ==
            (used[static_cast<size_t>(j)] != 0));
      int total = 0;
      for (int a : row(table, j)) total += a;
      if (total == k && k > 0) CHECK(table.is_parent()[static_cast<size_t>(j)] == 0);
    }
  }
}

void test_evaluate_monomial_and_chebyshev() {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unif(-1.0, 1.0);
  for (const auto& mk : kGrid) {
    const int m = mk[0], k = mk[1];
    const MonomialTable table(m, k);
    const Index n = table.size();
    std::vector<double> x(static_cast<size_t>(m)), out(static_cast<size_t>(n));
    for (int trial = 0; trial < 20; ++trial) {
      for (auto& xv : x) xv = unif(rng);
      if (trial == 0) std::fill(x.begin(), x.end(), 1.0);
      if (trial == 1) std::fill(x.begin(), x.end(), 0.0);
      table.evaluate(x.data(), Basis::monomial, out.data());
      for (Index j = 0; j < n; ++j) {
        double direct = 1.0;
        const auto alpha = row(table, j);
        for (int v = 0; v < m; ++v)
          direct *= std::pow(x[static_cast<size_t>(v)], alpha[static_cast<size_t>(v)]);
        CHECK_NEAR(out[static_cast<size_t>(j)], direct, 1e-14);
      }
      table.evaluate(x.data(), Basis::chebyshev, out.data());
      for (Index j = 0; j < n; ++j) {
        double direct = 1.0;
        const auto alpha = row(table, j);
        for (int v = 0; v < m; ++v)
          direct *= std::cos(alpha[static_cast<size_t>(v)] * std::acos(x[static_cast<size_t>(v)]));
        CHECK_NEAR(out[static_cast<size_t>(j)], direct, 1e-12);
      }
    }
  }
  // Outside [-1, 1] the monomial basis is still the plain product.
  const MonomialTable table(2, 3);
  const double x[2] = {3.0, -2.0};
  double out[10];
  table.evaluate(x, Basis::monomial, out);
  const double expected[10] = {1, 3, -2, 9, -6, 4, 27, -18, 12, -8};
  for (int j = 0; j < 10; ++j) CHECK(out[j] == expected[j]);
}

void test_table_limits() {
  CHECK_THROWS_WITH(MonomialTable(50, 10), std::invalid_argument, "monomial table");
  CHECK_THROWS(MonomialTable(2, 3000), std::invalid_argument);  // C(3002, 2) > 2^20
  CHECK_THROWS(MonomialTable(0, 2), std::invalid_argument);
  CHECK_THROWS(MonomialTable(2, -1), std::invalid_argument);
}

}  // namespace

int main() {
  check::run("n_moments matches Pascal's triangle", test_n_moments_matches_pascal);
  check::run("n_moments invalid and overflow", test_n_moments_invalid_and_overflow);
  check::run("check_moment_count", test_check_moment_count);
  check::run("MonomialTable order", test_table_order);
  check::run("MonomialTable parents and factors", test_table_parents);
  check::run("evaluate vs direct products", test_evaluate_monomial_and_chebyshev);
  check::run("MonomialTable limits", test_table_limits);
  return check::finish("test_monomials");
}
