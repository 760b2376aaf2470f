#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <string>
#include <tchakaloff/caratheodory.hpp>

namespace tchakaloff {

Index eliminate(const RowMatrixXd& features, Eigen::VectorXd& weights, const Eigen::VectorXd& cost,
                const Poll& poll) {
  std::vector<Index> live;
  for (Index i = 0; i < weights.size(); ++i)
    if (weights[i] > 0) live.push_back(i);
  const auto g = static_cast<Index>(live.size());
  if (g == 0) return 0;
  Eigen::MatrixXd a(g, features.cols());
  Eigen::VectorXd w(g), c(cost.size() ? g : 0);
  for (Index i = 0; i < g; ++i) {
    a.row(i) = features.row(live[static_cast<size_t>(i)]);
    w[i] = weights[live[static_cast<size_t>(i)]];
    if (cost.size()) c[i] = cost[live[static_cast<size_t>(i)]];
  }

  // Null space of a^T from one pivoted QR of a: a P = Q R with rank r, so v^T a = 0 exactly
  // for v in the span of Q's last g - r columns. One factorisation serves every removal.
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(a);
  const Index nullity = g - qr.rank();
  if (nullity > 0) {
    Eigen::MatrixXd null = Eigen::MatrixXd::Zero(g, nullity);
    null.bottomRows(nullity).setIdentity();
    null.applyOnTheLeft(qr.householderQ());

    const double total = w.sum();
    for (Index j = 0; j < nullity; ++j) {
      if (poll && j % 64 == 63) poll();
      auto v = null.col(j);
      // The constant function is among the features, so sum(v) = 0 and v has entries of both
      // signs. Either sign keeps the moments; with a cost, take the one along which the cost
      // falls (w -= t v), else the one with the larger positive entry (a well-scaled pivot).
      const double slope = c.size() ? c.dot(v) : 0.0;
      if (slope < 0 || (slope == 0 && -v.minCoeff() > v.maxCoeff())) v = -v;
      const double tiny = v.cwiseAbs().maxCoeff() * 1e-13;
      Index pivot = -1;
      double step = std::numeric_limits<double>::infinity();
      for (Index i = 0; i < g; ++i) {
        // Branch-free ratio (the sign test is a coin flip); the minimum is rarely replaced.
        const double ratio = v[i] > tiny ? w[i] / v[i] : std::numeric_limits<double>::infinity();
        if (ratio < step) {
          step = ratio;
          pivot = i;
        }
      }
      if (pivot < 0) continue;  // rounding left nothing usable in this direction
      // Move along v until the pivot's weight hits zero: moments are unchanged, no weight
      // goes negative (the pivot has the smallest ratio).
      const double floor = total * 1e-15;
      for (Index i = 0; i < g; ++i) {
        const double moved = w[i] - step * v[i];
        w[i] = moved < floor ? 0.0 : moved;
      }
      w[pivot] = 0.0;
      // Gaussian elimination: later directions get a zero at the pivot so it stays at zero.
      const Index rest = nullity - j - 1;
      null.rightCols(rest).noalias() -= v * (null.row(pivot).tail(rest) / v[pivot]);
      null.row(pivot).tail(rest).setZero();
    }
  }
  Index kept = 0;
  for (Index i = 0; i < g; ++i) {
    weights[live[static_cast<size_t>(i)]] = w[i];
    kept += w[i] > 0;
  }
  return kept;
}

Index reduce_rows(const RowMatrixXd& features, Eigen::VectorXd& weights,
                  const Eigen::VectorXd& cost, const Poll& poll) {
  const Index n = features.cols();
  std::vector<Index> live;
  for (Index i = 0; i < weights.size(); ++i)
    if (weights[i] > 0) live.push_back(i);
  // Same recursion as `reduce`, on rows already expanded: 2N groups of rows, their
  // barycentres eliminated densely, the surviving groups split again.
  const bool finite = features.allFinite();  // else no level could make progress
  while (finite && static_cast<Index>(live.size()) > 2 * n) {
    const std::vector<Index> offsets = equal_split(static_cast<Index>(live.size()), 2 * n);
    RowMatrixXd centroids = RowMatrixXd::Zero(2 * n, n);
    Eigen::VectorXd mass = Eigen::VectorXd::Zero(2 * n);
    Eigen::VectorXd group_cost = Eigen::VectorXd::Zero(cost.size() ? 2 * n : 0);
    for (Index g = 0; g < 2 * n; ++g) {
      for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)];
           ++p) {
        const Index i = live[static_cast<size_t>(p)];
        centroids.row(g) += weights[i] * features.row(i);
        mass[g] += weights[i];
        if (cost.size()) group_cost[g] += weights[i] * cost[i];
      }
      centroids.row(g) /= mass[g];
      if (cost.size()) group_cost[g] /= mass[g];
    }
    Eigen::VectorXd kept = mass;
    eliminate(centroids, kept, group_cost, poll);
    std::vector<Index> next;
    for (Index g = 0; g < 2 * n; ++g)
      for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)];
           ++p) {
        const Index i = live[static_cast<size_t>(p)];
        weights[i] *= kept[g] / mass[g];
        if (kept[g] > 0) next.push_back(i);
      }
    // 2N groups in R^N always have N null directions; when rounding left none usable, one
    // more pass would see the same groups again.
    if (next.size() == live.size()) break;
    live.swap(next);
    if (poll) poll();  // a level is one dense elimination: a fraction of a second at N ~ 500
  }
  RowMatrixXd rows(static_cast<Index>(live.size()), n);
  Eigen::VectorXd w(static_cast<Index>(live.size())), c(cost.size() ? w.size() : 0);
  for (size_t p = 0; p < live.size(); ++p) {
    rows.row(static_cast<Index>(p)) = features.row(live[p]);
    w[static_cast<Index>(p)] = weights[live[p]];
    if (cost.size()) c[static_cast<Index>(p)] = cost[live[p]];
  }
  const Index kept = eliminate(rows, w, c, poll);
  for (size_t p = 0; p < live.size(); ++p) weights[live[p]] = w[static_cast<Index>(p)];
  return kept;
}

