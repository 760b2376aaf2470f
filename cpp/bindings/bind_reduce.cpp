#include "common.hpp"

#include <tchakaloff/caratheodory.hpp>

namespace tchakaloff::bindings {

void bind_reduce(py::module_& m) {
  py::enum_<Basis>(m, "Basis")
      .value("monomial", Basis::monomial)
      .value("chebyshev", Basis::chebyshev);

  py::class_<Reduction>(m, "Reduction")
      .def_property_readonly("indices",
                             [](const Reduction& r) { return py::array(py::cast(r.indices)); })
      .def_property_readonly("weights",
                             [](const Reduction& r) { return py::array(py::cast(r.weights)); })
      .def_readonly("moment_error", &Reduction::moment_error)
      .def_readonly("levels", &Reduction::levels);

  m.def(
      "reduce",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights, Index degree,
         Basis basis) {
        const PointList list = point_list(points, weights);
        ReduceOptions options{basis, false, interrupt_poll()};
        // Safe without the GIL: the core reads only the numpy buffers held by the caller and
        // touches Python only through the poll, which takes the GIL back first.
        py::gil_scoped_release release;
        return reduce(list, degree, options);
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("degree"),
      py::arg("basis") = Basis::chebyshev);
}

}  // namespace tchakaloff::bindings
