#include "routing/outcome_export.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "core/ascii.h"
#include "core/csv.h"
#include "routing/answer_checks.h"

namespace switchyard::routing {
namespace {

char ChoiceLetter(char c) {
  if (c >= 'a' && c <= 'j') return static_cast<char>(c - 'a' + 'A');
  if (c >= 'A' && c <= 'J') return c;
  return 0;
}

// "B", "(b)", "[B]", "B.", "B)", "**B**": one letter and nothing else but
// brackets, asterisks and a trailing period.
char LoneLetter(std::string_view s) {
  s = core::TrimAsciiSpace(s);
  auto strip = [](char c) {
    return c == '(' || c == ')' || c == '[' || c == ']' || c == '*' || c == '.' || c == ':';
  };
  while (!s.empty() && strip(s.front())) s.remove_prefix(1);
  while (!s.empty() && strip(s.back())) s.remove_suffix(1);
  s = core::TrimAsciiSpace(s);
  return s.size() == 1 ? ChoiceLetter(s[0]) : '\0';
}

// "B) Paris", "(B) Paris", "B. Paris": an upper-case letter opening the text.
char LeadingOption(std::string_view s) {
  s = core::TrimAsciiSpace(s);
  const bool paren = !s.empty() && s.front() == '(';
  if (paren) s.remove_prefix(1);
  if (s.size() < 3 || s[0] < 'A' || s[0] > 'J') return 0;
  if (paren ? s[1] != ')' : (s[1] != ')' && s[1] != '.')) return 0;
  if (!core::IsAsciiSpace(s[2])) return 0;
  // "J. K. Rowling", "H. G. Wells": initials, not an option.
  const std::string_view rest = core::TrimAsciiSpace(s.substr(2));
  if (s[1] == '.' && rest.size() >= 2 && rest[0] >= 'A' && rest[0] <= 'Z' && rest[1] == '.') {
    return 0;
  }
  return s[0];
}

// The text after `prefix` when `s` starts with it.
bool Consume(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Digits with optional thousands separators and decimals ("1,200.50").
std::optional<double> PlainNumber(std::string_view& s) {
  std::string digits;
  size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    const char c = s[i];
    if (core::IsAsciiDigit(c)) {
      digits += c;
      any = true;
    } else if (c == ',' && any && i + 3 < s.size() && core::IsAsciiDigit(s[i + 1]) &&
               core::IsAsciiDigit(s[i + 2]) && core::IsAsciiDigit(s[i + 3]) &&
               (i + 4 >= s.size() || !core::IsAsciiDigit(s[i + 4])) &&
               digits.find('.') == std::string::npos) {
      // a thousands separator: exactly three digits follow
    } else if (c == '.' && any && i + 1 < s.size() && core::IsAsciiDigit(s[i + 1]) &&
               digits.find('.') == std::string::npos) {
      digits += c;
    } else {
      break;
    }
    ++i;
  }
  if (!any) return std::nullopt;
  s.remove_prefix(i);
  double value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

// "\frac{3}{4}", "\dfrac{3}{4}", "3/4" or a plain number.
std::optional<double> Quantity(std::string_view& s) {
  if (Consume(s, "\\frac{") || Consume(s, "\\dfrac{") || Consume(s, "\\tfrac{")) {
    const auto a = PlainNumber(s);
    if (!a || !Consume(s, "}{")) return std::nullopt;
    const auto b = PlainNumber(s);
    if (!b || !Consume(s, "}") || *b == 0) return std::nullopt;
    return *a / *b;
  }
  const auto a = PlainNumber(s);
  if (!a) return std::nullopt;
  std::string_view rest = s;
  if (Consume(rest, "/")) {
    if (auto b = PlainNumber(rest); b && *b != 0) {
      s = rest;
      return *a / *b;
    }
  }
  return a;
}

// A text that states one number and nothing else but a sign, "$", "%", a
// trailing period and up to three unit words: "18", "-5", "$1,200.50",
// "3/4", "\frac{3}{4}", "18 dollars", "45 km per hour". nullopt otherwise.
std::optional<double> StatedNumber(std::string_view text) {
  std::string_view s = core::TrimAsciiSpace(text);
  while (!s.empty() && (s.back() == '.' || core::IsAsciiSpace(s.back()))) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '$' && s.back() == '$')
    s = core::TrimAsciiSpace(s.substr(1, s.size() - 2));
  bool negative = false;
  if (Consume(s, "-")) {
    negative = true;
  } else {
    Consume(s, "+");
  }
  Consume(s, "$");
  if (!negative && Consume(s, "-")) negative = true;  // "$-5"
  auto value = Quantity(s);
  if (!value) return std::nullopt;
  Consume(s, "%");
  // Unit words: letters only, at most three.
  int words = 0;
  s = core::TrimAsciiSpace(s);
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z'))) ++n;
    if (n == 0 || ++words > 3) return std::nullopt;
    s = core::TrimAsciiSpace(s.substr(n));
  }
  return negative ? -*value : *value;
}

// Shows a computation: a checked "a op b = c", or "= <number>" anywhere
// ("14 segments * 10 minutes = 140 minutes").
bool ShowsComputation(std::string_view text) {
  for (size_t i = text.find('='); i != std::string_view::npos; i = text.find('=', i + 1)) {
    size_t j = i + 1;
    while (j < text.size() && (text[j] == ' ' || text[j] == '$' || text[j] == '-')) ++j;
    if (j < text.size() && core::IsAsciiDigit(text[j])) return true;
  }
  return CheckArithmetic(text).checked > 0;
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
    if (auto stated = StatedNumber(*final)) return stated;
    // "#### Each child receives 9 eggs", "#### 84 (corrected)": a final
    // answer with exactly one number, unless it opens with a yes/no word.
    const std::string opening = ExactKey(core::TrimAsciiSpace(*final).substr(0, 6));
    for (const char* word : {"yes", "no", "true", "false"}) {
      const std::string_view w(word);
      if (opening.rfind(w, 0) == 0 &&
          (opening.size() == w.size() ||
           !std::isalpha(static_cast<unsigned char>(opening[w.size()])))) {
        return std::nullopt;
      }
    }
    const std::vector<double> numbers = NumbersIn(*final);
    if (numbers.size() == 1) return numbers.front();
    return std::nullopt;
  }
  if (auto whole = StatedNumber(answer)) return whole;
  // A worked answer in prose (no final-answer marker): the result its last
  // line with a number states — the last "a op b = c" there, else that
  // line's last number.
  if (!ShowsComputation(answer)) return std::nullopt;
  std::string_view rest = core::TrimAsciiSpace(answer);
  while (!rest.empty()) {
    const size_t nl = rest.rfind('\n');
    const std::string_view line =
        core::TrimAsciiSpace(nl == std::string_view::npos ? rest : rest.substr(nl + 1));
    rest = nl == std::string_view::npos ? std::string_view()
                                        : core::TrimAsciiSpace(rest.substr(0, nl));
    const ArithmeticCheck steps = CheckArithmetic(line);
    if (!steps.steps.empty()) return steps.steps.back().result;
    const std::vector<double> numbers = NumbersIn(line);
    if (!numbers.empty()) return numbers.back();
  }
  return std::nullopt;
}