namespace {

// Largest |entry|, infinite when an entry is NaN (Eigen's maxCoeff may skip NaN).
double max_abs(const Eigen::VectorXd& v) {
  return v.allFinite() ? v.cwiseAbs().maxCoeff() : std::numeric_limits<double>::infinity();
}

}  // namespace

LivePoints live_points(const PointList& list) {
  LivePoints live;
  for (Index p = 0; p < list.size; ++p)
    if (list.weight(p) > 0) {
      live.rows.push_back(list.row(p));
      live.weights.push_back(list.weight(p));
    }
  return live;
}

Index match_next_moments(const RowMatrixXd& features, const RowMatrixXd& next,
                         const Eigen::VectorXd& target, std::vector<Index>& kept,
                         Eigen::VectorXd& kept_weights, Index steps) {
  const Index n = features.rows(), size = features.cols();
  if (static_cast<Index>(kept.size()) != size || n <= size || steps < 1) return 0;
  // The simplex tableau: column p of `tableau` is B^-1 a_p (B: the kept points' features as
  // columns), how the kept weights move (by -t times it) when point p comes in at weight t
  // with the moments unchanged; row p of `change` is how the next moments' residual then
  // moves (per unit of t). A pivot updates both by a rank-one step: O(n (N + M)) per pivot.
  Eigen::MatrixXd basis(size, size), next_kept(size, next.cols());
  for (Index i = 0; i < size; ++i) {
    basis.col(i) = features.row(kept[static_cast<size_t>(i)]).transpose();
    next_kept.row(i) = next.row(kept[static_cast<size_t>(i)]);
  }
  const Eigen::FullPivLU<Eigen::MatrixXd> lu(basis);
  if (lu.rank() < size) return 0;
  Eigen::MatrixXd tableau = lu.solve(features.transpose());
  Eigen::MatrixXd change = next - tableau.transpose() * next_kept;
  Eigen::VectorXd residual = next_kept.transpose() * kept_weights - target;
  std::vector<char> in_subset(static_cast<size_t>(n), 0);
  for (const Index p : kept) in_subset[static_cast<size_t>(p)] = 1;
  Index pivots = 0;
  for (; pivots < steps; ++pivots) {
    double best = residual.squaredNorm() * (1 - 1e-9);
    Index enter = -1, leave = -1;
    double best_t = 0.0;
    const double tiny = 1e-12 * tableau.cwiseAbs().maxCoeff();
    for (Index p = 0; p < n; ++p) {
      if (in_subset[static_cast<size_t>(p)]) continue;
      // The ratio test: the weight t at which the first kept weight reaches zero.
      double t = std::numeric_limits<double>::infinity();
      Index out = -1;
      for (Index i = 0; i < size; ++i) {
        const double u = tableau(i, p);
        if (u > tiny && kept_weights[i] < t * u) {
          t = kept_weights[i] / u;
          out = i;
        }
      }
      if (out < 0) continue;
      const double after = (residual + t * change.row(p).transpose()).squaredNorm();
      if (after < best) {
        best = after;
        enter = p;
        leave = out;
        best_t = t;
      }
    }
    if (enter < 0) break;  // a local minimum: no pivot lowers the residual
    const Eigen::VectorXd column = tableau.col(enter);
    residual += best_t * change.row(enter).transpose();
    kept_weights -= best_t * column;
    kept_weights[leave] = best_t;
    // Pivot on (leave, enter): row `leave` becomes the entering point's, the others lose
    // their multiple of it.
    const Eigen::RowVectorXd row = tableau.row(leave) / column[leave];
    Eigen::VectorXd step = column;
    step[leave] -= 1.0;
    const Eigen::RowVectorXd moved =
        step.transpose() * next_kept - (next.row(enter) - next_kept.row(leave));
    tableau.noalias() -= step * row;
    change.noalias() += row.transpose() * moved;
    next_kept.row(leave) = next.row(enter);
    in_subset[static_cast<size_t>(kept[static_cast<size_t>(leave)])] = 0;
    in_subset[static_cast<size_t>(enter)] = 1;
    kept[static_cast<size_t>(leave)] = enter;
  }
  for (Index i = 0; i < size; ++i) kept_weights[i] = std::max(kept_weights[i], 0.0);
  return pivots;
}

