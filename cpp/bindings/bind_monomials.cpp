#include <tchakaloff/monomials.hpp>

#include "common.hpp"

namespace tchakaloff::bindings {

void bind_monomials(py::module_& m) {
  m.def("n_moments", &n_moments, py::arg("dim"), py::arg("degree"));
  m.def("auto_degree", &auto_degree, py::arg("dim"), py::arg("size"));
  m.def(
      "exponents",
      [](Index dim, Index degree) {
        const MonomialTable table(dim, degree);
        py::array_t<std::int64_t> out({table.size(), dim});
        auto view = out.mutable_unchecked<2>();
        for (Index j = 0; j < table.size(); ++j)
          for (Index v = 0; v < dim; ++v)
            view(j, v) = table.exponents()[static_cast<size_t>(j * dim + v)];
        return out;
      },
      py::arg("dim"), py::arg("degree"));
}

}  // namespace tchakaloff::bindings
