#pragma once
// Monomials of total degree <= k in m variables, and the recipe that evaluates all of them at a
// point with one multiplication each.

#include <tchakaloff/types.hpp>
#include <vector>

namespace tchakaloff {

// Largest tables we agree to build (N, and N * m exponent entries): beyond these the table
// takes seconds to build and hundreds of megabytes.
constexpr Index kMaxMonomials = Index{1} << 20;
constexpr Index kMaxExponentEntries = Index{1} << 24;

// N(m, k) = C(m + k, k), the constant included. Throws std::invalid_argument for m < 1,
// k < 0, or a count that does not fit in 63 bits.
Index n_moments(Index dim, Index degree);

// The polynomial family evaluated per coordinate. Both span the same space of polynomials of
// total degree <= k; Chebyshev products are far better conditioned on [-1, 1]^m.
enum class Basis { monomial, chebyshev };

// Exponents in graded order (total degree 0, 1, ..., k; inside a degree, lexicographically
// descending: x^2, xy, y^2). Entry j = alpha_j.
//
// Every alpha_j (j > 0) factors as parent_j times one univariate factor: zero out its first
// non-zero coordinate v to get the parent (of lower degree, so earlier in the order), and the
// factor is p_v(x_v) of degree alpha_j[v], where p is x^a (monomial) or T_a (Chebyshev). So all
// N basis functions of a point cost N - 1 multiplications after a table of m * k univariate
// values.
class MonomialTable {
 public:
  MonomialTable(Index dim, Index degree);

  Index dim() const { return dim_; }
  Index degree() const { return degree_; }
  Index size() const { return static_cast<Index>(parent_.size()); }
  const std::vector<int>& exponents() const { return exponents_; }  // size() x dim, row-major
  const std::vector<int>& parent() const { return parent_; }
  // Offset of the univariate factor in a (dim x (degree + 1)) table: v * (degree + 1) + power.
  const std::vector<int>& factor() const { return factor_; }
  // Whether function j is the parent of another (those of top degree never are).
  const std::vector<char>& is_parent() const { return is_parent_; }

  // All N basis values at a point already mapped into the frame of the basis.
  void evaluate(const double* x, Basis basis, double* out) const;

 private:
  Index dim_, degree_;
  std::vector<int> exponents_, parent_, factor_;
  std::vector<char> is_parent_;
};

// Throws std::invalid_argument unless N(dim, degree) <= limit, naming what to change.
void check_moment_count(Index dim, Index degree, Index limit, const char* what);

// The degree the product picks when asked for "auto" (polylogarithmic compression, App. G):
// the largest k with N(dim, k) <= min(size, kAutoMaxMoments), at least 0. Beyond a few
// hundred moments the error of analytic functions is already at the floor of double precision,
// while the reduction costs O(N^3) per level.
constexpr Index kAutoMaxMoments = 500;
Index auto_degree(Index dim, Index size);

}  // namespace tchakaloff
