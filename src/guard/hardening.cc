#include "guard/hardening.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace switchyard::guard {

core::Status CheckJsonDepth(std::string_view body, int max_depth) {
  int depth = 0;
  const char* p = body.data();
  const char* const end = p + body.size();
  while (p < end) {
    // Jump to the next byte that matters: a bracket or a quote.
    const char c = *p;
    if (c == '"') {
      ++p;
      while (true) {
        const void* q = std::memchr(p, '"', static_cast<size_t>(end - p));
        if (q == nullptr) return core::Status::Ok();  // unterminated: the parser reports it
        const char* quote = static_cast<const char*>(q);
        // Escaped when preceded by an odd number of backslashes.
        size_t backslashes = 0;
        for (const char* b = quote; b > p && b[-1] == '\\'; --b) ++backslashes;
        p = quote + 1;
        if (backslashes % 2 == 0) break;
      }
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        core::Status s = core::InvalidArgument("JSON nesting deeper than " +
                                               std::to_string(max_depth) + " levels");
        s.set_error_code("json_too_deep");
        return s;
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
    ++p;
  }
  return core::Status::Ok();
}

size_t FirstInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlongs
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlongs
      if (c == 0xF4) hi = 0x8F;  // <= U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
    }
    i += len;
  }
  return n;
}

bool IsValidUtf8(std::string_view s) {
  return FirstInvalidUtf8(s) == s.size();
}

core::Status ValidateUtf8(std::string_view s, std::string_view what) {
  const size_t at = FirstInvalidUtf8(s);
  if (at == s.size()) return core::Status::Ok();
  core::Status st = core::InvalidArgument(std::string(what) + " is not valid UTF-8 (byte " +
                                          std::to_string(at) + ")");
  st.set_error_code("invalid_utf8");
  return st;
}

std::string MaskFindings(std::string_view text, std::span<const Finding> findings, size_t segment) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Finding& f : findings) {
    if (f.segment != segment || f.start < pos || f.end > text.size() || f.start >= f.end) continue;
    out.append(text.substr(pos, f.start - pos));
    out += '[';
    out.append(f.name);
    out += ']';
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string MaskForLog(const PiiScanner& scanner, std::string_view text) {
  auto findings = scanner.ScanText(text);
  if (!findings.ok()) return "[text]";
  return MaskFindings(text, *findings);
}

std::string MaskSecret(std::string_view secret, size_t keep) {
  std::string out;
  if (secret.size() > 8) out.append(secret.substr(0, std::min(keep, secret.size() / 2)));
  out.append("…(");
  out.append(std::to_string(secret.size()));
  out.push_back(')');
  return out;
}

namespace {

// "Bearer <token>" (any case) -> "Bearer [secret]".
std::string MaskBearer(std::string_view text) {
  constexpr std::string_view kBearer = "bearer ";
  std::string out;
  size_t pos = 0;
  for (size_t i = 0; i + kBearer.size() <= text.size(); ++i) {
    bool match = true;
    for (size_t k = 0; k < kBearer.size() && match; ++k) {
      const char c = text[i + k];
      match = (c == ' ' ? kBearer[k] == ' ' : (c | 0x20) == kBearer[k]);
    }
    if (!match) continue;
    size_t j = i + kBearer.size();
    while (j < text.size() && text[j] == ' ') ++j;
    size_t end = j;
    while (end < text.size() &&
           std::string_view(" \"',;)\n\r\t").find(text[end]) == std::string_view::npos) {
      ++end;
    }
    if (end == j) continue;
    out.append(text.substr(pos, j - pos));
    out.append("[secret]");
    pos = end;
    i = end - 1;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace

std::string MaskUpstreamText(std::string_view text, const PiiScanner* scanner) {
  std::string bearer_masked = MaskBearer(text);
  if (scanner == nullptr) return bearer_masked;
  auto findings = scanner->ScanText(bearer_masked);
  if (!findings.ok()) return "[unscannable text]";
  std::erase_if(*findings, [](const Finding& f) {
    return f.type == PiiType::kIpv4 || f.type == PiiType::kIpv6;
  });
  return MaskFindings(bearer_masked, *findings);
}

}  // namespace switchyard::guard
