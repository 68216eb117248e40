#include "routing/answer_checks.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_set>

#include "core/ascii.h"

namespace switchyard::routing {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

char Lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// Reads a number at s[*i] (digits, 1,000 separators, one decimal point).
// Advances *i past it and returns the value and its printed decimals.
std::optional<double> ReadNumber(std::string_view s, size_t* i, int* decimals = nullptr) {
  size_t j = *i;
  if (j >= s.size() || !(IsDigit(s[j]) || (s[j] == '.' && j + 1 < s.size() && IsDigit(s[j + 1])))) {
    return std::nullopt;
  }
  std::string digits;
  while (j < s.size()) {
    if (IsDigit(s[j])) {
      digits.push_back(s[j++]);
    } else if (s[j] == ',' && !digits.empty() && j + 3 < s.size() && IsDigit(s[j + 1]) &&
               IsDigit(s[j + 2]) && IsDigit(s[j + 3]) &&
               (j + 4 >= s.size() || !IsDigit(s[j + 4]))) {
      ++j;  // thousands separator
    } else {
      break;
    }
  }
  int dec = 0;
  if (j + 1 < s.size() && s[j] == '.' && IsDigit(s[j + 1])) {
    digits.push_back('.');
    ++j;
    while (j < s.size() && IsDigit(s[j])) {
      digits.push_back(s[j++]);
      ++dec;
    }
  } else if (digits.empty() && j < s.size() && s[j] == '.') {
    // ".5"
    digits = "0.";
    ++j;
    while (j < s.size() && IsDigit(s[j])) {
      digits.push_back(s[j++]);
      ++dec;
    }
  }
  if (digits.empty()) return std::nullopt;
  *i = j;
  if (decimals != nullptr) *decimals = dec;
  return std::strtod(digits.c_str(), nullptr);
}

enum class Tok { kNum, kPlus, kMinus, kMul, kDiv, kPow, kLParen, kRParen, kPercent, kEnd };

struct Token {
  Tok kind;
  double value = 0;
};

std::optional<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    // Markdown escapes ("3 \* 4"), spaces and $ are skipped.
    if (c == ' ' || c == '\t' || c == '$' || (c == '\\' && i + 1 < s.size() && s[i + 1] == '*')) {
      ++i;
      continue;
    }
    if (IsDigit(c) || (c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      auto v = ReadNumber(s, &i);
      if (!v) return std::nullopt;
      out.push_back({Tok::kNum, *v});
      continue;
    }
    // UTF-8 multiplication and division signs.
    if (s.substr(i, 2) == "\xC3\x97" || s.substr(i, 2) == "\xC2\xB7") {
      out.push_back({Tok::kMul});
      i += 2;
      continue;
    }
    if (s.substr(i, 2) == "\xC3\xB7") {
      out.push_back({Tok::kDiv});
      i += 2;
      continue;
    }
    switch (c) {
      case '+':
        out.push_back({Tok::kPlus});
        break;
      case '-':
        out.push_back({Tok::kMinus});
        break;
      case '*':
      case 'x':
      case 'X':
        out.push_back({Tok::kMul});
        break;
      case '/':
        out.push_back({Tok::kDiv});
        break;
      case '^':
        out.push_back({Tok::kPow});
        break;
      case '(':
        out.push_back({Tok::kLParen});
        break;
      case ')':
        out.push_back({Tok::kRParen});
        break;
      case '%':
        out.push_back({Tok::kPercent});
        break;
      default:
        return std::nullopt;
    }
    ++i;
  }
  out.push_back({Tok::kEnd});
  return out;
}

// expr := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ;
// unary := '-' unary | power ; power := postfix ('^' unary)? ;
// postfix := primary '%'* ; primary := number | '(' expr ')'
class Parser {
 public:
  explicit Parser(const std::vector<Token>& toks) : toks_(toks) {}

