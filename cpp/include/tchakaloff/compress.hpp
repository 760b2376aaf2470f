#pragma once
// Universal compression (the paper's Algorithm 1): cut the objects into compact cells and
// reduce every cell to at most N = C(m+k, k) of its own objects with the same moments.
// Keeping any d' objects becomes d' / N cells; the error of a smooth symmetric function then
// shrinks like the cells' diameter to the power k + 1.

#include <functional>
#include <tchakaloff/caratheodory.hpp>
#include <tchakaloff/partition.hpp>

namespace tchakaloff {

// How the objects are grouped before reduction.
//   kd:     one shot: size / N balanced k-d cells, each reduced to <= N objects. Fastest.
//   greedy: the paper's theory-faithful scheme, in rounds: every live object proposes the
//           smallest ball holding N + merge live objects; disjoint balls are taken smallest
//           first and each is reduced to N, until `size` objects remain. Each step removes
//           only a few objects from a tiny group, where the error is smallest.
enum class Partition { kd, greedy };

struct CompressOptions {
  Basis basis = Basis::chebyshev;
  bool prefer_central = true;  // see ReduceOptions
  Partition partition = Partition::kd;
  Index merge = 1;  // greedy: objects removed per group (group size N + merge)
  // kd: pivots per cell of at least 2N objects toward the subset whose degree-(k + 1)
  // moments are closest to the cell's (match_next_moments; 0: the reduction's own subset).
  // Greedy does not search (see greedy.cpp).
  Index refine_steps = 16;
  double prepass = 0.0;  // greedy: first cut to prepass * size by kd cells (<= 1: never)
  // Called on the calling thread between batches of cells with (cells done, cells); may throw.
  std::function<void(Index, Index)> progress;
  // Per-column factors of the distances that cut the cells: objects are close when
  // sum_v (metric_v (x_v - y_v))^2 is small; 0 leaves a column out. Empty: 2 / (max - min),
  // each column in units of its bounding box. Moments are matched in every column either way.
  Eigen::VectorXd metric;
  Poll poll;        // called on the calling thread between batches of work; may throw (Ctrl-C)
  int threads = 0;  // this call's threads (0: automatic, see CallThreads)
};

struct Compression {
  std::vector<Index> indices;   // sorted input rows kept
  std::vector<double> weights;  // > 0, total = input total
  std::vector<Index> labels;    // cell of every input row
  Index cells = 0;
  double moment_error = 0.0;  // largest over the cells, relative to each cell's weight
};

// Keep at most `size` objects (size >= N), grouped as options.partition says. With greedy,
// labels give the nearest kept object (in the cells' metric) of every input object.
Compression compress(const PointList& list, Index degree, Index size,
                     const CompressOptions& options = {});

// Reduce each of the given cells on its own, in parallel over cells (the shared step of every
// partition strategy). Fills indices, weights, labels and moment_error.
Compression reduce_cells(const PointList& list, const Cells& cells, Index degree,
                         const CompressOptions& options = {});

}  // namespace tchakaloff
