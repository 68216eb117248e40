#include "core/json_writer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace switchyard::core {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ == 0) return;
  const size_t level = depth_ - 1;
  if (level < kShallow) {
    const uint64_t bit = uint64_t{1} << level;
    if ((shallow_ & bit) != 0) out_.push_back(',');
    shallow_ |= bit;
  } else {
    if (deep_[level - kShallow]) out_.push_back(',');
    deep_[level - kShallow] = true;
  }
}

void JsonWriter::Open() {
  if (depth_ < kShallow) {
    shallow_ &= ~(uint64_t{1} << depth_);
  } else {
    deep_.push_back(false);
  }
  ++depth_;
}

void JsonWriter::Close() {
  if (depth_ == 0) return;  // unbalanced: the caller's error; keep the state sane
  --depth_;
  if (depth_ >= kShallow) deep_.pop_back();
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_.push_back('{');
  Open();
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  Close();
  return *this;
}
JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_.push_back('[');
  Open();
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  Close();
  return *this;
}
JsonWriter& JsonWriter::Key(std::string_view k) {
  Separate();
  AppendJsonString(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}
JsonWriter& JsonWriter::String(std::string_view v) {
  Separate();
  AppendJsonString(out_, v);
  return *this;
}
JsonWriter& JsonWriter::Int(int64_t v) {
  Separate();
  out_.append(std::to_string(v));
  return *this;
}
JsonWriter& JsonWriter::Double(double v) {
  Separate();
  if (!std::isfinite(v)) {
    out_.append("null");
    return *this;
  }
  // Whole numbers that a double holds exactly print as integers (200, not 2e+02).
  if (std::fabs(v) < 9007199254740992.0 && v == std::trunc(v)) {
    out_.append(std::to_string(static_cast<int64_t>(v)));
    return *this;
  }
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  // Prefer the shortest representation that round-trips.
  for (int prec = 1; prec <= 17; ++prec) {
    char shortbuf[32];
    const int m = std::snprintf(shortbuf, sizeof(shortbuf), "%.*g", prec, v);
    if (std::strtod(shortbuf, nullptr) == v) {
      out_.append(shortbuf, static_cast<size_t>(m));
      return *this;
    }
  }
  out_.append(buf, static_cast<size_t>(n));
  return *this;
}
JsonWriter& JsonWriter::Bool(bool v) {
  Separate();
  out_.append(v ? "true" : "false");
  return *this;
}
JsonWriter& JsonWriter::Null() {
  Separate();
  out_.append("null");
  return *this;
}
JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_.append(json);
  return *this;
}

}  // namespace switchyard::core