double refit(const RowMatrixXd& features, const Eigen::VectorXd& target, Eigen::VectorXd& weights) {
  const Eigen::MatrixXd at = features.transpose();
  double best = max_abs(at * weights - target);
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(at);
  Eigen::VectorXd w = weights;
  // Two rounds of iterative refinement on the correction, starting from the current weights.
  for (int round = 0; round < 2; ++round) {
    w += qr.solve(target - at * w);
    const double residual = max_abs(at * w - target);
    if ((w.array() > 0).all() && residual < best) {
      best = residual;
      weights = w;
    }
  }
  return best;
}

namespace {

// Groups per level: small groups (>= 128 points) so that few points survive a level, but the
// G x N table of group sums stays within half the size of the live points' coordinates.
Index choose_groups(Index size, Index dim, Index n) {
  const Index memory_cap = std::max(2 * n, size * dim / (2 * n));
  return std::min(size, std::max(2 * n, std::min(size / 128, memory_cap)));
}

// Mean over each group of |z - mean|^(2q), q = ceil((k+1)/2), z in the frame: the size of
// the first moments the reduction cannot match.
Eigen::VectorXd central_cost(const PointList& list, const std::vector<Index>& offsets,
                             const Frame& frame, const Eigen::VectorXd& target, Index degree) {
  const Index groups = static_cast<Index>(offsets.size()) - 1, m = list.dim;
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(m);
  if (degree >= 1) mean = target.segment(1, m) / target[0];  // T_1(z) = z: first moments
  const int power = static_cast<int>((degree + 2) / 2);
  Eigen::VectorXd cost(groups);
  FirstError error;
#pragma omp parallel for schedule(static) num_threads(team(list.size* m))
  for (Index g = 0; g < groups; ++g)
    error.run([&] {
      Eigen::VectorXd z(m);
      double sum = 0.0, mass = 0.0;
      for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)];
           ++p) {
        frame.apply(list.points + list.row(p) * m, z.data());
        double r2 = (z - mean).squaredNorm(), r = 1.0;
        for (int i = 0; i < power; ++i) r *= r2;
        sum += list.weight(p) * r;
        mass += list.weight(p);
      }
      cost[g] = mass > 0 ? sum / mass : 0.0;
    });
  error.rethrow();
  return cost;
}