  std::optional<double> Parse() {
    auto v = Expr();
    if (!v || toks_[pos_].kind != Tok::kEnd || failed_) return std::nullopt;
    return v;
  }
  bool used_binary_operator() const { return binary_ops_ > 0; }

 private:
  std::optional<double> Expr() {
    auto v = Term();
    while (v && (Peek() == Tok::kPlus || Peek() == Tok::kMinus)) {
      const Tok op = toks_[pos_++].kind;
      auto r = Term();
      if (!r) return std::nullopt;
      ++binary_ops_;
      v = op == Tok::kPlus ? *v + *r : *v - *r;
    }
    return v;
  }
  std::optional<double> Term() {
    auto v = Unary();
    while (v && (Peek() == Tok::kMul || Peek() == Tok::kDiv || Peek() == Tok::kLParen)) {
      // Implicit multiplication: "3(4 + 1)".
      const Tok op = Peek() == Tok::kLParen ? Tok::kMul : toks_[pos_++].kind;
      auto r = Unary();
      if (!r) return std::nullopt;
      ++binary_ops_;
      if (op == Tok::kDiv) {
        if (*r == 0) {
          failed_ = true;
          return std::nullopt;
        }
        v = *v / *r;
      } else {
        v = *v * *r;
      }
    }
    return v;
  }
  std::optional<double> Unary() {
    if (Peek() == Tok::kMinus) {
      ++pos_;
      auto v = Unary();
      if (!v) return std::nullopt;
      return -*v;
    }
    return Power();
  }
  std::optional<double> Power() {
    auto v = Postfix();
    if (v && Peek() == Tok::kPow) {
      ++pos_;
      auto r = Unary();
      if (!r) return std::nullopt;
      ++binary_ops_;
      v = std::pow(*v, *r);
    }
    return v;
  }
  std::optional<double> Postfix() {
    auto v = Primary();
    while (v && Peek() == Tok::kPercent) {
      ++pos_;
      v = *v / 100;
    }
    return v;
  }
  std::optional<double> Primary() {
    if (Peek() == Tok::kNum) return toks_[pos_++].value;
    if (Peek() == Tok::kLParen) {
      ++pos_;
      auto v = Expr();
      if (!v || Peek() != Tok::kRParen) return std::nullopt;
      ++pos_;
      return v;
    }
    return std::nullopt;
  }
  Tok Peek() const { return toks_[pos_].kind; }

  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int binary_ops_ = 0;
  bool failed_ = false;
};

struct Evaluated {
  double value;
  bool binary;
};

std::optional<Evaluated> Evaluate(std::string_view expr) {
  auto toks = Tokenize(expr);
  if (!toks) return std::nullopt;
  Parser p(*toks);
  auto v = p.Parse();
  if (!v || !std::isfinite(*v)) return std::nullopt;
  return Evaluated{*v, p.used_binary_operator()};
}

bool Matches(double value, double rhs, int decimals, bool rhs_percent) {
  const double tol = 0.5 * std::pow(10.0, -decimals) + 1e-9 * std::max(1.0, std::fabs(value));
  if (std::fabs(value - rhs) <= tol) return true;
  if (rhs_percent && std::fabs(value - rhs / 100) <= tol / 100) return true;
  return false;
}

bool IsExprChar(char c) {
  return IsDigit(c) || c == '.' || c == ',' || c == ' ' || c == '+' || c == '-' || c == '*' ||
         c == '/' || c == '^' || c == 'x' || c == 'X' || c == '(' || c == ')' || c == '%' ||
         c == '$' || c == '\t' || c == '\\';
}

// Right side of "= c": skips spaces and $, reads an optional minus and a number.
std::optional<double> ReadRhs(std::string_view s, size_t i, int* decimals, bool* percent) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '$')) ++i;
  bool negative = false;
  if (i < s.size() && s[i] == '-') {
    negative = true;
    ++i;
  }
  while (i < s.size() && s[i] == '$') ++i;
  auto v = ReadNumber(s, &i, decimals);
  if (!v) return std::nullopt;
  *percent = i < s.size() && s[i] == '%';
  return negative ? -*v : *v;
}

