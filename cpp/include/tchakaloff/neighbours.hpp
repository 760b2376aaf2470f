#pragma once
// Nearest neighbours in a fixed set of points: a static k-d tree (median splits of the widest
// coordinate, small leaves scanned directly). The greedy compression asks, for every live
// object, for the smallest ball that holds N + 1 of them.

#include <limits>
#include <tchakaloff/types.hpp>
#include <vector>

namespace tchakaloff {

class NeighbourTree {
 public:
  // `points`: n rows of `dim` coordinates, row-major (copied).
  NeighbourTree(const double* points, Index n, Index dim);

  // The `count` points nearest to `query`, nearest first, ties by index: their indices into
  // `out` and squared distances into `distance2`. With `position`, point i is reported as
  // position[i] and skipped where that is negative (points removed since the tree was
  // built; positions must keep the points' order, and count <= the points not skipped).
  void nearest(const double* query, Index count, Index* out, double* distance2,
               const Index* position = nullptr) const;

  Index size() const { return n_; }

 private:
  struct Node {
    Index begin, end;  // points order_[begin, end)
    Index left = -1, right = -1;
    Index axis = 0;
    double split = 0.0;
  };
  struct Search {
    // The best `count` so far: in arrival order until there are `count` of them, then
    // sorted for a few tens (an insertion beats a heap there), else a heap, worst on top.
    std::vector<std::pair<double, Index>> best;
    bool sorted = true;
    const std::pair<double, Index>& worst() const { return sorted ? best.back() : best.front(); }
    double bound = std::numeric_limits<double>::infinity();  // worst distance once full
    std::vector<double> gap2;  // per axis: squared gap to the current box
    const Index* position = nullptr;
  };
  Index build(const double* points, Index begin, Index end);
  // p in tree order; M > 0: the dimension, known at compile time (the loop unrolled).
  template <int M = 0>
  double squared_distance(Index p, const double* query) const {
    const Index dim = M > 0 ? M : dim_;
    const double* x = coordinates_.data() + p * dim;
    double d2 = 0.0;
    for (Index v = 0; v < dim; ++v) d2 += (x[v] - query[v]) * (x[v] - query[v]);
    return d2;
  }
  Index reported(Index p, const Index* position) const {  // what nearest() returns for p
    const Index point = order_[static_cast<size_t>(p)];
    return position ? position[point] : point;
  }
  template <int M>
  void search(Index node, const double* query, Index count, Search& state, double box2) const;

  Index n_, dim_;
  std::vector<Index> order_;         // tree order -> input row
  std::vector<double> coordinates_;  // the points in tree order
  std::vector<Node> nodes_;
};

}  // namespace tchakaloff