// Features of the listed points, one row each.
RowMatrixXd point_features(const PointList& list, const MonomialTable& table, Basis basis,
                           const Frame& frame) {
  RowMatrixXd features(list.size, table.size());
  Eigen::VectorXd x(list.dim), row(table.size());
  for (Index p = 0; p < list.size; ++p) {
    frame.apply(list.points + list.row(p) * list.dim, x.data());
    table.evaluate(x.data(), basis, row.data());
    features.row(p) = row.transpose();
  }
  return features;
}

// The result of a reduced list: its positive-weight points in the order of their input rows,
// with the weights re-fitted to the input's moments `target` when `refit_weights` (else the
// residual as it is), unless the moments drifted beyond what rounding explains.
// `features_of(kept, order)` gives the features of the kept points (a PointList of their
// rows; `order` their positions in `list`), one row each.
template <class FeaturesOf>
Reduction finished(const PointList& list, const Eigen::VectorXd& target, bool refit_weights,
                   Index levels, FeaturesOf features_of) {
  std::vector<Index> order;
  for (Index p = 0; p < list.size; ++p)
    if (list.weight(p) > 0) order.push_back(p);
  std::sort(order.begin(), order.end(),
            [&](Index a, Index b) { return list.row(a) < list.row(b); });
  Reduction result;
  result.levels = levels;
  Eigen::VectorXd weights(static_cast<Index>(order.size()));
  for (size_t i = 0; i < order.size(); ++i) {
    result.indices.push_back(list.row(order[i]));
    weights[static_cast<Index>(i)] = list.weight(order[i]);
  }
  const PointList kept{list.points, list.dim, weights.size(), result.indices.data(), nullptr};
  const RowMatrixXd features = features_of(kept, order);
  const double residual = refit_weights ? refit(features, target, weights)
                                        : max_abs(features.transpose() * weights - target);
  result.weights.assign(weights.data(), weights.data() + weights.size());
  result.moment_error = residual / target[0];
  // The contract, checked rather than assumed: at most N points, weights > 0 and finite,
  // moments (the total among them) kept. Anything else is a breakdown, never a result.
  if (weights.size() > features.cols())
    throw ReductionError("the reduction kept " + std::to_string(weights.size()) +
                         " points, more than the " + std::to_string(features.cols()) +
                         " moments; the points are too ill-conditioned at "
                         "this degree: lower the degree or remove near-duplicate points");
  if (!(weights.array() > 0).all() || !weights.allFinite())
    throw ReductionError("the reduction produced a weight that is not positive and finite");
  if (!(result.moment_error < 1e-6))
    throw ReductionError(
        "the reduced moments drifted from the input's by " + std::to_string(result.moment_error) +
        " (relative to the total weight); the points are too ill-conditioned at this degree: "
        "lower the degree or remove near-duplicate points");
  return result;
}

// A list of at most 4N points (greedy's balls, most cells of its k-d pass): the features of
// every point are evaluated once and the eliminations run on them (`reduce_rows`: one for
// at most 2N points, else one grouped level and one more), and the kept points' features
// are rows of the same matrix. No re-fit after a single elimination: it keeps the moments
// to rounding, and the re-fit is there for the drift that many levels add up.
Reduction reduce_small(const PointList& input, const MonomialTable& table, const Frame& frame,
                       const ReduceOptions& options) {
  const Index n = table.size();
  LivePoints positive = live_points(input);
  std::vector<Index>& rows = positive.rows;
  const Index g = positive.size();
  const PointList live = positive.list(input);
  const RowMatrixXd features = point_features(live, table, options.basis, frame);
  Eigen::VectorXd w = Eigen::Map<const Eigen::VectorXd>(positive.weights.data(), g);
  const Eigen::VectorXd target = features.transpose() * w;

  const Index levels = g <= n ? 0 : g <= 2 * n ? 1 : 2;
  if (levels > 0) {
    std::vector<Index> each(static_cast<size_t>(g + 1));
    std::iota(each.begin(), each.end(), Index{0});
    reduce_rows(features, w,
                options.prefer_central ? central_cost(live, each, frame, target, table.degree())
                                       : Eigen::VectorXd(),
                options.poll);
  }
  const PointList reduced{input.points, input.dim, g, rows.data(), w.data()};
  return finished(reduced, target, levels == 2, levels,
                  [&](const PointList&, const std::vector<Index>& order) {
                    RowMatrixXd kept(static_cast<Index>(order.size()), n);
                    for (size_t i = 0; i < order.size(); ++i)
                      kept.row(static_cast<Index>(i)) = features.row(order[i]);
                    return kept;
                  });
}

