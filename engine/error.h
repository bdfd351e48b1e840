#pragma once
// Library code throws preimage::Error; tools catch it, print what() and exit non-zero (design decision 6).
#include <sstream>
#include <stdexcept>
#include <string>

namespace preimage {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <typename T, typename... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Builds a message from any streamable pieces: PI_FAIL("conv2d: weight has ", n, " channels").
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  throw Error(os.str());
}

}  // namespace preimage

#define PI_CHECK(cond, ...)                  \
  do {                                       \
    if (!(cond)) ::preimage::fail(__VA_ARGS__); \
  } while (0)