// Checks one "lhs = rhs" (lhs already cut out). Tries shorter suffixes of lhs
// (dropping leading words) until one parses with an operator.
void CheckStatement(std::string_view lhs, std::optional<double> rhs, int decimals, bool percent,
                    size_t position, ArithmeticCheck* out) {
  if (!rhs) return;
  while (!lhs.empty()) {
    while (!lhs.empty() &&
           !(IsDigit(lhs.front()) || lhs.front() == '(' || lhs.front() == '$' ||
             lhs.front() == '.' || (lhs.front() == '-' && lhs.size() > 1 && IsDigit(lhs[1])))) {
      lhs.remove_prefix(1);
    }
    if (lhs.empty()) return;
    if (auto v = Evaluate(lhs); v && v->binary) {
      ++out->checked;
      const bool correct = Matches(v->value, *rhs, decimals, percent);
      if (!correct) ++out->wrong;
      out->steps.push_back({position, NumbersIn(lhs), *rhs, correct});
      return;
    }
    const size_t space = lhs.find(' ');
    if (space == std::string_view::npos) return;
    lhs.remove_prefix(space + 1);
  }
}

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// The first number after every final-answer marker of `lower`.
std::vector<double> StatedFinals(std::string_view lower) {
  static constexpr std::string_view kMarkers[] = {"####", "the answer is", "final answer is",
                                                  "answer:", "\\boxed{"};
  std::vector<double> out;
  for (std::string_view m : kMarkers) {
    for (size_t p = lower.find(m); p != std::string_view::npos; p = lower.find(m, p + 1)) {
      std::string_view rest = lower.substr(p + m.size());
      rest = rest.substr(0, std::min<size_t>(rest.find('\n'), 40));
      for (size_t i = 0; i < rest.size(); ++i) {
        if (IsDigit(rest[i])) {
          size_t j = i;
          if (auto v = ReadNumber(rest, &j)) out.push_back(*v);
          break;
        }
      }
    }
  }
  return out;
}

