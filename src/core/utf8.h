// UTF-8 helpers for text that is cut to a byte budget (stored excerpts,
// messages): never inside a multi-byte character.
#pragma once

#include <cstddef>
#include <string_view>

namespace switchyard::core {

// `text` cut to at most `max_bytes`, backed up to the start of a UTF-8
// character; `text` itself when it fits. No validation of the bytes.
inline std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

}  // namespace switchyard::core
