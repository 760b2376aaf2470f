#include <tchakaloff/neighbours.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace tchakaloff {

namespace {
constexpr Index kLeafSize = 12;
}

NeighbourTree::NeighbourTree(const double* points, Index n, Index dim)
    : points_(points), n_(n), dim_(dim), order_(static_cast<size_t>(n)) {
  if (n < 1 || dim < 1) throw std::invalid_argument("a neighbour tree needs points");
  std::iota(order_.begin(), order_.end(), Index{0});
  nodes_.reserve(static_cast<size_t>(2 * (n / kLeafSize + 1)));
  build(0, n);
}

Index NeighbourTree::build(Index begin, Index end) {
  const Index id = static_cast<Index>(nodes_.size());
  nodes_.push_back(Node{begin, end});
  if (end - begin <= kLeafSize) return id;
  Index axis = 0;
  double widest = -1.0;
  for (Index v = 0; v < dim_; ++v) {
    double lo = points_[order_[static_cast<size_t>(begin)] * dim_ + v], hi = lo;
    for (Index p = begin + 1; p < end; ++p) {
      const double x = points_[order_[static_cast<size_t>(p)] * dim_ + v];
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
                     const double xa = points_[a * dim_ + axis], xb = points_[b * dim_ + axis];
                     return xa < xb || (xa == xb && a < b);
                   });
  const double split = points_[order_[static_cast<size_t>(middle)] * dim_ + axis];
  const Index left = build(begin, middle);
  const Index right = build(middle, end);
  Node& node = nodes_[static_cast<size_t>(id)];
  node.left = left;
  node.right = right;
  node.axis = axis;
  node.split = split;
  return id;
}

void NeighbourTree::search(Index id, const double* query, Index count,
                           std::vector<std::pair<double, Index>>& heap) const {
  const Node& node = nodes_[static_cast<size_t>(id)];
  if (node.left < 0) {
    for (Index p = node.begin; p < node.end; ++p) {
      const Index i = order_[static_cast<size_t>(p)];
      const double* x = points_ + i * dim_;
      double d2 = 0.0;
      for (Index v = 0; v < dim_; ++v) d2 += (x[v] - query[v]) * (x[v] - query[v]);
      const std::pair<double, Index> candidate{d2, i};
      if (static_cast<Index>(heap.size()) < count) {
        heap.push_back(candidate);
        std::push_heap(heap.begin(), heap.end());
      } else if (candidate < heap.front()) {
        std::pop_heap(heap.begin(), heap.end());
        heap.back() = candidate;
        std::push_heap(heap.begin(), heap.end());
      }
    }
    return;
  }
  const double gap = query[node.axis] - node.split;
  const Index near = gap < 0 ? node.left : node.right, far = gap < 0 ? node.right : node.left;
  search(near, query, count, heap);
  // <= keeps ties on the splitting plane, so the answer does not depend on the tree's shape.
  if (static_cast<Index>(heap.size()) < count || gap * gap <= heap.front().first)
    search(far, query, count, heap);
}

void NeighbourTree::nearest(const double* query, Index count, Index* out,
                            double* distance2) const {
  if (count < 1 || count > n_) throw std::invalid_argument("neighbour count out of range");
  std::vector<std::pair<double, Index>> heap;
  heap.reserve(static_cast<size_t>(count));
  search(0, query, count, heap);
  std::sort_heap(heap.begin(), heap.end());
  for (Index j = 0; j < count; ++j) {
    out[j] = heap[static_cast<size_t>(j)].second;
    distance2[j] = heap[static_cast<size_t>(j)].first;
  }
}

}  // namespace tchakaloff