// Fills the FeatureOptions::answer_extra_weight checks of `a`.
void ExtraChecks(std::string_view prompt_lower, const std::vector<double>& prompt_numbers,
                 std::string_view lower, std::string_view response,
                 std::optional<double> final_value, const ArithmeticCheck& arith,
                 AnswerAnalysis* a) {
  std::optional<double> value = final_value;
  if (!value) {
    const std::string_view trimmed = core::TrimAsciiSpace(response);
    const size_t nl = trimmed.rfind('\n');
    const auto numbers = NumbersIn(nl == std::string_view::npos ? trimmed : trimmed.substr(nl + 1));
    if (!numbers.empty()) value = numbers.back();
  }
  if (value) {
    const double v = std::fabs(*value);
    if (prompt_lower.find("how many") != std::string_view::npos &&
        std::fabs(v - std::round(v)) > 1e-9) {
      a->count_fraction = true;
    }
    double product = 1;
    double smallest = 0;
    bool any_above_one = false;
    for (double p : prompt_numbers) {
      if (p > 1) {
        product = std::min(product * p, 1e300);
        any_above_one = true;
      }
      if (p > 0 && (smallest == 0 || p < smallest)) smallest = p;
    }
    // 100 and 12 etc. are often implicit (percent, months); allow them.
    if (any_above_one && v > product * 100 * 12 + 1e-9) a->final_above_product = true;
    if (smallest > 0 && v > 0 && v < smallest / 1000) a->final_below_min = true;
  }
  std::vector<double> finals = StatedFinals(lower);
  std::sort(finals.begin(), finals.end());
  finals.erase(std::unique(finals.begin(), finals.end()), finals.end());
  a->inconsistent_finals = finals.size() > 1 ? static_cast<int>(finals.size()) - 1 : 0;
  for (size_t p = response.find(">>"); p != std::string_view::npos;
       p = response.find(">>", p + 2)) {
    const size_t open = response.rfind("<<", p);
    if (open == std::string_view::npos) continue;
    const size_t eq = response.rfind('=', p);
    if (eq == std::string_view::npos || eq < open) continue;
    size_t k = eq + 1;
    while (k < p && (response[k] == ' ' || response[k] == '$')) ++k;
    const auto c = ReadNumber(response.substr(0, p), &k);
    size_t j = p + 2;
    while (j < response.size() && (response[j] == ' ' || response[j] == '$')) ++j;
    const auto d = ReadNumber(response, &j);
    if (c && d && std::fabs(*c - *d) > 1e-6 * std::max(1.0, std::fabs(*c))) {
      ++a->annotation_mismatches;
    }
  }
  // Word 6-grams repeated 3+ times.
  std::vector<std::string_view> words;
  for (size_t i = 0; i < lower.size();) {
    while (i < lower.size() && std::isspace(static_cast<unsigned char>(lower[i]))) ++i;
    size_t j = i;
    while (j < lower.size() && !std::isspace(static_cast<unsigned char>(lower[j]))) ++j;
    if (j > i) words.push_back(lower.substr(i, j - i));
    i = j;
  }
  constexpr size_t kN = 6;
  if (words.size() >= kN) {
    std::vector<std::string> shingles;
    shingles.reserve(words.size() - kN + 1);
    for (size_t i = 0; i + kN <= words.size(); ++i) {
      std::string s;
      for (size_t k = 0; k < kN; ++k) {
        s.append(words[i + k]);
        s.push_back(' ');
      }
      shingles.push_back(std::move(s));
    }
    std::sort(shingles.begin(), shingles.end());
    for (size_t i = 0; i < shingles.size();) {
      size_t j = i;
      while (j < shingles.size() && shingles[j] == shingles[i]) ++j;
      if (j - i >= 3) ++a->looping_shingles;
      i = j;
    }
  }
  a->steps_minus_needed = arith.checked - std::max(0, static_cast<int>(prompt_numbers.size()) - 1);
}

}  // namespace

std::optional<double> EvaluateArithmetic(std::string_view expr) {
  auto v = Evaluate(expr);
  if (!v) return std::nullopt;
  return v->value;
}

