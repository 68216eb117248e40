// Front-door helpers: cheap checks on raw request bytes before parsing, and
// masking for anything that may reach a log or an error message.
//
// Pure functions, thread-safe, no allocation except for the returned strings.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "guard/pii.h"

namespace switchyard::guard {

inline constexpr int kDefaultMaxJsonDepth = 64;

// Nesting depth of arrays and objects in raw JSON bytes (brackets inside
// strings, escaped quotes included, do not count). Does not validate the JSON;
// it bounds the work a parser will do. Errors: InvalidArgument
// "JSON nesting deeper than <max_depth> levels" (error_code
// "json_too_deep").
core::Status CheckJsonDepth(std::string_view body, int max_depth = kDefaultMaxJsonDepth);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequences. ASCII runs are checked 8 bytes at a time.
bool IsValidUtf8(std::string_view s);
// Byte offset of the first invalid sequence, or s.size() when valid.
size_t FirstInvalidUtf8(std::string_view s);
// Errors: InvalidArgument "<what> is not valid UTF-8 (byte <offset>)"
// (error_code "invalid_utf8").
core::Status ValidateUtf8(std::string_view s, std::string_view what = "request body");

// `text` with every finding replaced by "[<name>]" ("[email]", "[secret]"),
// for logs and error messages. Findings must be sorted, non-overlapping and
// belong to `text` (segment 0 or the given one).
std::string MaskFindings(std::string_view text, std::span<const Finding> findings,
                         size_t segment = 0);
// Scans and masks in one go; on a scan failure masks everything ("[text]").
std::string MaskForLog(const PiiScanner& scanner, std::string_view text);
// A secret shown as its first `keep` characters and its length: "sk-p…(51)".
// Strings of 8 characters or fewer are fully masked: "…(8)".
std::string MaskSecret(std::string_view secret, size_t keep = 4);
// For text that came from outside (an upstream's error message, which may echo
// the request or a key) before it is logged or returned: every "Bearer
// <token>" becomes "Bearer [secret]", and with a scanner every finding but IP
// addresses (in error messages they name infrastructure, e.g. an upstream
// that refused a connection) becomes "[<name>]". On a scan failure the whole
// text is masked ("[unscannable text]").
std::string MaskUpstreamText(std::string_view text, const PiiScanner* scanner);

}  // namespace switchyard::guard
