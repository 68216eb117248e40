#include "economics/internal/model_match.h"

#include <cctype>
#include <utility>

namespace switchyard::economics::internal {

bool MatchRule::Matches(std::string_view name) const {
  switch (kind) {
    case Kind::kEquals:
      return name == text;
    case Kind::kStartsWith:
      return name.starts_with(text);
    case Kind::kEndsWith:
      return name.ends_with(text);
    case Kind::kContains:
      return name.find(text) != std::string_view::npos;
    case Kind::kRegex:
      if (!regex) return false;
      try {
        return std::regex_search(name.begin(), name.end(), *regex);
      } catch (const std::regex_error&) {
        return false;  // e.g. error_complexity: treat as no match
      }
  }
  return false;
}

bool MatchAlternative::Matches(std::string_view name) const {
  if (all.empty()) return false;
  for (const MatchRule& r : all) {
    if (!r.Matches(name)) return false;
  }
  return true;
}

std::optional<std::string_view> MatchAlternative::ExactName() const {
  if (all.size() == 1 && all[0].kind == MatchRule::Kind::kEquals) return all[0].text;
  return std::nullopt;
}

bool MatchesAny(const MatchList& list, std::string_view name) {
  for (const MatchAlternative& a : list) {
    if (a.Matches(name)) return true;
  }
  return false;
}

std::optional<MatchRule::Kind> MatchKindFromName(std::string_view name) {
  using K = MatchRule::Kind;
  if (name == "equals") return K::kEquals;
  if (name == "starts_with") return K::kStartsWith;
  if (name == "ends_with") return K::kEndsWith;
  if (name == "contains") return K::kContains;
  if (name == "regex") return K::kRegex;
  return std::nullopt;
}

core::Result<MatchRule> MakeMatchRule(MatchRule::Kind kind, std::string_view pattern) {
  MatchRule rule;
  rule.kind = kind;
  if (kind != MatchRule::Kind::kRegex) {
    rule.text = NormalizeModelName(pattern);
    if (rule.text.empty()) return core::InvalidArgument("empty match pattern");
    return rule;
  }
  rule.text = std::string(pattern);
  if (rule.text.empty()) return core::InvalidArgument("empty match pattern");
  try {
    rule.regex = std::make_shared<const std::regex>(rule.text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    std::string msg = "invalid regex \"";
    msg.append(rule.text).append("\": ").append(e.what());
    return core::InvalidArgument(std::move(msg));
  }
  return rule;
}

std::string NormalizeModelName(std::string_view name) {
  auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!name.empty() && is_space(name.front())) name.remove_prefix(1);
  while (!name.empty() && is_space(name.back())) name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {

bool IsLeap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool IsCalendarDate(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  int max = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  return d <= max;
}

int Digits(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

std::optional<std::string> ExpandCompactDates(std::string_view name) {
  // Pattern: "-" "20" d d (month 01-12) (day 01-31), then "-", ":" or end.
  std::string out;
  bool changed = false;
  size_t i = 0;
  while (i < name.size()) {
    bool expanded = false;
    if (name[i] == '-' && i + 9 <= name.size()) {
      bool digits = true;
      for (size_t k = i + 1; k < i + 9; ++k) {
        if (!std::isdigit(static_cast<unsigned char>(name[k]))) digits = false;
      }
      size_t end = i + 9;
      bool boundary = end == name.size() || name[end] == '-' || name[end] == ':';
      if (digits && boundary && name[i + 1] == '2' && name[i + 2] == '0') {
        int y = Digits(name, i + 1, 4);
        int m = Digits(name, i + 5, 2);
        int d = Digits(name, i + 7, 2);
        if (IsCalendarDate(y, m, d)) {
          out += '-';
          out.append(name.substr(i + 1, 4));
          out += '-';
          out.append(name.substr(i + 5, 2));
          out += '-';
          out.append(name.substr(i + 7, 2));
          i = end;
          changed = expanded = true;
        }
      }
    }
    if (!expanded) out += name[i++];
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace switchyard::economics::internal
