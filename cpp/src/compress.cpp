#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <tchakaloff/compress.hpp>
#include <tchakaloff/greedy.hpp>
#include <tchakaloff/parallel_sort.hpp>
#include <thread>

namespace tchakaloff {

namespace {

// The moment residual (relative to the cell's weight, in its frame) a searched subset may
// leave: the reduction itself retries above 1e-11.
constexpr double kAcceptedDrift = 1e-11;
// Points a cell's search may bring in, per moment: all of a cell of 10N (d' = 0.1 d).
constexpr Index kCandidates = 8;
// The largest cell searched, in feature entries (32 MB): 10N objects up to N ~ 500.
constexpr Index kMaxSearchedEntries = Index{1} << 22;

// A cell's reduction moved to the subset that also matches its degree-(k + 1) moments best
// (match_next_moments), in the cell's own frame. Kept as it was unless the reduction kept
// exactly N points and the new subset keeps the moments as well as the old one did.
void match_cell_next_moments(const PointList& cell, const MonomialTable& table,
                             const MonomialTable& next_table, const CompressOptions& options,
                             Reduction& reduction) {
  const Index n = table.size();
  if (static_cast<Index>(reduction.indices.size()) != n) return;
  const LivePoints positive = live_points(cell);
  const std::vector<Index>& rows = positive.rows;
  const Index g = positive.size();
  const Index top = next_table.size() - n;  // the monomials of degree exactly k + 1
  // A group of fewer than 2N points has few other subsets to choose from, and the search
  // would cost more than its reduction; one far larger than its budget (a single cell of
  // millions, as reduce would take) keeps the reduction's subset rather than hold its
  // points' features.
  if (g < 2 * n || g * (n + top) > kMaxSearchedEntries) return;
  const PointList live = positive.list(cell);
  const Frame frame = Frame::bounding_box(live);
  RowMatrixXd features(g, n), next(g, top);
  Eigen::VectorXd z(cell.dim), values(next_table.size());
  for (Index p = 0; p < g; ++p) {
    frame.apply(cell.points + rows[static_cast<size_t>(p)] * cell.dim, z.data());
    table.evaluate(z.data(), options.basis, values.data());
    features.row(p) = values.head(n).transpose();
    next_table.evaluate(z.data(), Basis::monomial, values.data());
    next.row(p) = values.tail(top).transpose();
  }
  // The reduction's rows, as positions in the live list (rows are distinct).
  std::vector<std::pair<Index, Index>> position(static_cast<size_t>(g));
  for (Index p = 0; p < g; ++p)
    position[static_cast<size_t>(p)] = {rows[static_cast<size_t>(p)], p};
  std::sort(position.begin(), position.end());
  std::vector<Index> kept(static_cast<size_t>(n));
  Eigen::VectorXd kept_weights(n);
  for (Index i = 0; i < n; ++i) {
    const auto it =
        std::lower_bound(position.begin(), position.end(),
                         std::pair<Index, Index>{reduction.indices[static_cast<size_t>(i)], -1});
    if (it == position.end() || it->first != reduction.indices[static_cast<size_t>(i)]) return;
    kept[static_cast<size_t>(i)] = it->second;
    kept_weights[i] = reduction.weights[static_cast<size_t>(i)];
  }
  const Eigen::VectorXd w = Eigen::Map<const Eigen::VectorXd>(positive.weights.data(), g);
  // The candidates: the kept points and at most kCandidates x N others, evenly spaced in the
  // cell's list (a large cell's search would otherwise cost O(points x N) per pivot).
  std::vector<char> is_kept(static_cast<size_t>(g), 0);
  for (const Index p : kept) is_kept[static_cast<size_t>(p)] = 1;
  std::vector<Index> candidates = kept;
  const Index others = g - n, room = std::min(others, kCandidates * n);
  for (Index p = 0, seen = 0; p < g; ++p)
    if (!is_kept[static_cast<size_t>(p)]) {
      if (seen * room / others != (seen + 1) * room / others) candidates.push_back(p);
      ++seen;
    }
  const auto c = static_cast<Index>(candidates.size());
  RowMatrixXd candidate_features(c, n), candidate_next(c, top);
  for (Index i = 0; i < c; ++i) {
    candidate_features.row(i) = features.row(candidates[static_cast<size_t>(i)]);
    candidate_next.row(i) = next.row(candidates[static_cast<size_t>(i)]);
  }
  std::vector<Index> slots(static_cast<size_t>(n));  // kept point i is candidate i
  for (Index i = 0; i < n; ++i) slots[static_cast<size_t>(i)] = i;
  if (match_next_moments(candidate_features, candidate_next, next.transpose() * w, slots,
                         kept_weights, options.refine_steps) == 0)
    return;
  for (Index i = 0; i < n; ++i)
    kept[static_cast<size_t>(i)] = candidates[static_cast<size_t>(slots[static_cast<size_t>(i)])];
  // The pivots keep the moments to rounding; a re-fit on the kept points removes the drift.
  RowMatrixXd kept_features(n, n);
  for (Index i = 0; i < n; ++i) kept_features.row(i) = features.row(kept[static_cast<size_t>(i)]);
  const Eigen::VectorXd target = features.transpose() * w;
  const double residual = refit(kept_features, target, kept_weights) / target[0];
  if (!(kept_weights.array() > 0).all() ||
      !(residual <= std::max(reduction.moment_error, kAcceptedDrift)))
    return;
  std::vector<std::pair<Index, double>> sorted(static_cast<size_t>(n));
  for (Index i = 0; i < n; ++i)
    sorted[static_cast<size_t>(i)] = {rows[static_cast<size_t>(kept[static_cast<size_t>(i)])],
                                      kept_weights[i]};
  std::sort(sorted.begin(), sorted.end());
  for (Index i = 0; i < n; ++i) {
    reduction.indices[static_cast<size_t>(i)] = sorted[static_cast<size_t>(i)].first;
    reduction.weights[static_cast<size_t>(i)] = sorted[static_cast<size_t>(i)].second;
  }
  reduction.moment_error = residual;
}

}  // namespace

Compression reduce_cells(const PointList& list, const Cells& cells, Index degree,
                         const CompressOptions& options) {
  const CallThreads threads(options.threads);
  check_moment_count(list.dim, degree, kMaxReduceMoments, "compress");
  const MonomialTable table(list.dim, degree);
  const Index n_cells = cells.count();
  // Rows and weights in cell order, so that every cell is a contiguous PointList.
  std::vector<Index> rows(static_cast<size_t>(list.size));
  std::vector<double> weights(static_cast<size_t>(list.size));
  for (Index p = 0; p < list.size; ++p) {
    rows[static_cast<size_t>(p)] = list.row(cells.order[static_cast<size_t>(p)]);
    weights[static_cast<size_t>(p)] = list.weight(cells.order[static_cast<size_t>(p)]);
  }
  auto cell_list = [&](Index c) {
    const Index begin = cells.offsets[static_cast<size_t>(c)];
    return PointList{list.points, list.dim, cells.offsets[static_cast<size_t>(c + 1)] - begin,
                     rows.data() + begin, weights.data() + begin};
  };
  // Every cell's reduction polls inside, so that a few large cells (greedy's k-d pass at a
  // high degree) stop within the poll's period, not after a whole cell. The caller's poll runs
  // on the calling thread only (only it sees signals, and the poll is not thread-safe); once
  // it has thrown, the other threads' polls stop their cells too, and its exception is the
  // one that leaves.
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> stopped{false};
  std::exception_ptr interrupt;
  Poll cell_poll;
  if (options.poll)
    cell_poll = [&options, &stopped, &interrupt, caller] {
      if (std::this_thread::get_id() != caller) {
        if (stopped.load(std::memory_order_relaxed)) throw std::runtime_error("stopped");
        return;
      }
      try {
        options.poll();
      } catch (...) {
        interrupt = std::current_exception();
        stopped = true;
        throw;
      }
    };
  const ReduceOptions reduce_options{options.basis, options.prefer_central, cell_poll,
                                     options.threads};
  std::vector<Reduction> reductions(static_cast<size_t>(n_cells));
  // The monomials of degree k + 1 (the next moments), when the subsets are refined.
  const std::optional<MonomialTable> next_table =
      options.refine_steps > 0 ? std::optional<MonomialTable>(std::in_place, list.dim, degree + 1)
                               : std::nullopt;
  auto reduce_cell = [&](Index c) {
    if (stopped.load(std::memory_order_relaxed)) return;
    const PointList cell = cell_list(c);
    if (std::none_of(cell.weights, cell.weights + cell.size, [](double w) { return w > 0; }))
      return;  // an all-zero cell keeps nothing
    reductions[static_cast<size_t>(c)] = reduce(cell, table, reduce_options);
    if (next_table)
      match_cell_next_moments(cell, table, *next_table, options,
                              reductions[static_cast<size_t>(c)]);
  };

  if (n_cells == 1) {
    reduce_cell(0);  // one large cell: let the reduction itself run in parallel
  } else {
    const Index batch = std::max<Index>(64, n_cells / 50);
    for (Index start = 0; start < n_cells; start += batch) {
      const Index stop = std::min(n_cells, start + batch);
      FirstError error;
      // Work: the dense eliminations, about points x N^2 (points x N undercounted greedy's
      // many small balls, which then ran on one thread).
#pragma omp parallel for schedule(dynamic, 1) \
    num_threads(team(list.size* table.size() * table.size()))
      for (Index c = start; c < stop; ++c) error.run([&] { reduce_cell(c); });
      if (interrupt) std::rethrow_exception(interrupt);
      error.rethrow();
      if (options.poll) options.poll();
      if (options.progress) options.progress(stop, n_cells);
    }
  }

  Compression result;
  result.cells = n_cells;
  result.labels.resize(static_cast<size_t>(list.size));
  std::vector<std::pair<Index, double>> kept;
  for (Index c = 0; c < n_cells; ++c) {
    for (Index p = cells.offsets[static_cast<size_t>(c)];
         p < cells.offsets[static_cast<size_t>(c + 1)]; ++p)
      result.labels[static_cast<size_t>(cells.order[static_cast<size_t>(p)])] = c;
    const Reduction& r = reductions[static_cast<size_t>(c)];
    // Reduction indices are positions in the cell's list; its rows are input rows already.
    for (size_t i = 0; i < r.indices.size(); ++i) kept.emplace_back(r.indices[i], r.weights[i]);
    result.moment_error = std::max(result.moment_error, r.moment_error);
  }
  parallel_sort(kept);  // rows are distinct
  for (const auto& [row, weight] : kept) {
    result.indices.push_back(row);
    result.weights.push_back(weight);
  }
  return result;
}

namespace {

// The cells' frame: `metric` times the power of two that brings the widest column's spread
// (in metric units) near 1. Only ratios of the factors matter, and a power of two scales
// every distance exactly (the cells and neighbours are the same bit for bit), while factors
// like 1e160 would overflow the squared distances.
Frame metric_frame(const Frame& frame, const Eigen::VectorXd& metric) {
  Frame cut = frame;
  int widest = std::numeric_limits<int>::min();
  for (Index v = 0; v < metric.size(); ++v) {
    const double half = 1.0 / frame.inv_half_width[v];  // the half-range (1: constant)
    if (metric[v] > 0) {
      int a = 0, b = 0;
      std::frexp(metric[v], &a);
      std::frexp(half, &b);
      widest = std::max(widest, a + b);
    }
  }
  cut.inv_half_width = metric;
  if (widest != std::numeric_limits<int>::min())
    for (Index v = 0; v < metric.size(); ++v)
      cut.inv_half_width[v] = std::ldexp(metric[v], -widest);
  return cut;
}

// Raises unless the result holds the contract: at most `size` distinct input rows, sorted,
// with positive finite weights.
void check_result(const Compression& result, Index size) {
  if (static_cast<Index>(result.indices.size()) > size)
    throw ReductionError("the compression kept " + std::to_string(result.indices.size()) +
                         " objects, more than size = " + std::to_string(size) +
                         "; the objects are too ill-conditioned at this degree: lower the "
                         "degree or remove near-duplicate objects");
  for (size_t i = 0; i < result.indices.size(); ++i)
    if (!(result.weights[i] > 0) || !std::isfinite(result.weights[i]) ||
        (i > 0 && !(result.indices[i - 1] < result.indices[i])))
      throw ReductionError("the compression produced a weight that is not positive and finite");
}

}  // namespace

Index greedy_merge(Index n_moments) { return std::max<Index>(1, n_moments / 8); }

double greedy_prepass(Index cut_dims, Index degree) {
  if (cut_dims < 1 || degree < 0)
    throw std::invalid_argument("greedy_prepass needs cut_dims >= 1 and degree >= 0");
  return std::min(kPrepassMax, std::pow(kPrepassGain, static_cast<double>(cut_dims) /
                                                          static_cast<double>(degree + 1)));
}

Compression compress(const PointList& list, Index degree, Index size,
                     const CompressOptions& options) {
  const CallThreads threads(options.threads);
  if (size < 1) throw std::invalid_argument("size must be at least 1 object");
  if (options.merge < 0) throw std::invalid_argument("merge must be >= 0 (0: automatic)");
  check_moment_count(list.dim, degree, kMaxReduceMoments, "compress");
  check_input(list, false);
  const Frame frame = Frame::bounding_box(list);  // also rejects NaN and inf
  const Index live = list.weights ? std::count_if(list.weights, list.weights + list.size,
                                                  [](double w) { return w > 0; })
                                  : list.size;
  if (live <= size) {  // nothing needs to go: one cell, every object kept as it is
    Compression all;
    all.cells = 1;
    all.labels.assign(static_cast<size_t>(list.size), 0);
    for (Index p = 0; p < list.size; ++p)
      if (list.weight(p) > 0) {
        all.indices.push_back(list.row(p));
        all.weights.push_back(list.weight(p));
      }
    return all;
  }
  const Index n = n_moments(list.dim, degree);
  if (size < n)
    throw std::invalid_argument(
        "size " + std::to_string(size) + " is below N = " + std::to_string(n) +
        ", the number of moments of degree <= " + std::to_string(degree) +
        ": no exact reduction can promise fewer; raise size or lower the degree");
  // The cells are cut in the metric's units; each cell's reduction works in its own frame.
  Frame cut = frame;
  if (options.metric.size() != 0) {
    if (options.metric.size() != list.dim || !options.metric.allFinite() ||
        (options.metric.array() < 0).any() || !(options.metric.array() > 0).any())
      throw std::invalid_argument(
          "metric must hold one finite, non-negative factor per column, not all zero");
    cut = metric_frame(frame, options.metric);
  }
  Compression result;
  if (options.partition == Partition::greedy) {
    CompressOptions greedy = options;
    if (greedy.merge == 0) greedy.merge = greedy_merge(n);
    if (greedy.prepass < 0) {
      const Index cut_dims =
          options.metric.size() == 0 ? list.dim : (options.metric.array() > 0).count();
      greedy.prepass = greedy_prepass(cut_dims, degree);
    }
    result = greedy_compress(list, cut, degree, size, greedy);
  } else {
    const Index n_cells = std::max<Index>(1, size / n);
    result = reduce_cells(list, kd_cells(list, cut, n_cells, options.poll), degree, options);
  }
  check_result(result, size);
  return result;
}

}  // namespace tchakaloff
