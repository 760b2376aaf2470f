#include <tchakaloff/caratheodory.hpp>

#include "common.hpp"

namespace tchakaloff::bindings {

void bind_reduce(py::module_& m) {
  // Local registrations: both builds of the module may be loaded in one process.
  py::enum_<Basis>(m, "Basis", py::module_local())
      .value("monomial", Basis::monomial)
      .value("chebyshev", Basis::chebyshev);

  // The defaults are the core's (caratheodory.hpp); Python sets what its caller chose.
  py::class_<ReduceOptions>(m, "ReduceOptions", py::module_local())
      .def(py::init<>())
      .def_readwrite("basis", &ReduceOptions::basis)
      .def_readwrite("prefer_central", &ReduceOptions::prefer_central)
      .def_readwrite("threads", &ReduceOptions::threads);

  py::class_<Reduction>(m, "Reduction", py::module_local())
      .def_property_readonly("indices", view_of(&Reduction::indices))
      .def_property_readonly("weights", view_of(&Reduction::weights))
      .def_readonly("moment_error", &Reduction::moment_error)
      .def_readonly("levels", &Reduction::levels);

  m.def(
      "reduce",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights, Index degree,
         ReduceOptions options) {
        const PointList list = point_list(points, weights);
        options.poll = interrupt_poll();
        // Safe without the GIL: the core reads only the numpy buffers held by the caller and
        // touches Python only through the poll, which takes the GIL back first.
        py::gil_scoped_release release;
        return reduce(list, degree, options);
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("degree"),
      py::arg("options") = ReduceOptions());
}

}  // namespace tchakaloff::bindings
