// JoinedKey: parts joined with a separator in a buffer on the stack (on the
// heap only past kInline bytes), for looking up a map keyed by the joined
// string through a string_view without allocating on a hit.
//
// Ownership: view() points into this object; keep it alive while the view is
// used. Not thread-safe (a local). No errors.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace switchyard::core {

class JoinedKey {
 public:
  static constexpr size_t kInline = 256;

  JoinedKey(std::initializer_list<std::string_view> parts, char sep) {
    size_t size = parts.size() == 0 ? 0 : parts.size() - 1;
    for (std::string_view p : parts) size += p.size();
    char* out = inline_.data();
    if (size > inline_.size()) {
      heap_.resize(size);
      out = heap_.data();
    }
    char* end = out;
    bool first = true;
    for (std::string_view p : parts) {
      if (!first) *end++ = sep;
      first = false;
      end = std::copy(p.begin(), p.end(), end);
    }
    view_ = std::string_view(out, size);
  }
  JoinedKey(const JoinedKey&) = delete;
  JoinedKey& operator=(const JoinedKey&) = delete;

  std::string_view view() const { return view_; }

 private:
  std::array<char, kInline> inline_;
  std::string heap_;
  std::string_view view_;
};

}  // namespace switchyard::core
