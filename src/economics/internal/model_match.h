// Model-name match rules of the price book (internal to sy_economics).
//
// A model's match list is a list of alternatives; an alternative holds one or
// more rules that must all hold. Names are normalised (trimmed, lower-cased)
// before matching; string patterns are stored lower-cased, regexes are an
// ECMAScript search over the normalised name. This mirrors the matching of
// @pydantic/genai-prices (see data/prices.json "match_rule").
//
// Thread-safety: immutable after construction; Matches() is safe from any thread.
// Errors: Parse* return InvalidArgument naming the bad rule.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::economics::internal {

struct MatchRule {
  enum class Kind { kEquals, kStartsWith, kEndsWith, kContains, kRegex };
  Kind kind = Kind::kEquals;
  std::string text;                         // lower-cased, except for kRegex
  std::shared_ptr<const std::regex> regex;  // kRegex only

  bool Matches(std::string_view normalized_name) const;
};

// All rules must match.
struct MatchAlternative {
  std::vector<MatchRule> all;

  bool Matches(std::string_view normalized_name) const;
  // The exact name when this alternative is a single `equals` rule.
  std::optional<std::string_view> ExactName() const;
};

using MatchList = std::vector<MatchAlternative>;

bool MatchesAny(const MatchList& list, std::string_view normalized_name);

// Builds a rule; kRegex compiles the pattern (InvalidArgument if it does not).
core::Result<MatchRule> MakeMatchRule(MatchRule::Kind kind, std::string_view pattern);
// Maps "equals" | "starts_with" | "ends_with" | "contains" | "regex" to a kind.
std::optional<MatchRule::Kind> MatchKindFromName(std::string_view name);

// Trims ASCII whitespace and lower-cases ASCII letters.
std::string NormalizeModelName(std::string_view name);

// Rewrites every "-YYYYMMDD" that is a real calendar date and is followed by
// "-", ":" or the end into "-YYYY-MM-DD" (e.g. "gpt-4o-mini-20240718" ->
// "gpt-4o-mini-2024-07-18"). Returns nullopt when nothing changed.
std::optional<std::string> ExpandCompactDates(std::string_view name);

}  // namespace switchyard::economics::internal