ArithmeticCheck CheckArithmetic(std::string_view text) {
  ArithmeticCheck out;
  // Calculator annotations <<expr=result>>, replaced by a stop byte in the copy
  // that the plain-text pass reads so they are not counted twice.
  std::string prose;
  prose.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "<<") == 0) {
      const size_t close = text.find(">>", i + 2);
      if (close != std::string_view::npos) {
        const std::string_view inner = text.substr(i + 2, close - i - 2);
        const size_t eq = inner.rfind('=');
        if (eq != std::string_view::npos) {
          int decimals = 0;
          bool percent = false;
          auto rhs = ReadRhs(inner, eq + 1, &decimals, &percent);
          if (rhs) {
            auto v = Evaluate(inner.substr(0, eq));
            if (v && v->binary) {
              ++out.checked;
              const bool correct = Matches(v->value, *rhs, decimals, percent);
              if (!correct) ++out.wrong;
              out.steps.push_back({i + 2 + eq, NumbersIn(inner.substr(0, eq)), *rhs, correct});
            }
            out.results.push_back(*rhs);
          }
        }
        prose.push_back('\x01');
        i = close + 2;
        continue;
      }
    }
    prose.push_back(text[i++]);
  }
  const size_t annotation_steps = out.steps.size();
  for (size_t eq = prose.find('='); eq != std::string::npos; eq = prose.find('=', eq + 1)) {
    if ((eq > 0 && (prose[eq - 1] == '=' || prose[eq - 1] == '<' || prose[eq - 1] == '>' ||
                    prose[eq - 1] == '!')) ||
        (eq + 1 < prose.size() && prose[eq + 1] == '=')) {
      continue;
    }
    size_t start = eq;
    while (start > 0 && IsExprChar(prose[start - 1])) --start;
    std::string_view lhs = core::TrimAsciiSpace(std::string_view(prose).substr(start, eq - start));
    // A lone "x" on the left is algebra, not multiplication.
    int decimals = 0;
    bool percent = false;
    auto rhs = ReadRhs(prose, eq + 1, &decimals, &percent);
    const int before = out.checked;
    // Drop unbalanced leading parentheses.
    while (!lhs.empty() &&
           std::count(lhs.begin(), lhs.end(), '(') > std::count(lhs.begin(), lhs.end(), ')')) {
      const size_t p = lhs.find('(');
      lhs.remove_prefix(p + 1);
    }
    CheckStatement(lhs, rhs, decimals, percent, eq, &out);
    if (out.checked > before && rhs) out.results.push_back(*rhs);
  }
  // Prose positions index `prose`, where each annotation is one byte; map
  // them back to offsets in `text` so all steps share one order.
  std::vector<size_t> prose_to_text;
  prose_to_text.reserve(prose.size() + 1);
  for (size_t t = 0; t < text.size();) {
    if (text.compare(t, 2, "<<") == 0) {
      const size_t close = text.find(">>", t + 2);
      if (close != std::string_view::npos) {
        prose_to_text.push_back(t);
        t = close + 2;
        continue;
      }
    }
    prose_to_text.push_back(t++);
  }
  for (size_t k = annotation_steps; k < out.steps.size(); ++k) {
    out.steps[k].position = prose_to_text[out.steps[k].position];
  }
  std::stable_sort(
      out.steps.begin(), out.steps.end(),
      [](const ArithmeticStep& a, const ArithmeticStep& b) { return a.position < b.position; });
  return out;
}

