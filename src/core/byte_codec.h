// Byte codec: the pieces of the compact binary encodings the stores write
// (the ledger's records, the egress audit's chunks). Writers put through a
// raw pointer into space reserved up front (an append per byte was most of
// an encoder's cost); ByteReader reads a range and says false on anything
// truncated or malformed, never reading past the end.
//
// Integers: "varint" = LEB128 (at most kMaxVarint bytes); signed ones zigzag;
// fixed-width ones little-endian. Texts: varint length, then the bytes.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace switchyard::core {

inline constexpr size_t kMaxVarint = 10;

template <typename T>
T ByteSwap(T v) {
  T out = 0;
  for (size_t i = 0; i < sizeof v; ++i) out = static_cast<T>((out << 8) | ((v >> (8 * i)) & 0xff));
  return out;
}

inline char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

inline char* PutSigned(char* p, int64_t v) {
  return PutVarint(p, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// Needs kMaxVarint + s.size() bytes.
inline char* PutText(char* p, std::string_view s) {
  p = PutVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

template <typename T>
char* PutFixed(char* p, T v) {
  if constexpr (std::endian::native != std::endian::little) v = ByteSwap(v);
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

// Reads from a byte range. Each method returns false when the range ends
// too soon or the value is malformed (what was read before stays consumed).
// Views point into the range given to the constructor.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  bool Byte(unsigned char& out) {
    if (p_ == end_) return false;
    out = static_cast<unsigned char>(*p_++);
    return true;
  }
  bool Varint(uint64_t& out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char b = 0;
      if (!Byte(b)) return false;
      // The tenth byte holds bit 63 alone: anything more is not a 64-bit value.
      if (shift == 63 && b > 1) return false;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        out = v;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }
  bool Signed(int64_t& out) {
    uint64_t v = 0;
    if (!Varint(v)) return false;
    out = static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
    return true;
  }
  bool Int(int& out) {
    int64_t v = 0;
    if (!Signed(v) || v < INT32_MIN || v > INT32_MAX) return false;
    out = static_cast<int>(v);
    return true;
  }
  bool Text(std::string_view& out) {
    uint64_t n = 0;
    if (!Varint(n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    out = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  bool Text(std::string& out) {
    std::string_view s;
    if (!Text(s)) return false;
    out.assign(s);
    return true;
  }
  // The next n bytes as they are.
  bool Bytes(size_t n, std::string_view& out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  template <typename T>
  bool Fixed(T& out) {
    if (end_ - p_ < static_cast<ptrdiff_t>(sizeof out)) return false;
    std::memcpy(&out, p_, sizeof out);
    if constexpr (std::endian::native != std::endian::little) out = ByteSwap(out);
    p_ += sizeof out;
    return true;
  }
  bool Double(double& out) {
    uint64_t bits = 0;
    if (!Fixed(bits)) return false;
    out = std::bit_cast<double>(bits);
    return true;
  }
  bool AtEnd() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace switchyard::core
