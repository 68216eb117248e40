// ASCII character classes and trimming that do not depend on the C locale
// (std::isspace and friends do, and take int).
#pragma once

#include <string_view>

namespace switchyard::core {

// ' ', \t, \n, \v, \f, \r: what std::isspace accepts in the "C" locale.
inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

inline bool IsAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}

// `s` without leading and trailing IsAsciiSpace characters.
inline std::string_view TrimAsciiSpace(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace switchyard::core
