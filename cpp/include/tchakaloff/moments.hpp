#pragma once
// Moment accumulation: weighted sums of the basis functions over groups of points. This is
// the O(n N) pass every reduction level makes; it is parallel over groups, and each group is
// summed by one thread in a fixed order, so results are bit-identical for any thread count.

#include <functional>
#include <tchakaloff/frame.hpp>
#include <tchakaloff/monomials.hpp>
#include <vector>

namespace tchakaloff {

// Row g = sum over list positions offsets[g] .. offsets[g+1]-1 of weight * basis(frame(x)).
// Column 0 (the constant) is the group's total weight.
RowMatrixXd group_sums(const PointList& list, const std::vector<Index>& offsets,
                       const MonomialTable& table, Basis basis, const Frame& frame,
                       const Poll& poll = {});

// Raw moments sum_i w_i x_i^alpha in the order of MonomialTable::exponents.
Eigen::VectorXd raw_moments(const PointList& list, Index degree, const Poll& poll = {});

// `groups` nearly equal contiguous ranges of [0, size): offsets of length groups + 1.
std::vector<Index> equal_split(Index size, Index groups);

// Throws std::invalid_argument unless the list is non-empty, every weight is finite and >= 0
// with a positive total, and (if `points_too`) every coordinate is finite.
void check_input(const PointList& list, bool points_too);

}  // namespace tchakaloff
