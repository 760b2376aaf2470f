#include <pybind11/pybind11.h>

#include <tchakaloff/types.hpp>

namespace py = pybind11;

namespace tchakaloff::bindings {
void bind_monomials(py::module_& m);
void bind_moments(py::module_& m);
void bind_reduce(py::module_& m);
void bind_compress(py::module_& m);
}  // namespace tchakaloff::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "C++ core of tchakaloff (private: use the tchakaloff package)";
  py::register_exception<tchakaloff::ReductionError>(m, "ReductionError", PyExc_ArithmeticError);
  tchakaloff::bindings::bind_monomials(m);
  tchakaloff::bindings::bind_moments(m);
  tchakaloff::bindings::bind_reduce(m);
  tchakaloff::bindings::bind_compress(m);
#ifdef _OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif
}
