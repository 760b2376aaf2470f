#include <algorithm>
#include <limits>
#include <map>
#include <sstream>
#include <tchakaloff/monomials.hpp>

namespace tchakaloff {

Index n_moments(Index dim, Index degree) {
  if (dim < 1) throw std::invalid_argument("the points need at least one coordinate (m >= 1)");
  if (degree < 0) throw std::invalid_argument("degree must be >= 0");
  // C(m + k, k) = C(a + b, b) = prod_{i=1..b} (a + i) / i with b = min(m, k), a = max(m, k):
  // at most min(m, k) steps, so a huge degree fails (or succeeds) at once. Each partial
  // result C(a + i, i) is exact, and a 128-bit intermediate keeps count * (a + i) from
  // overflowing before the division.
  const Index a = std::max(dim, degree), b = std::min(dim, degree);
  Index count = 1;
  for (Index i = 1; i <= b; ++i) {
    const auto next = static_cast<unsigned __int128>(count) *
                      static_cast<unsigned __int128>(a + i) / static_cast<unsigned __int128>(i);
    if (a > std::numeric_limits<Index>::max() - i ||
        next > static_cast<unsigned __int128>(std::numeric_limits<Index>::max())) {
      std::ostringstream msg;
      msg << "the number of monomials of degree <= " << degree << " in " << dim
          << " variables overflows 64 bits; lower the degree";
      throw std::invalid_argument(msg.str());
    }
    count = static_cast<Index>(next);
  }
  return count;
}

void check_moment_count(Index dim, Index degree, Index limit, const char* what) {
  const Index count = n_moments(dim, degree);
  if (count > limit) {
    std::ostringstream msg;
    msg << "degree " << degree << " in " << dim << " dimensions means N = " << count
        << " moments, more than " << what << " supports (" << limit
        << "); lower the degree or the number of coordinates";
    throw std::invalid_argument(msg.str());
  }
}

Index auto_degree(Index dim, Index size) {
  if (dim < 1) throw std::invalid_argument("the points need at least one coordinate (m >= 1)");
  const Index limit = std::min(size, kAutoMaxMoments);
  Index k = 0;
  while (n_moments(dim, k + 1) <= limit) ++k;  // N grows with k: ends by k = limit
  return k;
}

namespace {
// Appends all exponents of total degree `remaining` over coordinates v.. in descending
// lexicographic order.
void append_compositions(Index dim, Index v, int remaining, std::vector<int>& current,
                         std::vector<int>& out) {
  if (v == dim - 1) {
    current[static_cast<size_t>(v)] = remaining;
    out.insert(out.end(), current.begin(), current.end());
    return;
  }
  for (int a = remaining; a >= 0; --a) {
    current[static_cast<size_t>(v)] = a;
    append_compositions(dim, v + 1, remaining - a, current, out);
  }
}
}  // namespace

MonomialTable::MonomialTable(Index dim, Index degree) : dim_(dim), degree_(degree) {
  n_moments(dim, degree);  // validates dim >= 1 and degree >= 0 first
  check_moment_count(dim, degree, std::min(kMaxMonomials, kMaxExponentEntries / dim),
                     "a monomial table");
  const auto n = static_cast<size_t>(n_moments(dim, degree));
  const auto m = static_cast<size_t>(dim);
  exponents_.reserve(n * m);
  std::vector<int> current(m, 0);
  for (int total = 0; total <= degree; ++total)
    append_compositions(dim, 0, total, current, exponents_);

  std::map<std::vector<int>, int> position;
  parent_.assign(n, 0);
  factor_.assign(n, 0);
  for (size_t j = 0; j < n; ++j) {
    std::vector<int> alpha(exponents_.begin() + static_cast<std::ptrdiff_t>(j * m),
                           exponents_.begin() + static_cast<std::ptrdiff_t>((j + 1) * m));
    position.emplace(alpha, static_cast<int>(j));
    if (j == 0) continue;
    size_t v = 0;
    while (alpha[v] == 0) ++v;
    factor_[j] = static_cast<int>(v) * static_cast<int>(degree + 1) + alpha[v];
    alpha[v] = 0;
    parent_[j] = position.at(alpha);  // lower degree, so already placed
  }
  is_parent_.assign(n, 0);
  for (size_t j = 1; j < n; ++j) is_parent_[static_cast<size_t>(parent_[j])] = 1;
}

void MonomialTable::evaluate(const double* x, Basis basis, double* out) const {
  const auto stride = static_cast<size_t>(degree_ + 1);
  std::vector<double> univariate(static_cast<size_t>(dim_) * stride);
  for (Index v = 0; v < dim_; ++v) {
    double* p = univariate.data() + static_cast<size_t>(v) * stride;
    p[0] = 1.0;
    if (degree_ >= 1) p[1] = x[v];
    for (size_t a = 2; a < stride; ++a)
      p[a] = basis == Basis::chebyshev ? 2.0 * x[v] * p[a - 1] - p[a - 2] : x[v] * p[a - 1];
  }
  out[0] = 1.0;
  for (Index j = 1; j < size(); ++j)
    out[j] = out[parent_[static_cast<size_t>(j)]] *
             univariate[static_cast<size_t>(factor_[static_cast<size_t>(j)])];
}

}  // namespace tchakaloff
