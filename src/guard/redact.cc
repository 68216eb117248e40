#include "guard/redact.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/json_writer.h"

namespace switchyard::guard {
namespace {

bool IsLabelChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Length of a placeholder-shaped token `<[A-Z][A-Z0-9_]*_[0-9]+>` at t[i], or 0.
size_t PlaceholderShapeAt(std::string_view t, size_t i, size_t max_len) {
  if (i >= t.size() || t[i] != '<') return 0;
  size_t j = i + 1;
  if (j >= t.size() || !(t[j] >= 'A' && t[j] <= 'Z')) return 0;
  while (j < t.size() && j - i < max_len && IsLabelChar(t[j])) ++j;
  if (j >= t.size() || t[j] != '>') return 0;
  // Ends in _<digits>.
  size_t k = j;
  while (k > i + 1 && t[k - 1] >= '0' && t[k - 1] <= '9') --k;
  if (k == j || t[k - 1] != '_') return 0;
  return j + 1 - i;
}

constexpr size_t kMaxShape = 64;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

const std::string& RedactionMap::PlaceholderFor(std::string_view label, std::string_view original) {
  std::string key;
  key.reserve(label.size() + 1 + original.size());
  key.append(label).push_back('\0');
  key.append(original);
  if (auto it = by_value_.find(key); it != by_value_.end()) return it->second;
  size_t& last = next_[std::string(label)];
  std::string placeholder;
  do {
    ++last;
    placeholder = "<" + std::string(label) + "_" + std::to_string(last) + ">";
  } while (reserved_.count(placeholder) != 0 || by_placeholder_.count(placeholder) != 0);
  max_length_ = std::max(max_length_, placeholder.size());
  by_placeholder_.emplace(placeholder, std::string(original));
  return by_value_.emplace(std::move(key), std::move(placeholder)).first->second;
}

const std::string* RedactionMap::OriginalFor(std::string_view placeholder) const {
  auto it = by_placeholder_.find(placeholder);
  return it == by_placeholder_.end() ? nullptr : &it->second;
}

void RedactionMap::ReserveLiterals(std::string_view text) {
  for (size_t i = text.find('<'); i != std::string_view::npos; i = text.find('<', i + 1)) {
    if (const size_t n = PlaceholderShapeAt(text, i, kMaxShape); n != 0) {
      reserved_.emplace(text.substr(i, n));
    }
  }
}

bool RedactionMap::IsPlaceholderPrefix(std::string_view s) const {
  if (s.empty() || s.size() >= max_length_) return false;
  auto it = by_placeholder_.lower_bound(s);
  return it != by_placeholder_.end() && it->first.size() > s.size() &&
         std::string_view(it->first).substr(0, s.size()) == s;
}

std::string PlaceholderLabel(const Finding& finding) {
  std::string label(finding.name);
  for (char& c : label) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return label;
}

std::string Redact(std::string_view text, std::span<const Finding> findings, RedactionMap& map,
                   size_t segment) {
  map.ReserveLiterals(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Finding& f : findings) {
    if (f.segment != segment || f.start < pos || f.end > text.size() || f.start >= f.end) continue;
    out.append(text.substr(pos, f.start - pos));
    out.append(map.PlaceholderFor(PlaceholderLabel(f), f.Reveal(text)));
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::vector<std::string> RedactTexts(std::span<const std::string_view> texts,
                                     std::span<const Finding> findings, RedactionMap& map) {
  for (std::string_view t : texts) map.ReserveLiterals(t);
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) out.push_back(Redact(texts[i], findings, map, i));
  return out;
}

std::string Restore(std::string_view text, const RedactionMap& map) {
  if (map.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  const size_t window = map.max_placeholder_length();
  for (size_t i = text.find('<'); i != std::string_view::npos; i = text.find('<', i + 1)) {
    // Only as far as the longest placeholder: linear in the text, whatever
    // the number of unmatched '<'.
    const size_t close = text.substr(i, window).find('>');
    if (close == std::string_view::npos) continue;
    if (const std::string* original = map.OriginalFor(text.substr(i, close + 1))) {
      out.append(text.substr(pos, i - pos));
      out.append(*original);
      pos = i + close + 1;
      i += close;
    }
  }
  out.append(text.substr(pos));
  return out;
}

std::string StreamRestorer::Push(std::string_view delta) {
  pending_.append(delta);
  size_t hold_from = pending_.size();
  const size_t lt = pending_.rfind('<');
  if (lt != std::string::npos && pending_.find('>', lt) == std::string::npos &&
      map_.IsPlaceholderPrefix(std::string_view(pending_).substr(lt))) {
    hold_from = lt;
  }
  std::string out = Restore(std::string_view(pending_).substr(0, hold_from), map_);
  pending_.erase(0, hold_from);
  return out;
}

std::string StreamRestorer::Finish() {
  std::string out = Restore(pending_, map_);
  pending_.clear();
  return out;
}

core::Result<std::string> DecodeJsonString(std::string_view literal) {
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') {
    return core::InvalidArgument("invalid JSON string: missing quotes");
  }
  std::string out;
  out.reserve(literal.size());
  const size_t end = literal.size() - 1;
  auto bad = [](std::string_view what, size_t at) {
    return core::InvalidArgument("invalid JSON string: " + std::string(what) + " at byte " +
                                 std::to_string(at));
  };
  auto read_hex4 = [&](size_t at, uint32_t& v) {
    if (at + 4 > end) return false;
    v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int h = HexValue(literal[at + k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    return true;
  };
  for (size_t i = 1; i < end; ++i) {
    const char c = literal[i];
    if (static_cast<unsigned char>(c) < 0x20) return bad("unescaped control character", i);
    if (c == '"') return bad("unescaped quote", i);
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= end) return bad("bad escape", i);
    const char e = literal[++i];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        const size_t at = i - 1;
        uint32_t cp = 0;
        if (!read_hex4(i + 1, cp)) return bad("bad escape", at);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo = 0;
          if (i + 2 < end && literal[i + 1] == '\\' && literal[i + 2] == 'u' &&
              read_hex4(i + 3, lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            return bad("lone surrogate", at);
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return bad("lone surrogate", at);
        }
        AppendUtf8(out, cp);
        break;
      }
      default:
        return bad("bad escape", i - 1);
    }
  }
  return out;
}

std::string EncodeJsonString(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  core::AppendJsonString(out, value);
  return out;
}

core::Result<std::string> RedactJsonString(std::string_view literal, const PiiScanner& scanner,
                                           RedactionMap& map, std::vector<Finding>* findings_out) {
  auto value = DecodeJsonString(literal);
  if (!value.ok()) return value.take_status();
  auto findings = scanner.ScanText(*value);
  if (!findings.ok()) return findings.take_status();
  std::string redacted = Redact(*value, *findings, map);
  if (findings_out != nullptr) *findings_out = std::move(*findings);
  return EncodeJsonString(redacted);
}

core::Result<std::string> RestoreJsonString(std::string_view literal, const RedactionMap& map) {
  auto value = DecodeJsonString(literal);
  if (!value.ok()) return value.take_status();
  return EncodeJsonString(Restore(*value, map));
}

std::string RedactKnown(std::string_view text, const RedactionMap& map) {
  if (map.empty()) return std::string(text);
  std::vector<std::pair<std::string_view, std::string_view>> pairs;  // original, placeholder
  pairs.reserve(map.size());
  for (const auto& [placeholder, original] : map.entries()) {
    if (!original.empty()) pairs.emplace_back(original, placeholder);
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string out(text);
  for (const auto& [original, placeholder] : pairs) {
    for (size_t at = out.find(original); at != std::string::npos;
         at = out.find(original, at + placeholder.size())) {
      out.replace(at, original.size(), placeholder);
    }
  }
  return out;
}

core::Result<std::string> RewriteJsonStrings(std::string_view json, const JsonStringRewriter& fn) {
  struct Frame {
    bool array = false;
    size_t index = 0;     // arrays: position of the current element
    std::string key;      // objects: the current key
    size_t path_len = 0;  // length of `path` before this container's segment
  };
  std::vector<Frame> stack;
  std::string path;  // the path of the innermost open container
  std::string out;
  size_t copied = 0;  // json[0, copied) is in `out` already
  bool expect_key = false;
  auto bad = [](std::string_view what, size_t at) {
    return core::InvalidArgument("invalid JSON: " + std::string(what) + " at byte " +
                                 std::to_string(at));
  };
  // The path of the value that starts now in the innermost container.
  auto value_path = [&]() {
    std::string p = path;
    if (stack.empty()) return p;
    p.push_back('/');
    if (stack.back().array) {
      p.append(std::to_string(stack.back().index));
    } else {
      p.append(stack.back().key);
    }
    return p;
  };
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    switch (c) {
      case '{':
      case '[': {
        Frame f;
        f.array = c == '[';
        f.path_len = path.size();
        std::string p = value_path();
        path = std::move(p);
        stack.push_back(std::move(f));
        expect_key = c == '{';
        ++i;
        break;
      }
      case '}':
      case ']':
        if (stack.empty() || stack.back().array != (c == ']')) return bad("unbalanced brackets", i);
        path.resize(stack.back().path_len);
        stack.pop_back();
        expect_key = false;
        ++i;
        break;
      case ',':
        if (!stack.empty()) {
          if (stack.back().array) {
            ++stack.back().index;
          } else {
            expect_key = true;
          }
        }
        ++i;
        break;
      case ':':
        expect_key = false;
        ++i;
        break;
      case '"': {
        size_t end = i + 1;
        bool escaped = false;
        while (end < json.size() && json[end] != '"') {
          if (json[end] == '\\') {
            escaped = true;
            ++end;
          }
          ++end;
        }
        if (end >= json.size()) return bad("unterminated string", i);
        const std::string_view literal = json.substr(i, end + 1 - i);
        std::string decoded_storage;
        std::string_view value = literal.substr(1, literal.size() - 2);
        if (escaped) {
          auto decoded = DecodeJsonString(literal);
          if (!decoded.ok()) return decoded.take_status();
          decoded_storage = std::move(*decoded);
          value = decoded_storage;
        }
        const bool is_key = expect_key && !stack.empty() && !stack.back().array;
        std::optional<std::string> replaced = fn(is_key ? path : value_path(), value, is_key);
        if (is_key) stack.back().key.assign(value);
        if (replaced) {
          out.append(json.substr(copied, i - copied));
          core::AppendJsonString(out, *replaced);
          copied = end + 1;
        }
        i = end + 1;
        break;
      }
      default:
        ++i;
    }
  }
  if (!stack.empty()) return bad("unbalanced brackets", json.size());
  if (copied == 0) return std::string(json);
  out.append(json.substr(copied));
  return out;
}

}  // namespace switchyard::guard
