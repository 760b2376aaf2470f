#pragma once
// Universal compression (the paper's Algorithm 1): cut the objects into compact cells and
// reduce every cell to at most N = C(m+k, k) of its own objects with the same moments.
// Keeping any d' objects becomes d' / N cells; the error of a smooth symmetric function then
// shrinks like the cells' diameter to the power k + 1.

#include <tchakaloff/caratheodory.hpp>
#include <tchakaloff/partition.hpp>

#include <functional>

namespace tchakaloff {

struct CompressOptions {
  Basis basis = Basis::chebyshev;
  bool prefer_central = true;  // see ReduceOptions
  // Called on the calling thread between batches of cells with (cells done, cells); may throw.
  std::function<void(Index, Index)> progress;
};

struct Compression {
  std::vector<Index> indices;   // sorted input rows kept
  std::vector<double> weights;  // > 0, total = input total
  std::vector<Index> labels;    // cell of every input row
  Index cells = 0;
  double moment_error = 0.0;    // largest over the cells, relative to each cell's weight
};

// Keep at most `size` objects (size >= N): `size / N` balanced k-d cells, each reduced.
Compression compress(const PointList& list, Index degree, Index size,
                     const CompressOptions& options = {});

// Reduce each of the given cells on its own, in parallel over cells (the shared step of every
// partition strategy). Fills indices, weights, labels and moment_error.
Compression reduce_cells(const PointList& list, const Cells& cells, Index degree,
                         const CompressOptions& options = {});

}  // namespace tchakaloff
