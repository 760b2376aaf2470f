#include <tchakaloff/caratheodory.hpp>

#include "common.hpp"

namespace tchakaloff::bindings {

using namespace pybind11::literals;

void bind_reduce(py::module_& m) {
  py::enum_<Basis>(m, "Basis", py::module_local())
      .value("monomial", Basis::monomial)
      .value("chebyshev", Basis::chebyshev);

  m.def(
      "reduce",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights, Index degree,
         Basis basis, int threads) {
        const PointList list = point_list(points, weights);
        if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: automatic)");
        ReduceOptions options{basis, false, interrupt_poll(), threads};
        // Safe without the GIL: the core reads only the numpy buffers held by the caller and
        // touches Python only through the poll, which takes the GIL back first.
        Reduction r;
        {
          py::gil_scoped_release release;
          r = reduce(list, degree, options);
        }
        return py::dict("indices"_a = to_numpy(std::move(r.indices)),
                        "weights"_a = to_numpy(std::move(r.weights)),
                        "moment_error"_a = r.moment_error, "levels"_a = r.levels);
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("degree"),
      py::arg("basis") = Basis::chebyshev, py::arg("threads") = 0);
}

}  // namespace tchakaloff::bindings