// The recursion on a list, in a frame chosen by the caller.
Reduction reduce_in_frame(const PointList& input, const MonomialTable& table, const Frame& frame,
                          const ReduceOptions& options) {
  const Index n = table.size();
  if (input.size <= 4 * n) return reduce_small(input, table, frame, options);

  // The live list: level 0 is the input itself; later levels own their rows and weights.
  PointList list = input;
  std::vector<Index> rows;
  std::vector<double> weights;
  Index live = input.size;
  if (input.weights)
    live = std::count_if(input.weights, input.weights + input.size, [](double w) { return w > 0; });

  Eigen::VectorXd target;  // moments of the input in the frame, kept to re-fit against
  Index levels = 0;
  while (live > n || target.size() == 0) {
    const Index groups = choose_groups(list.size, list.dim, n);
    const std::vector<Index> offsets = equal_split(list.size, groups);
    const RowMatrixXd sums = group_sums(list, offsets, table, options.basis, frame, options.poll);
    if (target.size() == 0) {
      target = Eigen::VectorXd::Zero(n);
      for (Index g = 0; g < groups; ++g) target += sums.row(g).transpose();
      if (live <= n) break;
    }
    ++levels;

    Eigen::VectorXd mass = sums.col(0);
    RowMatrixXd centroids = sums;
    for (Index g = 0; g < groups; ++g)
      if (mass[g] > 0) centroids.row(g) /= mass[g];
    Eigen::VectorXd kept = mass;
    reduce_rows(centroids, kept,
                options.prefer_central ? central_cost(list, offsets, frame, target, table.degree())
                                       : Eigen::VectorXd(),
                options.poll);

    // No re-fit here: the elimination keeps the moments to rounding, and the one re-fit at
    // the end (against the input's moments) removes what the levels add up.
    std::vector<Index> survivors;
    for (Index g = 0; g < groups; ++g)
      if (kept[g] > 0) survivors.push_back(g);
    if (static_cast<Index>(survivors.size()) == groups)  // the same groups again: a breakdown
      throw ReductionError(
          "a reduction level removed no group (the group barycentres are not finite or too "
          "ill-conditioned); lower the degree or rescale the points");

    // The survivors' points with their rescaled weights, written in parallel: each surviving
    // group fills its own slice, at an offset from a prefix sum of the slice sizes.
    const auto n_survivors = static_cast<Index>(survivors.size());
    std::vector<Index> slice(survivors.size() + 1, 0);
    for (Index s = 0; s < n_survivors; ++s) {
      const Index g = survivors[static_cast<size_t>(s)];
      Index count = 0;
      for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)]; ++p)
        count += list.weight(p) > 0;
      slice[static_cast<size_t>(s + 1)] = slice[static_cast<size_t>(s)] + count;
    }
    std::vector<Index> next_rows(static_cast<size_t>(slice.back()));
    std::vector<double> next_weights(static_cast<size_t>(slice.back()));
#pragma omp parallel for schedule(static) num_threads(team(slice.back()))
    for (Index s = 0; s < n_survivors; ++s) {
      const Index g = survivors[static_cast<size_t>(s)];
      const double scale = kept[g] / mass[g];
      auto out = static_cast<size_t>(slice[static_cast<size_t>(s)]);
      for (Index p = offsets[static_cast<size_t>(g)]; p < offsets[static_cast<size_t>(g + 1)]; ++p)
        if (list.weight(p) > 0) {
          next_rows[out] = list.row(p);
          next_weights[out++] = list.weight(p) * scale;
        }
    }
    rows.swap(next_rows);
    weights.swap(next_weights);
    list.rows = rows.data();
    list.weights = weights.data();
    list.size = live = static_cast<Index>(rows.size());
    if (options.poll) options.poll();
  }

  // The at most N survivors (or all positive-weight input points): a last re-fit on their
  // own features, unless nothing was removed (the caller's weights are then kept exactly).
  return finished(list, target, levels > 0, levels,
                  [&](const PointList& kept, const std::vector<Index>&) {
                    return point_features(kept, table, options.basis, frame);
                  });
}

