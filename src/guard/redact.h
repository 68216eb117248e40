// Reversible redaction: findings become stable placeholders before a request
// leaves the boundary, and the originals come back in the answer.
//
//   RedactionMap map;                                  // one per request
//   std::string out = Redact(text, findings, map);     // "mail <EMAIL_1> now"
//   ... upstream answers "I wrote to <EMAIL_1>" ...
//   Restore(answer, map);                              // "I wrote to a@b.io"
//   StreamRestorer r(map); r.Push(delta)...; r.Finish();   // the same for SSE deltas
//
// Placeholders are `<LABEL_N>`: LABEL is the finding's name upper-cased (EMAIL,
// PHONE, CARD, IBAN, SSN, IPV4, IPV6, SECRET, or a custom pattern's name) and N
// counts per label from 1. Within one map the same (label, value) always gets
// the same placeholder, across all the messages of a request. Placeholders are
// pure ASCII ([<>A-Z0-9_]), so they are valid inside JSON strings as they are.
// A placeholder-shaped string the client itself wrote (e.g. "<EMAIL_1>") is
// reserved first and never reused, so restoring cannot turn the client's own
// text into someone's e-mail address (see RedactTexts / ReserveLiterals).
//
// Restore replaces only placeholders the map issued; anything else that looks
// like one is left as it is. A model that rewrites a placeholder (drops the
// brackets, changes the case) defeats restoration: that text stays redacted.
//
// Threading: a RedactionMap is a per-request value, not synchronised; the free
// functions are pure. A StreamRestorer references its map (which must outlive
// it) and is used by one stream at a time. No errors except malformed JSON
// string literals (below), InvalidArgument.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "guard/pii.h"

namespace switchyard::guard {

class RedactionMap {
 public:
  // The placeholder for `original` under `label` ("EMAIL"), issuing the next
  // free number on first sight.
  const std::string& PlaceholderFor(std::string_view label, std::string_view original);

  // The original behind a placeholder this map issued, or nullptr.
  const std::string* OriginalFor(std::string_view placeholder) const;

  // Marks every placeholder-shaped substring of `text` as taken, so the map
  // never issues it (call on all input texts before redacting any of them).
  void ReserveLiterals(std::string_view text);

  // True when `s` is a proper prefix of a placeholder this map issued (the
  // streaming restorer holds such a tail back until it resolves).
  bool IsPlaceholderPrefix(std::string_view s) const;

  size_t size() const { return by_placeholder_.size(); }
  bool empty() const { return by_placeholder_.empty(); }
  size_t max_placeholder_length() const { return max_length_; }
  // Every issued placeholder and its original, ordered by placeholder.
  const std::map<std::string, std::string, std::less<>>& entries() const { return by_placeholder_; }

 private:
  std::map<std::string, std::string, std::less<>> by_placeholder_;  // placeholder -> original
  std::map<std::string, std::string, std::less<>> by_value_;        // label + '\0' + original -> ph
  std::map<std::string, size_t, std::less<>> next_;                 // label -> last number issued
  std::set<std::string, std::less<>> reserved_;                     // placeholder-shaped literals
  size_t max_length_ = 0;
};

// The placeholder label for a finding: its name upper-cased ("EMAIL").
std::string PlaceholderLabel(const Finding& finding);

// Replaces each finding in `text` (sorted, non-overlapping, offsets into
// `text`, as ScanText returns them) by its placeholder. Findings of other
// segments are ignored unless `segment` matches (see RedactTexts).
std::string Redact(std::string_view text, std::span<const Finding> findings, RedactionMap& map,
                   size_t segment = 0);

// Redacts every text of a request with one map: reserves literals in all texts
// first, then replaces the findings of each segment (Finding::segment, as
// ScanTexts returns them). Returns the redacted texts in order.
std::vector<std::string> RedactTexts(std::span<const std::string_view> texts,
                                     std::span<const Finding> findings, RedactionMap& map);

// Replaces every placeholder the map issued by its original.
std::string Restore(std::string_view text, const RedactionMap& map);

// Restores a streamed answer delta by delta. A possible placeholder split
// across deltas ("<EMA" + "IL_1>") is held back until it either completes or
// can no longer become one; everything else is released at once. The
// concatenation of all Push() results and Finish() equals Restore() of the
// concatenated input, for every way of splitting it.
class StreamRestorer {
 public:
  explicit StreamRestorer(const RedactionMap& map) : map_(map) {}
  // Text that can be sent now (possibly empty).
  std::string Push(std::string_view delta);
  // Whatever is still held back, restored as far as it goes. Call once at the end.
  std::string Finish();
  // Bytes currently held back (at most the longest placeholder - 1).
  size_t held() const { return pending_.size(); }

 private:
  const RedactionMap& map_;
  std::string pending_;
};

// JSON string helpers for callers that hold raw JSON.
//
// DecodeJsonString: a JSON string literal WITH its quotes -> its UTF-8 value
// (all escapes, \uXXXX surrogate pairs included). Errors, InvalidArgument:
//   "invalid JSON string: missing quotes", "invalid JSON string: bad escape at
//   byte N", "invalid JSON string: unescaped control character at byte N",
//   "invalid JSON string: lone surrogate at byte N".
core::Result<std::string> DecodeJsonString(std::string_view literal);
// A value -> a JSON string literal with quotes (control characters, quotes
// and backslashes escaped; UTF-8 passed through).
std::string EncodeJsonString(std::string_view value);

// Rewrites one JSON string literal: decode, scan, redact with `map`, encode.
// The result is always a valid JSON string literal. `findings_out`, when given,
// receives the findings (offsets into the decoded value). Errors: those of
// DecodeJsonString and PiiScanner::ScanText.
core::Result<std::string> RedactJsonString(std::string_view literal, const PiiScanner& scanner,
                                           RedactionMap& map,
                                           std::vector<Finding>* findings_out = nullptr);
// The reverse for a JSON string literal in an answer body.
core::Result<std::string> RestoreJsonString(std::string_view literal, const RedactionMap& map);

// Replaces every occurrence of every original the map issued a placeholder
// for by that placeholder, wherever it occurs in `text` (longest originals
// first). Used on every string of a request body, so a value found in a
// message also disappears from fields that were not scanned themselves
// (names, raw content parts, tool definitions, metadata).
std::string RedactKnown(std::string_view text, const RedactionMap& map);

// Rewrites the strings of a JSON document. `fn` is called for every string
// (object keys too, with is_key set) with its JSON-pointer-like path
// ("/choices/0/delta/content"; array elements by position, keys unescaped; a
// key gets the path of its object)
// and its decoded value; it returns the new value, or nullopt to keep the
// literal byte for byte. Everything else is copied unchanged. Errors,
// InvalidArgument: "invalid JSON: unterminated string at byte N",
// "invalid JSON: unbalanced brackets at byte N", those of DecodeJsonString.
using JsonStringRewriter = std::function<std::optional<std::string>(
    std::string_view path, std::string_view value, bool is_key)>;
core::Result<std::string> RewriteJsonStrings(std::string_view json, const JsonStringRewriter& fn);

}  // namespace switchyard::guard
