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

// The defaults below are the product's: the Python API sets only what its caller chose.
struct CompressOptions {
  Basis basis = Basis::chebyshev;
  bool prefer_central = false;  // see ReduceOptions
  Partition partition = Partition::kd;
  Index merge = 0;        // greedy: objects removed per group (group N + merge); 0: greedy_merge
  double prepass = -1.0;  // greedy: first cut to prepass * size by k-d cells (<= 1: never;
                          // < 0: greedy_prepass of the columns cut along)
  // kd: pivots per cell of 2N objects or more (up to 2^22 / (N + M) of them, M the moments
  // of degree k + 1) toward the subset whose degree-(k + 1) moments are closest to the
  // cell's (match_next_moments; 0: the reduction's own subset). Greedy does not search
  // (see greedy.cpp).
  Index refine_steps = 16;
  // Called on the calling thread between batches of cells with (cells done, cells); may throw.
  std::function<void(Index, Index)> progress;
  // Per-column factors of the distances that cut the cells: objects are close when
  // sum_v (metric_v (x_v - y_v))^2 is small; 0 leaves a column out. Empty: 2 / (max - min),
  // each column in units of its bounding box. Moments are matched in every column either way.
  Eigen::VectorXd metric;
  Poll poll;        // called on the calling thread between batches of work; may throw (Ctrl-C)
  int threads = 0;  // this call's threads (0: automatic, see CallThreads)
};

// greedy's automatic settings. Groups of N + N / 8 objects: fewer rounds than merging one at a
// time, each merge still small. The k-d pass cuts to F * size objects; its cells hold about 1/F
// the volume of the last rounds' balls (in the `cut_dims` columns they are cut along), so their
// Taylor remainder (~ diameter^(k+1) per unit weight) is F^((k+1)/m) times smaller. F makes that
// kPrepassGain, so the pass costs little accuracy, but at most kPrepassMax: where 16 needs more
// (high m, low k), running the rounds from further away doubles their time for an error within
// the trials' spread.
constexpr double kPrepassGain = 16.0;
constexpr double kPrepassMax = 4.0;
Index greedy_merge(Index n_moments);
double greedy_prepass(Index cut_dims, Index degree);

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
