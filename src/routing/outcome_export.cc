#include "routing/outcome_export.h"

#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "core/csv.h"
#include "routing/answer_checks.h"

namespace switchyard::routing {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

char ChoiceLetter(char c) {
  if (c >= 'a' && c <= 'j') return static_cast<char>(c - 'a' + 'A');
  if (c >= 'A' && c <= 'J') return c;
  return 0;
}

// "B", "(b)", "[B]", "B.", "B)", "**B**": one letter and nothing else but
// brackets, asterisks and a trailing period.
char LoneLetter(std::string_view s) {
  s = Trim(s);
  auto strip = [](char c) {
    return c == '(' || c == ')' || c == '[' || c == ']' || c == '*' || c == '.' || c == ':';
  };
  while (!s.empty() && strip(s.front())) s.remove_prefix(1);
  while (!s.empty() && strip(s.back())) s.remove_suffix(1);
  s = Trim(s);
  return s.size() == 1 ? ChoiceLetter(s[0]) : '\0';
}

// "B) Paris", "(B) Paris", "B. Paris": an upper-case letter opening the text.
char LeadingOption(std::string_view s) {
  s = Trim(s);
  const bool paren = !s.empty() && s.front() == '(';
  if (paren) s.remove_prefix(1);
  if (s.size() < 3 || s[0] < 'A' || s[0] > 'J') return 0;
  if (paren ? s[1] != ')' : (s[1] != ')' && s[1] != '.')) return 0;
  return IsSpace(s[2]) ? s[0] : '\0';
}

size_t Words(std::string_view s) {
  size_t n = 0;
  bool in = false;
  for (char c : s) {
    if (IsSpace(c)) {
      in = false;
    } else if (!in) {
      in = true;
      ++n;
    }
  }
  return n;
}

bool SameNumber(double a, double b) {
  return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b));
}

}  // namespace

std::string_view MatchRuleName(MatchRule rule) {
  switch (rule) {
    case MatchRule::kAuto:
      return "auto";
    case MatchRule::kNumber:
      return "number";
    case MatchRule::kChoice:
      return "choice";
    case MatchRule::kExact:
      return "exact";
  }
  return "auto";
}

core::Result<MatchRule> ParseMatchRule(std::string_view name) {
  for (MatchRule r :
       {MatchRule::kAuto, MatchRule::kNumber, MatchRule::kChoice, MatchRule::kExact}) {
    if (name == MatchRuleName(r)) return r;
  }
  return core::InvalidArgument("unknown match rule '" + std::string(name) +
                               "' (expected auto, number, choice or exact)");
}

std::optional<std::string> ChoiceKey(std::string_view answer) {
  char letter = 0;
  if (auto final = FinalAnswer(answer)) {
    letter = LoneLetter(*final);
    if (letter == 0) letter = LeadingOption(*final);
  }
  if (letter == 0) letter = LoneLetter(answer);
  if (letter == 0) letter = LeadingOption(answer);
  if (letter == 0) return std::nullopt;
  return std::string(1, letter);
}

std::optional<double> NumberKey(std::string_view answer) {
  if (auto final = FinalAnswer(answer)) {
    if (auto n = FirstNumber(*final)) return n;
  }
  const std::vector<double> numbers = NumbersIn(answer);
  if (numbers.empty()) return std::nullopt;
  return numbers.back();
}

std::string ExactKey(std::string_view answer) {
  std::string out;
  bool space = false;
  for (char c : Trim(answer)) {
    if (IsSpace(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  auto edge = [](char c) {
    return c == '"' || c == '\'' || c == '`' || c == '(' || c == ')' || c == '[' || c == ']' ||
           c == '*';
  };
  auto tail = [&](char c) {
    return edge(c) || c == '.' || c == '!' || c == '?' || c == ';' || c == ':';
  };
  size_t b = 0;
  size_t e = out.size();
  while (b < e && (edge(out[b]) || out[b] == ' ')) ++b;
  while (e > b && (tail(out[e - 1]) || out[e - 1] == ' ')) --e;
  return out.substr(b, e - b);
}

Agreement Judge(std::string_view weak, std::string_view strong, MatchRule rule) {
  Agreement a;
  if (rule == MatchRule::kAuto) {
    const auto final = FinalAnswer(strong);
    if (ChoiceKey(strong)) {
      rule = MatchRule::kChoice;
    } else if ((final && FirstNumber(*final)) || (Words(strong) <= 8 && NumberKey(strong))) {
      rule = MatchRule::kNumber;
    } else {
      rule = MatchRule::kExact;
    }
  }
  a.rule = rule;
  switch (rule) {
    case MatchRule::kNumber: {
      const auto ref = NumberKey(strong);
      if (!ref) return a;
      const auto got = NumberKey(weak);
      a.agree = got && SameNumber(*got, *ref);
      return a;
    }
    case MatchRule::kChoice: {
      const auto ref = ChoiceKey(strong);
      if (!ref) return a;
      a.agree = ChoiceKey(weak) == ref;
      return a;
    }
    case MatchRule::kExact:
    case MatchRule::kAuto: {
      const std::string ref = ExactKey(strong);
      if (ref.empty()) return a;
      a.agree = ExactKey(weak) == ref;
      return a;
    }
  }
  return a;
}

std::vector<ExportedRow> ExportOutcomes(const std::vector<PairedOutcome>& outcomes, MatchRule rule,
                                        ExportStats* stats) {
  ExportStats local;
  ExportStats& st = stats != nullptr ? *stats : local;
  st = ExportStats();
  std::vector<ExportedRow> rows;
  std::unordered_set<std::string_view> seen;
  for (const PairedOutcome& o : outcomes) {
    st.shadow_cost_usd += o.shadow_cost_usd;
    if (!seen.insert(o.request_id).second) {
      ++st.duplicates;
      continue;
    }
    const Agreement a = Judge(o.weak_response, o.strong_response, rule);
    if (!a.agree) {
      ++st.no_reference;
      continue;
    }
    ExportedRow row;
    row.example.id = o.request_id;
    row.example.prompt = o.prompt;
    if (!o.subject.empty()) row.example.subject = o.subject;
    row.example.weak_response = o.weak_response;
    row.example.weak_logprobs = o.weak_logprobs;
    row.example.weak_correct = *a.agree ? 1 : 0;
    row.example.strong_correct = 1;
    row.strong_response = o.strong_response;
    row.rule = a.rule;
    ++st.rows;
    if (*a.agree) ++st.agreed;
    (a.rule == MatchRule::kNumber   ? st.by_number
     : a.rule == MatchRule::kChoice ? st.by_choice
                                    : st.by_exact) += 1;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string RenderOutcomeCsv(const std::vector<ExportedRow>& rows) {
  std::string out =
      "id,prompt,subject,weak_correct,strong_correct,weak_response,weak_logprobs,strong_response,"
      "match\n";
  for (const ExportedRow& r : rows) {
    const RoutingExample& e = r.example;
    core::AppendCsvField(out, e.id);
    out += ',';
    core::AppendCsvField(out, e.prompt);
    out += ',';
    core::AppendCsvField(out, e.subject.value_or(""));
    out += e.weak_correct != 0 ? ",1" : ",0";
    out += e.strong_correct != 0 ? ",1," : ",0,";
    core::AppendCsvField(out, e.weak_response.value_or(""));
    out += ',';
    core::AppendCsvField(out, FormatLogprobs(e.weak_logprobs));
    out += ',';
    core::AppendCsvField(out, r.strong_response);
    out += ',';
    out += MatchRuleName(r.rule);
    out += '\n';
  }
  return out;
}

}  // namespace switchyard::routing
