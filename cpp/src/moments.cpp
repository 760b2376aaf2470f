#include <algorithm>
#include <cmath>
#include <exception>
#include <optional>
#include <sstream>
#include <tchakaloff/moments.hpp>
#include <tchakaloff/parallel.hpp>

namespace tchakaloff {

namespace {

constexpr Index kVector = 8;  // lanes summed side by side: two AVX registers, fixed order

// Points evaluated side by side, a multiple of kVector: wide enough that the per-function
// overhead is amortised, narrow enough that the N x lanes value block stays in L2, and no
// wider than the largest group (a group that fits is one pass either way, so the sums do
// not change; small groups then need no large scratch to allocate and clear).
Index lanes_for(Index n_functions, Index largest_group) {
  const Index fit = (largest_group + kVector - 1) / kVector * kVector;
  return std::clamp<Index>(std::min(32768 / n_functions / kVector * kVector, fit), kVector, 256);
}

// Per-thread scratch for the kernel, reused across groups.
struct Scratch {
  Index lanes;
  std::vector<double> x, univariate, values;
  Scratch(Index dim, Index degree, Index n, Index largest_group)
      : lanes(lanes_for(n, largest_group)),
        x(static_cast<size_t>(dim * lanes)),
        univariate(static_cast<size_t>(dim * (degree + 1) * lanes)),
        values(static_cast<size_t>(n * lanes)) {}
};

// Sum of weight * basis over list positions [begin, end), written to out[0 .. N).
// Values are laid out [function][lane] so the inner loops run over lanes and vectorise. The
// weight rides in the constant function, so each basis function costs one multiply (parent
// times univariate factor) and one add into register accumulators; only values that are the
// parent of another function are stored.
void accumulate(const PointList& list, Index begin, Index end, const MonomialTable& table,
                Basis basis, const Frame& frame, Scratch& s, double* out) {
  const Index m = list.dim, n = table.size(), stride = table.degree() + 1, lanes = s.lanes;
  const int* parent = table.parent().data();
  const int* factor = table.factor().data();
  const char* is_parent = table.is_parent().data();
  const double* centre = frame.centre.data();
  const double* scale = frame.inv_half_width.data();
  const bool chebyshev = basis == Basis::chebyshev;
  double* x = s.x.data();
  double* uni = s.univariate.data();
  double* val = s.values.data();
  std::fill(out, out + n, 0.0);

  for (Index first = begin; first < end; first += lanes) {
    const Index count = std::min(lanes, end - first);
    const Index width = (count + kVector - 1) / kVector * kVector;  // small groups: no padding
    // Coordinates into the frame, transposed to [coordinate][lane]; missing lanes get
    // weight 0. The input's own rows (no index list) are read as one contiguous block.
    for (Index v = 0; v < m; ++v) {
      double* __restrict xv = x + v * lanes;
      const double c = centre[v], h = scale[v];
      if (list.rows)
        for (Index b = 0; b < count; ++b)
          xv[b] = (list.points[list.rows[first + b] * m + v] - c) * h;
      else
        for (Index b = 0; b < count; ++b) xv[b] = (list.points[(first + b) * m + v] - c) * h;
      for (Index b = count; b < width; ++b) xv[b] = 0.0;
    }
    for (Index b = 0; b < count; ++b) val[b] = list.weights ? list.weights[first + b] : 1.0;
    for (Index b = count; b < width; ++b) val[b] = 0.0;
    for (Index v = 0; v < m; ++v) {
      double* __restrict u = uni + v * stride * lanes;
      const double* __restrict xv = x + v * lanes;
      for (Index b = 0; b < width; ++b) u[b] = 1.0;
      if (stride > 1)
        for (Index b = 0; b < width; ++b) u[lanes + b] = xv[b];
      for (Index a = 2; a < stride; ++a) {
        double* __restrict ua = u + a * lanes;
        const double* __restrict u1 = ua - lanes;
        const double* __restrict u2 = ua - 2 * lanes;
        if (chebyshev)
          for (Index b = 0; b < width; ++b) ua[b] = 2.0 * xv[b] * u1[b] - u2[b];
        else
          for (Index b = 0; b < width; ++b) ua[b] = xv[b] * u1[b];
      }
    }
    for (Index j = 0; j < n; ++j) {
      // Distinct rows of the scratch: restrict lets the compiler vectorise without checks.
      const double* __restrict vp = val + parent[j] * lanes;
      const double* __restrict uf = uni + factor[j] * lanes;
      double* __restrict vj = val + j * lanes;
      double acc[kVector] = {};
      if (j == 0) {
        for (Index b = 0; b < width; b += kVector)
          for (Index l = 0; l < kVector; ++l) acc[l] += vj[b + l];
      } else if (is_parent[j]) {
        for (Index b = 0; b < width; b += kVector)
          for (Index l = 0; l < kVector; ++l) {
            vj[b + l] = vp[b + l] * uf[b + l];
            acc[l] += vj[b + l];
          }
      } else {
        for (Index b = 0; b < width; b += kVector)
          for (Index l = 0; l < kVector; ++l) acc[l] += vp[b + l] * uf[b + l];
      }
      double total = 0.0;
      for (Index l = 0; l < kVector; ++l) total += acc[l];
      out[j] += total;
    }
  }
}

}  // namespace

std::vector<Index> equal_split(Index size, Index groups) {
  std::vector<Index> offsets(static_cast<size_t>(groups + 1));
  for (Index g = 0; g <= groups; ++g) offsets[static_cast<size_t>(g)] = size * g / groups;
  return offsets;
}

RowMatrixXd group_sums(const PointList& list, const std::vector<Index>& offsets,
                       const MonomialTable& table, Basis basis, const Frame& frame,
                       const Poll& poll) {
  const Index groups = static_cast<Index>(offsets.size()) - 1;
  RowMatrixXd sums(groups, table.size());
  // Batches bound the time between two polls for Ctrl-C; at most 16 parallel regions.
  const Index batch = std::max<Index>(64, (groups + 15) / 16);
  const int threads = team(list.size * table.size());
  Index largest = 0;
  for (Index g = 0; g < groups; ++g)
    largest =
        std::max(largest, offsets[static_cast<size_t>(g + 1)] - offsets[static_cast<size_t>(g)]);
  for (Index start = 0; start < groups; start += batch) {
    const Index stop = std::min(groups, start + batch);
    FirstError error;
#pragma omp parallel num_threads(threads)
    {
      // Every thread meets the loop's barrier, even one whose scratch failed to allocate.
      std::optional<Scratch> scratch;
      error.run([&] { scratch.emplace(list.dim, table.degree(), table.size(), largest); });
#pragma omp for schedule(static)
      for (Index g = start; g < stop; ++g)
        if (scratch)
          accumulate(list, offsets[static_cast<size_t>(g)], offsets[static_cast<size_t>(g + 1)],
                     table, basis, frame, *scratch, sums.row(g).data());
    }
    error.rethrow();
    if (poll) poll();
  }
  return sums;
}

void check_input(const PointList& list, bool points_too) {
  if (list.size == 0) throw std::invalid_argument("no points given; pass at least one row");
  for (Index p = 0; p < list.size && points_too; ++p) {
    const double* x = list.points + list.row(p) * list.dim;
    for (Index v = 0; v < list.dim; ++v)
      if (!std::isfinite(x[v]))
        throw std::invalid_argument(
            "the points hold NaN or inf; remove or repair those rows first");
  }
  if (!list.weights) return;
  double total = 0.0;
  for (Index p = 0; p < list.size; ++p) {
    const double w = list.weight(p);
    if (!std::isfinite(w) || w < 0) {
      std::ostringstream msg;
      msg << "weight " << p << " is " << w << "; weights must be finite and >= 0";
      throw std::invalid_argument(msg.str());
    }
    total += w;
  }
  if (!(total > 0) || !std::isfinite(total))
    throw std::invalid_argument("the weights must have a positive, finite total");
}

Eigen::VectorXd raw_moments(const PointList& list, Index degree, const Poll& poll) {
  const CallThreads threads(0);
  check_input(list, false);  // points are checked below, only if the sums are not finite
  const MonomialTable table(list.dim, degree);
  // A fixed number of chunks, independent of the thread count, summed in order: the result
  // is bit-identical however many threads run.
  const Index chunks = std::clamp<Index>(list.size / 4096, 1, 256);
  const RowMatrixXd sums = group_sums(list, equal_split(list.size, chunks), table, Basis::monomial,
                                      Frame::identity(list.dim), poll);
  Eigen::VectorXd total = Eigen::VectorXd::Zero(table.size());
  for (Index c = 0; c < chunks; ++c) total += sums.row(c).transpose();
  if (!total.allFinite()) {
    check_input(list, true);
    throw std::invalid_argument(
        "the moments overflow the double range; rescale the points or lower the degree");
  }
  return total;
}

}  // namespace tchakaloff