bool PromptListsOptions(std::string_view prompt) {
  // "A. x", "A) x", "A: x" opening a line; "(A) x" anywhere after a space.
  auto line_start = [prompt](size_t i) {
    while (i > 0 && (prompt[i - 1] == ' ' || prompt[i - 1] == '\t')) --i;
    return i == 0 || prompt[i - 1] == '\n';
  };
  auto has = [&](char letter) {
    for (size_t i = 0; i < prompt.size(); ++i) {
      if (i > 0 && !core::IsAsciiSpace(prompt[i - 1])) continue;
      const std::string_view rest = prompt.substr(i);
      if (rest.size() < 3 || core::IsAsciiSpace(rest[0])) continue;
      if (rest[0] == '(') {
        if (LeadingOption(rest) == letter) return true;
      } else if (line_start(i) && rest[0] == letter) {
        if (LeadingOption(rest) == letter) return true;  // not initials ("A. A. Milne")
        if (rest[1] == ':' && core::IsAsciiSpace(rest[2])) return true;
      }
    }
    return false;
  };
  return has('A') && has('B');
}

std::string ExactKey(std::string_view answer) {
  std::string out;
  bool space = false;
  for (char c : core::TrimAsciiSpace(answer)) {
    if (core::IsAsciiSpace(c)) {
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

Agreement Judge(std::string_view weak, std::string_view strong, MatchRule rule,
                std::string_view prompt) {
  Agreement a;
  if (rule == MatchRule::kAuto) {
    if (PromptListsOptions(prompt) && ChoiceKey(strong)) {
      rule = MatchRule::kChoice;
    } else if (NumberKey(strong)) {
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
    if (o.strong_finish == "length" || o.strong_finish == "content_filter") {
      ++st.cut_off;  // a reference cut short is no reference
      continue;
    }
    const Agreement a = Judge(o.weak_response, o.strong_response, rule, o.prompt);
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
