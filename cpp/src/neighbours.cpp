#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <tchakaloff/neighbours.hpp>

namespace tchakaloff {

namespace {
constexpr Index kLeafSize = 16;
constexpr Index kBruteForce = 8;  // scan every point when asked for more than 1 / 8 of them
}  // namespace

NeighbourTree::NeighbourTree(const double* points, Index n, Index dim)
    : n_(n), dim_(dim), order_(static_cast<size_t>(n)) {
  if (n < 1 || dim < 1) throw std::invalid_argument("a neighbour tree needs points");
  std::iota(order_.begin(), order_.end(), Index{0});
  nodes_.reserve(static_cast<size_t>(2 * (n / kLeafSize + 1)));
  build(points, 0, n);
  // Leaves scan their points in tree order: a copy in that order keeps each scan contiguous.
  coordinates_.resize(static_cast<size_t>(n * dim));
  for (Index p = 0; p < n; ++p)
    std::copy_n(points + order_[static_cast<size_t>(p)] * dim, dim, coordinates_.begin() + p * dim);
}

Index NeighbourTree::build(const double* points, Index begin, Index end) {
  const Index id = static_cast<Index>(nodes_.size());
  nodes_.push_back(Node{begin, end});
  if (end - begin <= kLeafSize) return id;
  Index axis = 0;
  double widest = -1.0;
  for (Index v = 0; v < dim_; ++v) {
    double lo = points[order_[static_cast<size_t>(begin)] * dim_ + v], hi = lo;
    for (Index p = begin + 1; p < end; ++p) {
      const double x = points[order_[static_cast<size_t>(p)] * dim_ + v];
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    if (hi - lo > widest) {
      widest = hi - lo;
      axis = v;
    }
  }
  const Index middle = begin + (end - begin) / 2;
  std::nth_element(order_.begin() + begin, order_.begin() + middle, order_.begin() + end,
                   [&](Index a, Index b) {
                     const double xa = points[a * dim_ + axis], xb = points[b * dim_ + axis];
                     return xa < xb || (xa == xb && a < b);
                   });
  const double split = points[order_[static_cast<size_t>(middle)] * dim_ + axis];
  const Index left = build(points, begin, middle);
  const Index right = build(points, middle, end);
  Node& node = nodes_[static_cast<size_t>(id)];
  node.left = left;
  node.right = right;
  node.axis = axis;
  node.split = split;
  return id;
}

template <int M>
void NeighbourTree::search(Index id, const double* query, Index count, Search& state,
                           double box2) const {
  const Node& node = nodes_[static_cast<size_t>(id)];
  if (node.left < 0) {
    auto& best = state.best;
    for (Index p = node.begin; p < node.end; ++p) {
      const double d2 = squared_distance<M>(p, query);
      if (d2 > state.bound) continue;  // the common case, decided on the distance alone
      const Index point = reported(p, state.position);
      if (point < 0) continue;
      const std::pair<double, Index> candidate{d2, point};
      if (static_cast<Index>(best.size()) < count) {
        // Not full: nothing is pruned yet, so the first `count` are ordered once, when full.
        best.push_back(candidate);
        if (static_cast<Index>(best.size()) == count) {
          if (state.sorted)
            std::sort(best.begin(), best.end());
          else
            std::make_heap(best.begin(), best.end());
          state.bound = state.worst().first;
        }
        continue;
      }
      if (!(candidate < state.worst())) continue;  // a tie, lost on the index
      if (state.sorted) {
        best.pop_back();
        best.insert(std::upper_bound(best.begin(), best.end(), candidate), candidate);
      } else {
        std::pop_heap(best.begin(), best.end());
        best.back() = candidate;
        std::push_heap(best.begin(), best.end());
      }
      state.bound = state.worst().first;
    }
    return;
  }
  const double gap = query[node.axis] - node.split;
  const Index near = gap < 0 ? node.left : node.right, far = gap < 0 ? node.right : node.left;
  search<M>(near, query, count, state, box2);
  // The far side's box is at least box2 away, with this axis's share raised to gap^2 (the
  // incremental bound of Arya and Mount): it prunes on every axis at once, not only this one.
  // <= keeps ties on the boundary, so the answer does not depend on the tree's shape.
  double& along = state.gap2[static_cast<size_t>(node.axis)];
  const double saved = along, far2 = box2 - saved + gap * gap;
  if (far2 <= state.bound) {
    along = gap * gap;
    search<M>(far, query, count, state, far2);
    along = saved;
  }
}

void NeighbourTree::nearest(const double* query, Index count, Index* out, double* distance2,
                            const Index* position) const {
  if (count < 1 || count > n_) throw std::invalid_argument("neighbour count out of range");
  thread_local Search state;  // reused by the thread's next query: a search allocates nothing
  auto& best = state.best;
  best.clear();
  // A ball holding a large share of the points: the tree would visit most leaves anyway, and
  // a heap of that size costs more than selecting among all distances at once.
  const bool scan = count * kBruteForce > n_;
  if (scan) {
    for (Index p = 0; p < n_; ++p)
      if (const Index point = reported(p, position); point >= 0)
        best.emplace_back(squared_distance(p, query), point);
  } else {
    state.sorted = count <= 64;
    state.bound = std::numeric_limits<double>::infinity();
    state.gap2.assign(static_cast<size_t>(dim_), 0.0);
    state.position = position;
    switch (dim_) {  // the common dimensions with their distance loop unrolled
      case 1:
        search<1>(0, query, count, state, 0.0);
        break;
      case 2:
        search<2>(0, query, count, state, 0.0);
        break;
      case 3:
        search<3>(0, query, count, state, 0.0);
        break;
      case 4:
        search<4>(0, query, count, state, 0.0);
        break;
      default:
        search<0>(0, query, count, state, 0.0);
    }
  }
  if (static_cast<Index>(best.size()) < count)
    throw std::invalid_argument("neighbour count out of range");
  if (scan) {
    std::nth_element(best.begin(), best.begin() + (count - 1), best.end());
    std::sort(best.begin(), best.begin() + (count - 1));
  } else if (!state.sorted) {
    std::sort_heap(best.begin(), best.end());
  }
  for (Index j = 0; j < count; ++j) {
    out[j] = best[static_cast<size_t>(j)].second;
    distance2[j] = best[static_cast<size_t>(j)].first;
  }
}

}  // namespace tchakaloff
