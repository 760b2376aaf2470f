#include "common.hpp"

namespace tchakaloff::bindings {

void bind_moments(py::module_& m) {
  m.def(
      "moments",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights, Index degree) {
        const PointList list = point_list(points, weights);
        // Safe without the GIL: the kernel reads only the two numpy buffers, which the
        // caller's references keep alive, and writes only its own result.
        py::gil_scoped_release release;
        return raw_moments(list, degree, interrupt_poll());
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("degree"));
}

}  // namespace tchakaloff::bindings
