#pragma once
// Greedy compression: many small merges, smallest groups first (the scheme the paper's error
// bounds are proved for). In rounds: every live object proposes the smallest ball holding
// N + merge live objects; disjoint balls are taken smallest first and each is reduced to N
// (reduce_cells, the balls its cells), until `size` objects remain.

#include <tchakaloff/compress.hpp>

namespace tchakaloff {

// The greedy rounds alone (compress dispatches here, with the frame of the cells' metric).
// Labels give the nearest kept object of every input object, in that frame.
Compression greedy_compress(const PointList& list, const Frame& frame, Index degree, Index size,
                            const CompressOptions& options);

}  // namespace tchakaloff
