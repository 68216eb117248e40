// LabelParser: maps a teacher's reply to one of the task's labels.
//
// Modes:
//  - kExact: the reply must equal a label byte for byte.
//  - kCaseInsensitive (the default): surrounding whitespace, punctuation and
//    quotes are trimmed (e.g. `"Up."`, `**down**`, "'none'\n"), then ASCII
//    case is ignored.
//  - kJsonField: the reply is a JSON object (optionally inside a ``` code
//    fence) whose string field `json_field` holds the label, compared as in
//    kCaseInsensitive.
//  - kRegex: the first capture group of the first match of `pattern`
//    (ECMAScript syntax; the whole match when the pattern has no group),
//    compared as in kCaseInsensitive.
// The result is always the label as declared (its canonical spelling).
//
// Thread-safety: immutable after Create; Parse may be called concurrently.
// Errors: Create returns InvalidArgument for no labels, an empty, duplicate
// or whitespace-containing label, or a pattern that does not compile
// ("label regex '<p>' does not compile: <why>"). Parse returns
// InvalidArgument with one of (the reply quoted, cut to 80 bytes):
//   "teacher reply is empty"
//   "teacher reply \"<r>\" is not one of the labels: up, down"
//   "teacher reply is not a JSON object: \"<r>\""
//   "teacher reply has no string field \"<f>\": \"<r>\""
//   "teacher reply field \"<f>\" is \"<v>\", not one of the labels: up, down"
//   "teacher reply does not match the label pattern '<p>': \"<r>\""
//   "teacher reply matched the label pattern as \"<v>\", not one of the labels: up, down"
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::learn {

enum class LabelMode { kExact, kCaseInsensitive, kJsonField, kRegex };

// "exact", "case_insensitive", "json", "regex" (as in the task config).
std::string_view LabelModeName(LabelMode mode);
core::Result<LabelMode> ParseLabelMode(std::string_view name);

struct LabelParserOptions {
  LabelMode mode = LabelMode::kCaseInsensitive;
  std::string json_field = "label";  // kJsonField
  std::string pattern;               // kRegex
};

class LabelParser {
 public:
  static core::Result<LabelParser> Create(std::vector<std::string> labels,
                                          LabelParserOptions options = {});

  // The canonical label for `reply`, or InvalidArgument (see above).
  core::Result<std::string> Parse(std::string_view reply) const;

  const std::vector<std::string>& labels() const { return labels_; }
  const LabelParserOptions& options() const { return options_; }

 private:
  LabelParser() = default;
  core::Result<std::string> Match(std::string_view candidate) const;  // case-insensitive
  std::string NotALabel() const;

  std::vector<std::string> labels_;
  LabelParserOptions options_;
  std::shared_ptr<const std::regex> regex_;
};

}  // namespace switchyard::learn
