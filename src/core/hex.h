// Lowercase hexadecimal, as the stores keep digests and hashes: encode bytes,
// decode and check digits. Only lowercase digits count as hex here (the forms
// written are lowercase; another spelling of the same bytes is refused, not
// folded).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::core {

inline constexpr char kLowerHexDigits[] = "0123456789abcdef";

// The value of each lowercase hex digit; -1 for every other byte.
inline constexpr std::array<int8_t, 256> kLowerHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'a' + 10);
  return t;
}();

// Whether every byte of `s` is a lowercase hex digit. No branch per byte:
// digests are checked on the request path.
inline bool IsLowerHex(std::string_view s) {
  int8_t bad = 0;
  for (char c : s) bad = static_cast<int8_t>(bad | kLowerHexValue[static_cast<unsigned char>(c)]);
  return bad >= 0;
}

// Replaces `out` with the lowercase hex of `bytes` (2 digits a byte).
inline void HexEncode(std::string_view bytes, std::string& out) {
  out.resize(2 * bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kLowerHexDigits[b >> 4];
    out[2 * i + 1] = kLowerHexDigits[b & 0xF];
  }
}

// Writes the hex.size() / 2 bytes `hex` spells to `out`; false (with `out`
// partly written) when hex has an odd length or a byte that is not a
// lowercase hex digit.
inline bool HexDecode(std::string_view hex, char* out) {
  if (hex.size() % 2 != 0) return false;
  int8_t bad = 0;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int8_t hi = kLowerHexValue[static_cast<unsigned char>(hex[i])];
    const int8_t lo = kLowerHexValue[static_cast<unsigned char>(hex[i + 1])];
    bad = static_cast<int8_t>(bad | hi | lo);
    *out++ = static_cast<char>((hi & 0xF) << 4 | (lo & 0xF));
  }
  return bad >= 0;
}

}  // namespace switchyard::core