std::optional<std::string> FinalAnswer(std::string_view text) {
  const std::string lower = Lowercase(text);
  struct Marker {
    const char* text;
    bool boxed;
  };
  static constexpr Marker kMarkers[] = {
      {"####", false},          {"the answer is", false}, {"final answer is", false},
      {"final answer:", false}, {"answer:", false},       {"\\boxed{", true}};
  // The marker that ends last wins ("Final answer:" and "answer:" end together).
  size_t best_pos = std::string::npos;
  size_t best_end = 0;
  bool best_boxed = false;
  for (const auto& m : kMarkers) {
    const size_t pos = lower.rfind(m.text);
    if (pos == std::string::npos) continue;
    const size_t end = pos + std::string_view(m.text).size();
    if (best_pos == std::string::npos || end > best_end) {
      best_pos = pos;
      best_end = end;
      best_boxed = m.boxed;
    }
  }
  if (best_pos == std::string::npos) return std::nullopt;
  std::string_view rest = text.substr(best_end);
  if (best_boxed) {
    int depth = 1;
    size_t j = 0;
    for (; j < rest.size() && depth > 0; ++j) {
      if (rest[j] == '{') ++depth;
      if (rest[j] == '}') --depth;
    }
    if (depth != 0) return std::nullopt;
    return std::string(core::TrimAsciiSpace(rest.substr(0, j - 1)));
  }
  while (!rest.empty() && (rest.front() == ':' || rest.front() == ' ' || rest.front() == '\t')) {
    rest.remove_prefix(1);
  }
  // "####\n42": take the next non-empty line.
  std::string_view line;
  while (true) {
    const size_t nl = rest.find('\n');
    line = core::TrimAsciiSpace(rest.substr(0, nl));
    if (!line.empty() || nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  while (!line.empty() && line.back() == '.') line.remove_suffix(1);
  line = core::TrimAsciiSpace(line);
  if (line.empty()) return std::nullopt;
  return std::string(line);
}

std::optional<double> FirstNumber(std::string_view answer) {
  for (size_t i = 0; i < answer.size(); ++i) {
    if (IsDigit(answer[i]) ||
        (answer[i] == '.' && i + 1 < answer.size() && IsDigit(answer[i + 1]))) {
      const bool negative = i > 0 && answer[i - 1] == '-';
      size_t j = i;
      auto v = ReadNumber(answer, &j);
      if (!v) return std::nullopt;
      return negative ? -*v : *v;
    }
  }
  return std::nullopt;
}

std::vector<double> NumbersIn(std::string_view text) {
  std::vector<double> out;
  size_t i = 0;
  while (i < text.size()) {
    const bool starts = IsDigit(text[i]) && (i == 0 || !IsDigit(text[i - 1]));
    if (starts) {
      size_t j = i;
      if (auto v = ReadNumber(text, &j)) {
        out.push_back(*v);
        i = std::max(j, i + 1);
        continue;
      }
    }
    ++i;
  }
  return out;
}

int DanglingResults(const std::vector<ArithmeticStep>& steps, std::optional<double> final_value) {
  auto same = [](double a, double b) {
    return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(a));
  };
  int dangling = 0;
  // Without a final answer the last step stands for it.
  const size_t counted = final_value || steps.empty() ? steps.size() : steps.size() - 1;
  for (size_t k = 0; k < counted; ++k) {
    const double r = steps[k].result;
    if (final_value && same(r, *final_value)) continue;
    bool used = false;
    for (size_t later = k + 1; later < steps.size() && !used; ++later) {
      for (double v : steps[later].operands) {
        if (same(r, v)) {
          used = true;
          break;
        }
      }
    }
    if (!used) ++dangling;
  }
  return dangling;
}

std::string AskedUnit(std::string_view prompt) {
  static constexpr std::string_view kNotUnits[] = {
      "more",  "less",       "fewer", "of",    "times",     "in",   "total", "does",  "did",
      "do",    "are",        "is",    "were",  "was",       "will", "can",   "would", "the",
      "extra", "additional", "each",  "other", "different", "many", "much",  "a",     "an"};
  const std::string lower = Lowercase(prompt);
  const size_t at = lower.rfind("how many ");
  if (at == std::string::npos) return "";
  size_t i = at + 9;
  size_t j = i;
  while (j < lower.size() && std::isalpha(static_cast<unsigned char>(lower[j]))) ++j;
  std::string word = lower.substr(i, j - i);
  if (word.size() < 2) return "";
  for (std::string_view n : kNotUnits) {
    if (word == n) return "";
  }
  return word;
}

int ForeignOperands(const std::vector<ArithmeticStep>& steps,
                    const std::vector<double>& prompt_numbers,
                    const std::vector<double>& prompt_word_values) {
  static constexpr double kConstants[] = {24, 30, 52, 60, 100, 365, 1000};
  auto same = [](double a, double b) {
    return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(a));
  };
  auto known = [&](double v, size_t step) {
    if (v >= 0 && v <= 12 && same(v, std::round(v))) return true;
    for (double c : kConstants) {
      if (same(v, c) || same(v, 1 / c)) return true;
    }
    for (double p : prompt_numbers) {
      if (same(v, p) || same(v, p / 100)) return true;
    }
    for (double p : prompt_word_values) {
      if (same(v, p) || same(v, 1 / p)) return true;
    }
    for (size_t k = 0; k < step; ++k) {
      if (same(v, steps[k].result)) return true;
    }
    return false;
  };
  int foreign = 0;
  for (size_t k = 0; k < steps.size(); ++k) {
    for (double v : steps[k].operands) {
      if (!known(v, k)) ++foreign;
    }
  }
  return foreign;
}