// Repeated points, merged: each distinct row once (its first occurrence), with the total
// weight of its copies, summed in row order. Weights spread over many orders of magnitude on
// a few distinct points (a lattice) otherwise lose mass in the group barycentres, where the
// distinct points alone are an exact answer, or nearly one. O(n log n), so only a fallback.
struct Merged {
  std::vector<Index> rows;
  std::vector<double> weights;
};

Merged merge_duplicates(const PointList& list) {
  std::vector<Index> order;
  for (Index p = 0; p < list.size; ++p)
    if (list.weight(p) > 0) order.push_back(p);
  const Index m = list.dim;
  auto x = [&](Index p) { return list.points + list.row(p) * m; };
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    const double *xa = x(a), *xb = x(b);
    for (Index v = 0; v < m; ++v)
      if (xa[v] != xb[v]) return xa[v] < xb[v];
    return list.row(a) < list.row(b);
  });
  Merged merged;
  for (size_t i = 0; i < order.size(); ++i) {
    const Index p = order[i];
    if (i > 0 && std::equal(x(p), x(p) + m, x(order[i - 1]))) {
      merged.weights.back() += list.weight(p);
    } else {
      merged.rows.push_back(list.row(p));
      merged.weights.push_back(list.weight(p));
    }
  }
  return merged;
}

}  // namespace

Reduction reduce(const PointList& input, Index degree, const ReduceOptions& options) {
  check_moment_count(input.dim, degree, kMaxReduceMoments, "reduce");
  check_input(input, false);  // the bounding box checks the points
  return reduce(input, MonomialTable(input.dim, degree), options);
}

Reduction reduce(const PointList& input, const MonomialTable& table, const ReduceOptions& options) {
  const CallThreads threads(options.threads);
  const Frame frame = Frame::bounding_box(input);
  // Moments kept to rounding are ~1e-15. Far above that, or on a breakdown, the reduction
  // does not give up where an exact subset is easy to find: it merges repeated points and
  // reduces the distinct ones, then reduces on every point's explicit features (no
  // barycentres of groups whose points lie orders of magnitude apart: tight clusters with
  // far outliers), and keeps the best answer.
  constexpr double kRetryAbove = 1e-11;
  constexpr Index kExplicitEntries = Index{1} << 23;  // 64 MB of features at most
  Reduction best;
  bool found = false;
  std::exception_ptr failure;
  auto good_after = [&](auto&& attempt) {
    try {
      Reduction r = attempt();
      if (!found || r.moment_error < best.moment_error) best = std::move(r);
      found = true;
    } catch (const ReductionError&) {
      if (!failure) failure = std::current_exception();
    }
    return found && best.moment_error <= kRetryAbove;
  };
  if (good_after([&] { return reduce_in_frame(input, table, frame, options); })) return best;

  const Merged merged = merge_duplicates(input);
  const auto live = static_cast<Index>(merged.rows.size());
  const PointList distinct{input.points, input.dim, live, merged.rows.data(),
                           merged.weights.data()};
  const bool repeated = input.weights ? live < std::count_if(
                                                   input.weights, input.weights + input.size,
                                                   [](double w) { return w > 0; })
                                      : live < input.size;
  if (repeated && good_after([&] { return reduce_in_frame(distinct, table, frame, options); }))
    return best;
  const PointList& list = repeated ? distinct : input;
  const Index n = table.size();
  if (list.size > 4 * n && list.size <= kExplicitEntries / n &&  // smaller ones ran this way
      good_after([&] { return reduce_small(list, table, frame, options); }))
    return best;
  if (found) return best;
  std::rethrow_exception(failure);
}

}  // namespace tchakaloff
