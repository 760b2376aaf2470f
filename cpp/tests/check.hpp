#pragma once
// A minimal test harness: CHECK-style macros that count failures and print file:line, and a
// runner that turns an escaped exception into a failure. main() returns check::finish().

#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

namespace check {

inline int& failures() {
  static int count = 0;
  return count;
}
inline int& checks() {
  static int count = 0;
  return count;
}

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}

// Runs one test function; an exception that escapes it is a failure.
template <class F>
void run(const char* name, F&& test) {
  const int before = failures();
  try {
    test();
  } catch (const std::exception& e) {
    ++failures();
    std::fprintf(stderr, "%s: FAILED: unexpected exception: %s\n", name, e.what());
  } catch (...) {
    ++failures();
    std::fprintf(stderr, "%s: FAILED: unexpected non-standard exception\n", name);
  }
  std::printf("[%s] %s\n", failures() == before ? "ok  " : "FAIL", name);
}

inline std::string show(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

inline int finish(const char* suite) {
  std::printf("%s: %d checks, %d failures\n", suite, checks(), failures());
  return failures() == 0 ? 0 : 1;
}

// Whether `call` throws an E whose what() holds `needle` and at least `shortest` characters;
// `got` says what it threw (or that it threw nothing).
template <class E, class F>
bool throws(F&& call, const std::string& needle, size_t shortest, std::string& got) {
  got = "no exception";
  try {
    call();
  } catch (const E& e) {
    const std::string message = e.what();
    got = message.size() < shortest ? "message too short: " + message : message;
    return message.size() >= shortest && message.find(needle) != std::string::npos;
  } catch (const std::exception& e) {
    got = std::string("other exception: ") + e.what();
  } catch (...) {
    got = "non-standard exception";
  }
  return false;
}

}  // namespace check

#define CHECK(cond)                                                     \
  do {                                                                  \
    ++::check::checks();                                                \
    if (!(cond)) ::check::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

// |a - b| <= tol, printing both values on failure.
#define CHECK_NEAR(a, b, tol)                                                                     \
  do {                                                                                            \
    ++::check::checks();                                                                          \
    const double check_a_ = static_cast<double>(a), check_b_ = static_cast<double>(b);            \
    const double check_t_ = static_cast<double>(tol);                                             \
    if (!(std::fabs(check_a_ - check_b_) <= check_t_))                                            \
      ::check::fail(__FILE__, __LINE__,                                                           \
                    "CHECK_NEAR(" #a ", " #b ", " #tol "): " + ::check::show(check_a_) + " vs " + \
                        ::check::show(check_b_) + ", diff " +                                     \
                        ::check::show(std::fabs(check_a_ - check_b_)) + " > " +                   \
                        ::check::show(check_t_));                                                 \
  } while (0)

// `expr` throws `type` (exactly that type or a subclass), and its what() is not empty.
#define CHECK_THROWS(expr, type)                                                              \
  do {                                                                                        \
    ++::check::checks();                                                                      \
    std::string check_got_;                                                                   \
    if (!::check::throws<type>([&] { (void)(expr); }, "", 11, check_got_))                    \
      ::check::fail(__FILE__, __LINE__, "CHECK_THROWS(" #expr ", " #type "): " + check_got_); \
  } while (0)

// `expr` throws `type` and its message contains `needle`.
#define CHECK_THROWS_WITH(expr, type, needle)                                               \
  do {                                                                                      \
    ++::check::checks();                                                                    \
    std::string check_got_;                                                                 \
    if (!::check::throws<type>([&] { (void)(expr); }, needle, 0, check_got_))               \
      ::check::fail(__FILE__, __LINE__,                                                     \
                    "CHECK_THROWS_WITH(" #expr ", " #type ", " #needle "): " + check_got_); \
  } while (0)

#define CHECK_NOTHROW(expr)                                                                    \
  do {                                                                                         \
    ++::check::checks();                                                                       \
    try {                                                                                      \
      (void)(expr);                                                                            \
    } catch (const std::exception& e) {                                                        \
      ::check::fail(__FILE__, __LINE__, std::string("CHECK_NOTHROW(" #expr "): ") + e.what()); \
    } catch (...) {                                                                            \
      ::check::fail(__FILE__, __LINE__, "CHECK_NOTHROW(" #expr "): non-standard exception");   \
    }                                                                                          \
  } while (0)