AnswerAnalysis AnalyzeAnswer(std::string_view prompt, std::string_view response) {
  AnswerAnalysis a;
  a.chars = static_cast<int>(response.size());
  const auto final_answer = FinalAnswer(response);
  a.has_final_answer = final_answer.has_value();
  std::optional<double> final_value;
  if (final_answer) final_value = FirstNumber(*final_answer);
  a.final_is_number = final_value.has_value();
  if (final_value) {
    a.final_is_integer = std::fabs(*final_value - std::round(*final_value)) < 1e-9;
    a.final_is_negative = *final_value < 0;
  }
  const ArithmeticCheck arith = CheckArithmetic(response);
  a.arithmetic_checked = arith.checked;
  a.arithmetic_wrong = arith.wrong;
  for (double r : arith.results) {
    if (std::fabs(r - std::round(r)) > 1e-9) ++a.fractional_results;
    if (r < 0) ++a.negative_results;
  }
  const std::vector<double> response_numbers = NumbersIn(response);
  if (final_value) {
    if (!arith.results.empty()) {
      a.final_matches_last_result = std::fabs(arith.results.back() - *final_value) < 1e-6;
    }
    int occurrences = 0;
    for (double v : response_numbers) {
      if (std::fabs(v - std::fabs(*final_value)) < 1e-6) ++occurrences;
    }
    a.final_in_body = occurrences >= 2;
  }
  const std::string_view trimmed = core::TrimAsciiSpace(response);
  if (!a.has_final_answer && !trimmed.empty()) {
    const char last = trimmed.back();
    const bool complete = last == '.' || last == '!' || last == '?' || last == ')' || last == ']' ||
                          last == '}' || last == '"' || last == '\'' || last == '*' ||
                          last == '`' || last == '%' || last == '$' || IsDigit(last);
    a.truncated = !complete;
  }
  if (trimmed.empty()) a.truncated = true;
  if (!a.has_final_answer && !trimmed.empty()) {
    const size_t nl = trimmed.rfind('\n');
    const std::string_view last_line =
        nl == std::string_view::npos ? trimmed : trimmed.substr(nl + 1);
    const std::vector<double> numbers = NumbersIn(last_line);
    if (!numbers.empty()) {
      a.implicit_final = true;
      if (!arith.steps.empty()) {
        const double r = arith.steps.back().result;
        a.implicit_matches_last_result =
            std::fabs(r - numbers.back()) <= 1e-6 * std::max(1.0, std::fabs(r));
      }
    }
  }

  const std::string lower = Lowercase(response);
  static constexpr const char* kHedges[] = {
      "approximately", "assume",       "assuming",
      "not sure",      "unclear",      "might ",
      "perhaps",       "probably",     "however",
      "cannot",        "can't",        "not possible",
      "impossible",    "wait",         "mistake",
      "actually",      "i think",      "seems",
      "estimate",      "round",        "not enough information",
      "ambiguous",     "let's assume", "incorrect",
      "re-evaluate",   "reconsider",   "typo"};
  for (const char* h : kHedges) {
    for (size_t p = lower.find(h); p != std::string::npos; p = lower.find(h, p + 1)) ++a.hedges;
  }

  std::unordered_set<std::string_view> seen_lines;
  size_t start = 0;
  while (start <= response.size()) {
    size_t nl = response.find('\n', start);
    if (nl == std::string_view::npos) nl = response.size();
    const std::string_view line = core::TrimAsciiSpace(response.substr(start, nl - start));
    if (!line.empty()) {
      ++a.lines;
      if (!seen_lines.insert(line).second) ++a.repeated_lines;
    }
    start = nl + 1;
  }

  std::vector<double> prompt_numbers = NumbersIn(prompt);
  std::sort(prompt_numbers.begin(), prompt_numbers.end());
  prompt_numbers.erase(std::unique(prompt_numbers.begin(), prompt_numbers.end()),
                       prompt_numbers.end());
  a.prompt_numbers = static_cast<int>(prompt_numbers.size());
  a.dangling_results = DanglingResults(arith.steps, final_value);
  if (final_value) {
    auto same = [&](double v) {
      return std::fabs(v - std::fabs(*final_value)) <= 1e-6 * std::max(1.0, std::fabs(v));
    };
    a.final_is_prompt_number = std::any_of(prompt_numbers.begin(), prompt_numbers.end(), same);
    const bool computed = std::any_of(arith.steps.begin(), arith.steps.end(),
                                      [&](const ArithmeticStep& st) { return same(st.result); });
    a.final_unexplained = !computed && !a.final_is_prompt_number;
  }
  if (final_value && !prompt_numbers.empty() && prompt_numbers.back() > 0) {
    a.final_to_prompt_max = std::fabs(*final_value) / prompt_numbers.back();
  }
  for (double p : prompt_numbers) {
    bool used = false;
    for (double v : response_numbers) {
      if (std::fabs(v - p) < 1e-9) {
        used = true;
        break;
      }
    }
    if (!used) ++a.unused_prompt_numbers;
  }
  struct NumberWord {
    const char* word;
    double value;
  };
  static constexpr NumberWord kNumberWords[] = {
      {"two", 2},     {"three", 3},     {"four", 4},    {"five", 5},    {"six", 6},
      {"seven", 7},   {"eight", 8},     {"nine", 9},    {"ten", 10},    {"eleven", 11},
      {"twelve", 12}, {"fifteen", 15},  {"twenty", 20}, {"thirty", 30}, {"forty", 40},
      {"fifty", 50},  {"hundred", 100}, {"dozen", 12},  {"twice", 2},   {"double", 2},
      {"triple", 3},  {"thrice", 3},    {"half", 2},    {"quarter", 4}, {"third", 3}};
  const std::string prompt_lower = Lowercase(prompt);
  std::vector<double> prompt_word_values;
  for (const auto& nw : kNumberWords) {
    const std::string_view word = nw.word;
    bool found = false;
    for (size_t p = prompt_lower.find(word); p != std::string::npos;
         p = prompt_lower.find(word, p + 1)) {
      const bool left = p == 0 || !std::isalpha(static_cast<unsigned char>(prompt_lower[p - 1]));
      const size_t end = p + word.size();
      const bool right = end >= prompt_lower.size() ||
                         !std::isalpha(static_cast<unsigned char>(prompt_lower[end])) ||
                         prompt_lower[end] == 's';
      if (left && right) {
        found = true;
        break;
      }
    }
    if (!found) continue;
    prompt_word_values.push_back(nw.value);
    bool used = false;
    for (double v : response_numbers) {
      if (std::fabs(v - nw.value) < 1e-9 || (nw.value == 2 && std::fabs(v - 0.5) < 1e-9) ||
          (nw.value == 4 && std::fabs(v - 0.25) < 1e-9)) {
        used = true;
        break;
      }
    }
    if (!used) ++a.unused_number_words;
  }
  a.foreign_operands = ForeignOperands(arith.steps, prompt_numbers, prompt_word_values);
  if (!arith.steps.empty()) {
    for (double p : prompt_numbers) {
      bool used = false;
      for (const ArithmeticStep& st : arith.steps) {
        for (double v : st.operands) {
          if (std::fabs(v - p) <= 1e-9 * std::max(1.0, std::fabs(p))) used = true;
        }
      }
      if (!used) ++a.prompt_numbers_not_operands;
    }
  }
  a.asked_unit = AskedUnit(prompt);
  if (!a.asked_unit.empty()) {
    // Stem: drop a plural "s" ("gallons" matches "gallon").
    std::string_view stem = a.asked_unit;
    if (stem.size() > 3 && stem.back() == 's') stem.remove_suffix(1);
    size_t cut = trimmed.size();
    for (int n = 0; n < 2 && cut != std::string_view::npos && cut > 0; ++n) {
      cut = trimmed.rfind('\n', cut - 1);
    }
    const std::string_view ending = cut == std::string_view::npos ? trimmed : trimmed.substr(cut);
    a.asked_unit_in_ending = Lowercase(ending).find(stem) != std::string::npos;
  }
  ExtraChecks(prompt_lower, prompt_numbers, lower, response, final_value, arith, &a);
  return a;
}

}  // namespace switchyard::routing
