#include "routing/features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>

#include "core/ascii.h"
#include "routing/answer_checks.h"

namespace switchyard::routing {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

class Builder {
 public:
  Builder(int hash_bits, SparseVector* out)
      : mask_((hash_bits >= 31 ? 0x7fffffffU : (1U << hash_bits) - 1)), out_(out) {}

  void Add(std::string_view name, double value) {
    out_->emplace_back(static_cast<uint32_t>(Fnv(kFnvOffset, name) & mask_),
                       static_cast<float>(value));
    if (!conjoin_.empty() && conjoin_weight_ != 0) {
      out_->emplace_back(
          static_cast<uint32_t>(Fnv(Fnv(Fnv(kFnvOffset, conjoin_), "|"), name) & mask_),
          static_cast<float>(value * conjoin_weight_));
    }
  }
  // Also emit every feature added through Add/Bucket conjoined with `prefix`.
  void Conjoin(std::string_view prefix, double weight) {
    conjoin_ = prefix;
    conjoin_weight_ = weight;
  }
  void Add2(std::string_view prefix, std::string_view name, double value) {
    out_->emplace_back(static_cast<uint32_t>(Fnv(Fnv(kFnvOffset, prefix), name) & mask_),
                       static_cast<float>(value));
  }
  // A one-hot bucket "<name>=<bucket>".
  void Bucket(std::string_view name, int bucket, double value) {
    char buf[16];
    const int n = std::snprintf(buf, sizeof buf, "=%d", bucket);
    std::string full(name);
    full.append(buf, static_cast<size_t>(n));
    Add(full, value);
  }

 private:
  uint32_t mask_;
  SparseVector* out_;
  std::string conjoin_;
  double conjoin_weight_ = 0;
};

// Scales entries [from, end) to unit L2 norm times `weight` (binary presence:
// duplicates are merged later by summation, so dedupe names first).
void Normalise(SparseVector* v, size_t from, double weight) {
  if (from >= v->size()) return;
  std::sort(v->begin() + static_cast<std::ptrdiff_t>(from), v->end());
  // Merge duplicate indices to presence 1.
  size_t w = from;
  for (size_t r = from; r < v->size(); ++r) {
    if (w > from && (*v)[w - 1].first == (*v)[r].first) continue;
    (*v)[w++] = {(*v)[r].first, 1.0f};
  }
  v->resize(w);
  const double norm = std::sqrt(static_cast<double>(w - from));
  for (size_t i = from; i < w; ++i) (*v)[i].second = static_cast<float>(weight / norm);
}

// Lower-cases `text` into `*lower` and returns views of its words: runs of
// letters/digits (and UTF-8 bytes), and each other non-space character alone.
std::vector<std::string_view> Words(std::string_view text, std::string* lower) {
  lower->resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    (*lower)[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  }
  const std::string_view t(*lower);
  std::vector<std::string_view> words;
  words.reserve(t.size() / 4 + 1);
  size_t i = 0;
  while (i < t.size()) {
    const unsigned char c = static_cast<unsigned char>(t[i]);
    if (std::isalnum(c) || c >= 0x80) {
      size_t j = i;
      while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) ||
                              static_cast<unsigned char>(t[j]) >= 0x80)) {
        ++j;
      }
      words.push_back(t.substr(i, j - i));
      i = j;
    } else {
      if (!std::isspace(c)) words.push_back(t.substr(i, 1));
      ++i;
    }
  }
  return words;
}

// Adds word n-grams 1..max_n of `words` as "<p1>w" and "<p2>w1 w2 ..." (hashed
// by streaming, no string per n-gram).
void AddWordNgrams(const std::vector<std::string_view>& words, int max_n, std::string_view p1,
                   std::string_view p2, uint32_t mask, SparseVector* out) {
  const uint64_t h1 = Fnv(kFnvOffset, p1);
  const uint64_t h2 = Fnv(kFnvOffset, p2);
  for (size_t i = 0; i < words.size(); ++i) {
    out->emplace_back(static_cast<uint32_t>(Fnv(h1, words[i]) & mask), 1.0f);
    uint64_t h = Fnv(h2, words[i]);
    for (int n = 2; n <= max_n && i + n <= words.size(); ++n) {
      h = Fnv(Fnv(h, " "), words[i + n - 1]);
      out->emplace_back(static_cast<uint32_t>(h & mask), 1.0f);
    }
  }
}

uint32_t Mask(int hash_bits) {
  return hash_bits >= 31 ? 0x7fffffffU : (1U << hash_bits) - 1;
}

int LogBucket(double v) {
  return v <= 0 ? 0 : 1 + static_cast<int>(std::floor(std::log2(v)));
}

int CountOf(std::string_view text, std::string_view needle) {
  int n = 0;
  for (size_t p = text.find(needle); p != std::string_view::npos; p = text.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

bool Contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

// A multiple-choice option line: "A. ..." to "D. ..." (or "A) ...").
bool IsOptionLine(std::string_view line) {
  return line.size() >= 2 && line[0] >= 'A' && line[0] <= 'D' && (line[1] == '.' || line[1] == ')');
}

// Calls fn(line, offset) for each option line of `text`, in order; stops
// early when fn returns false.
template <typename Fn>
void ForEachOptionLine(std::string_view text, Fn fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(start, nl - start);
    if (IsOptionLine(line) && !fn(line, start)) return;
    start = nl + 1;
  }
}

// Length, numbers, question marks, code, LaTeX, multiple-choice structure.
void StructureFeatures(std::string_view prompt, double weight, Builder& b) {
  if (weight == 0) return;
  const double chars = static_cast<double>(prompt.size());
  b.Add("p:log_chars", weight * std::log1p(chars) / 8);
  b.Bucket("p:chars", LogBucket(chars / 16), weight);
  const auto numbers = NumbersIn(prompt);
  b.Bucket("p:numbers", LogBucket(static_cast<double>(numbers.size())), weight);
  b.Add("p:log_numbers", weight * std::log1p(static_cast<double>(numbers.size())) / 3);
  b.Bucket("p:questions", std::min(CountOf(prompt, "?"), 3), weight);
  int digits = 0, upper = 0, ops = 0;
  for (char c : prompt) {
    if (c >= '0' && c <= '9') ++digits;
    if (c >= 'A' && c <= 'Z') ++upper;
    if (c == '+' || c == '*' || c == '/' || c == '^' || c == '=' || c == '<' || c == '>') ++ops;
  }
  if (chars > 0) {
    b.Add("p:digit_share", weight * digits / chars * 4);
    b.Add("p:upper_share", weight * upper / chars * 4);
  }
  b.Bucket("p:ops", LogBucket(ops), weight);
  const bool code = Contains(prompt, "```") || Contains(prompt, "def ") ||
                    Contains(prompt, "#include") || Contains(prompt, "){") ||
                    Contains(prompt, ";\n") || Contains(prompt, "return ") ||
                    Contains(prompt, "print(") || Contains(prompt, "function ");
  if (code) b.Add("p:code", weight);
  const bool latex = CountOf(prompt, "$") >= 2 || Contains(prompt, "\\frac") ||
                     Contains(prompt, "\\(") || Contains(prompt, "^{") ||
                     Contains(prompt, "\\sqrt");
  if (latex) b.Add("p:latex", weight);
  // Multiple choice: lines "A. ...", "B. ..." (or "(A) ...").
  int options = 0;
  int numeric_options = 0;
  double option_chars = 0;
  ForEachOptionLine(prompt, [&](std::string_view line, size_t) {
    ++options;
    std::string_view body = line.substr(2);
    option_chars += static_cast<double>(body.size());
    if (!NumbersIn(body).empty()) ++numeric_options;
    return true;
  });
  if (options >= 2) {
    b.Add("p:options", weight);
    b.Bucket("p:option_chars", LogBucket(option_chars / options), weight);
    if (numeric_options == options) b.Add("p:numeric_options", weight);
  }
  const std::string lower = [&] {
    std::string s(prompt);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }();
  // Vocabulary: long (technical) words and capitalised names mid-sentence.
  {
    int words = 0, long_words = 0, names = 0;
    double letters = 0;
    size_t i = 0;
    char prev = '.';
    while (i < prompt.size()) {
      if (!std::isalpha(static_cast<unsigned char>(prompt[i]))) {
        if (prompt[i] != ' ') prev = prompt[i];
        ++i;
        continue;
      }
      size_t j = i;
      while (j < prompt.size() && std::isalpha(static_cast<unsigned char>(prompt[j]))) ++j;
      const size_t len = j - i;
      ++words;
      letters += static_cast<double>(len);
      if (len >= 10) ++long_words;
      if (std::isupper(static_cast<unsigned char>(prompt[i])) && prev != '.' && prev != '\n' &&
          prev != '?' && prev != ':' && len > 1) {
        ++names;
      }
      prev = 'a';
      i = j;
    }
    if (words > 0) {
      b.Bucket("p:word_len", static_cast<int>(std::min(10.0, letters / words * 1.5)), weight);
      b.Bucket("p:long_words", std::min(LogBucket(long_words), 5), weight);
      b.Bucket("p:names", std::min(LogBucket(names), 5), weight);
    }
  }
  if (Contains(prompt, "Statement 1")) b.Add("p:statements", weight);
  if (Contains(prompt, " NOT ") || Contains(prompt, "EXCEPT") || Contains(prompt, "LEAST")) {
    b.Add("p:negation", weight);
  }
  if (Contains(lower, "all of the above") || Contains(lower, "none of the above") ||
      Contains(lower, "both ")) {
    b.Add("p:above", weight);
  }
  if (Contains(lower, "which of the following")) b.Add("p:which_following", weight);
  if (Contains(prompt, "___")) b.Add("p:blank", weight);
  if (Contains(lower, "calculate") || Contains(lower, "compute") || Contains(lower, "how many") ||
      Contains(lower, "how much") || Contains(lower, "what is the value")) {
    b.Add("p:compute", weight);
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A roman-numeral combination option: "I and II only", "II, III", "I only".
bool IsRomanCombination(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && body[i] == ' ') ++i;
  size_t j = i;
  while (j < body.size() && (body[j] == 'I' || body[j] == 'V')) ++j;
  if (j == i || j - i > 3) return false;
  return j == body.size() || body[j] == ' ' || body[j] == ',' || body[j] == '.';
}

// Lower-cased words (letters and digits) of `text`, as a sorted unique set.
std::vector<std::string> WordSet(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c)) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The offset of the first "A. ..." to "D. ..." line (npos when none).
size_t FirstOptionLine(std::string_view prompt) {
  size_t first = std::string_view::npos;
  ForEachOptionLine(prompt, [&](std::string_view, size_t offset) {
    first = offset;
    return false;
  });
  return first;
}

// Features of the multiple-choice options ("A. ..." to "D. ..." lines).
void OptionFeatures(std::string_view prompt, double weight, Builder& b) {
  if (weight == 0) return;
  std::vector<std::string_view> bodies;
  size_t first_option = std::string_view::npos;
  ForEachOptionLine(prompt, [&](std::string_view line, size_t offset) {
    if (first_option == std::string_view::npos) first_option = offset;
    std::string_view body = line.substr(2);
    while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
    bodies.push_back(body);
    return true;
  });
  if (bodies.size() < 2) {
    b.Add("o:none", weight);
    return;
  }
  int roman = 0, above = 0, yes_no = 0, true_false = 0, units = 0, formula = 0;
  double words = 0, option_chars = 0;
  std::vector<double> lengths;
  std::vector<std::vector<std::string>> sets;
  for (std::string_view body : bodies) {
    std::string lower(body);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (IsRomanCombination(body)) ++roman;
    if (StartsWith(lower, "all of the") || StartsWith(lower, "none of the") ||
        StartsWith(lower, "both ") || StartsWith(lower, "neither ") ||
        StartsWith(lower, "all the above")) {
      ++above;
    }
    if (StartsWith(lower, "yes") || StartsWith(lower, "no,") || StartsWith(lower, "no ") ||
        lower == "no") {
      ++yes_no;
    }
    if (StartsWith(lower, "true") || StartsWith(lower, "false")) ++true_false;
    // A number followed by a unit or percent ("5 m/s", "12%", "3.2 kg").
    for (size_t i = 0; i + 1 < body.size(); ++i) {
      if (body[i] >= '0' && body[i] <= '9' && !(body[i + 1] >= '0' && body[i + 1] <= '9') &&
          body[i + 1] != '.' && body[i + 1] != ',') {
        size_t j = i + 1;
        if (j < body.size() && body[j] == ' ') ++j;
        if (j < body.size() && (std::isalpha(static_cast<unsigned char>(body[j])) ||
                                body[j] == '%' || static_cast<unsigned char>(body[j]) >= 0x80)) {
          ++units;
          break;
        }
      }
    }
    if (body.find('=') != std::string_view::npos || body.find('^') != std::string_view::npos ||
        body.find("sqrt") != std::string_view::npos || body.find('\\') != std::string_view::npos) {
      ++formula;
    }
    auto set = WordSet(body);
    words += static_cast<double>(set.size());
    option_chars += static_cast<double>(body.size());
    lengths.push_back(static_cast<double>(body.size()));
    sets.push_back(std::move(set));
  }
  const double n = static_cast<double>(bodies.size());
  if (roman * 2 >= static_cast<int>(bodies.size())) b.Add("o:roman", weight);
  if (above > 0) b.Add("o:above_option", weight);
  if (yes_no * 2 >= static_cast<int>(bodies.size())) b.Add("o:yes_no", weight);
  if (true_false * 2 >= static_cast<int>(bodies.size())) b.Add("o:true_false", weight);
  if (units * 2 >= static_cast<int>(bodies.size())) b.Add("o:units", weight);
  if (formula * 2 >= static_cast<int>(bodies.size())) b.Add("o:formula", weight);
  std::sort(lengths.begin(), lengths.end());
  b.Bucket(
      "o:len_spread",
      std::clamp(static_cast<int>(std::log2((lengths.back() + 1) / (lengths.front() + 1))), 0, 5),
      weight);
  if (lengths.size() >= 2 && lengths.back() > 1.5 * lengths[lengths.size() - 2] + 5) {
    b.Add("o:longest_stands_out", weight);
  }
  const double mean_words = words / n;
  b.Bucket("o:words",
           mean_words <= 1    ? 0
           : mean_words <= 3  ? 1
           : mean_words <= 7  ? 2
           : mean_words <= 15 ? 3
                              : 4,
           weight);
  // Mean pairwise Jaccard overlap of the options' word sets.
  double overlap = 0;
  int pairs = 0;
  for (size_t i = 0; i < sets.size(); ++i) {
    for (size_t j = i + 1; j < sets.size(); ++j) {
      std::vector<std::string> common;
      std::set_intersection(sets[i].begin(), sets[i].end(), sets[j].begin(), sets[j].end(),
                            std::back_inserter(common));
      const double uni = static_cast<double>(sets[i].size() + sets[j].size() - common.size());
      overlap += uni > 0 ? static_cast<double>(common.size()) / uni : 0;
      ++pairs;
    }
  }
  if (pairs > 0)
    b.Bucket("o:overlap", static_cast<int>(std::min(4.0, overlap / pairs * 5)), weight);
  const double stem_chars = static_cast<double>(first_option);
  b.Bucket(
      "o:stem_ratio",
      std::clamp(static_cast<int>(std::floor(std::log2((stem_chars + 1) / (option_chars + 1)))), -4,
                 5),
      weight);
  std::string_view stem = core::TrimAsciiSpace(prompt.substr(0, first_option));
  if (!stem.empty()) b.Add(stem.back() == '?' ? "o:stem_question" : "o:stem_statement", weight);
}

void PromptFeatures(const FeatureOptions& o, const RouterInput& in, double scale,
                    SparseVector* out) {
  Builder b(o.hash_bits, out);
  if (o.word_ngrams > 0 && o.word_weight * scale != 0) {
    // With option_words_weight, the words of the answer options are their own
    // group ("ow:"), the stem keeps "w:".
    const size_t options_at =
        o.option_words_weight != 0 ? FirstOptionLine(in.prompt) : std::string_view::npos;
    const std::string_view stem = in.prompt.substr(0, options_at);
    const size_t from = out->size();
    std::string lower;
    AddWordNgrams(Words(stem, &lower), o.word_ngrams, "w:", "w2:", Mask(o.hash_bits), out);
    Normalise(out, from, o.word_weight * scale);
    if (options_at != std::string_view::npos) {
      const size_t from_options = out->size();
      AddWordNgrams(Words(in.prompt.substr(options_at), &lower), o.word_ngrams,
                    "ow:", "ow2:", Mask(o.hash_bits), out);
      Normalise(out, from_options, o.option_words_weight * scale);
    }
  }
  if (o.char_ngram_min > 0 && o.char_ngram_max >= o.char_ngram_min && o.char_weight * scale != 0) {
    const size_t from = out->size();
    std::string text = " ";
    for (char ch : in.prompt) {
      const unsigned char c = static_cast<unsigned char>(ch);
      if (std::isspace(c)) {
        if (text.back() != ' ') text.push_back(' ');
      } else {
        text.push_back(static_cast<char>(std::tolower(c)));
      }
    }
    if (text.back() != ' ') text.push_back(' ');
    const std::string_view tv(text);
    for (size_t i = 0; i < tv.size(); ++i) {
      for (int n = o.char_ngram_min; n <= o.char_ngram_max && i + n <= tv.size(); ++n) {
        b.Add2("c:", tv.substr(i, static_cast<size_t>(n)), 1);
      }
    }
    Normalise(out, from, o.char_weight * scale);
  }
  if (in.subject && !in.subject->empty() && o.subject_weight != 0) {
    b.Add2("subj:", *in.subject, o.subject_weight * scale);
  }
  std::string subject_key;
  if (in.subject && !in.subject->empty() && o.subject_structure_weight != 0 &&
      o.structure_weight != 0) {
    subject_key = "subj:" + std::string(*in.subject);
    b.Conjoin(subject_key, o.subject_structure_weight / o.structure_weight);
  }
  StructureFeatures(in.prompt, o.structure_weight * scale, b);
  b.Conjoin("", 0);
  OptionFeatures(in.prompt, o.option_weight * scale, b);
}

void LogprobFeatures(std::span<const double> lp, double w, Builder& b) {
  if (lp.empty()) return;
  double sum = 0, min = 0, below1 = 0, below23 = 0;
  for (double v : lp) {
    sum += v;
    min = std::min(min, v);
    if (v < -1) ++below1;
    if (v < -2.3) ++below23;
  }
  const double n = static_cast<double>(lp.size());
  const double mean = sum / n;
  size_t tail_n = std::min<size_t>(lp.size(), 20);
  double tail = 0;
  for (size_t i = lp.size() - tail_n; i < lp.size(); ++i) tail += lp[i];
  tail /= static_cast<double>(tail_n);
  b.Add("a:lp_present", w);
  b.Add("a:lp_mean", w * std::max(mean, -5.0) / 2);
  b.Add("a:lp_min", w * std::max(min, -20.0) / 10);
  b.Add("a:lp_tail_mean", w * std::max(tail, -5.0) / 2);
  b.Add("a:lp_below1", w * below1 / n * 4);
  b.Add("a:lp_below23", w * below23 / n * 4);
  b.Bucket("a:lp_mean_b", static_cast<int>(std::min(8.0, -mean * 8)), w);
  b.Bucket("a:lp_min_b", static_cast<int>(std::min(10.0, -min)), w);
}

void AnswerFeatures(const FeatureOptions& o, const RouterInput& in, SparseVector* out) {
  Builder b(o.hash_bits, out);
  const std::string_view response = *in.weak_response;
  const double w = o.answer_weight;
  if (w != 0) {
    const AnswerAnalysis a = AnalyzeAnswer(in.prompt, response);
    b.Add(a.has_final_answer ? "a:final" : "a:no_final", w);
    if (a.has_final_answer) {
      b.Add(a.final_is_number ? "a:final_number" : "a:final_not_number", w);
      if (a.final_is_number) {
        b.Add(a.final_is_integer ? "a:final_integer" : "a:final_fraction", w);
        if (a.final_is_negative) b.Add("a:final_negative", w);
        b.Add(a.final_matches_last_result ? "a:final_is_last_result" : "a:final_not_last_result",
              w);
        if (!a.final_in_body) b.Add("a:final_not_in_body", w);
      }
    }
    if (a.truncated) b.Add("a:truncated", w);
    if (a.dangling_results > 0) b.Bucket("a:dangling", std::min(a.dangling_results, 3), w);
    if (a.final_is_prompt_number) b.Add("a:final_is_prompt_number", w);
    if (a.final_unexplained) b.Add("a:final_unexplained", w);
    if (a.foreign_operands > 0) b.Bucket("a:foreign_operands", std::min(a.foreign_operands, 3), w);
    if (a.arithmetic_checked > 0) {
      b.Bucket("a:prompt_not_operands", std::min(a.prompt_numbers_not_operands, 3), w);
    }
    if (!a.asked_unit.empty()) {
      b.Add(a.asked_unit_in_ending ? "a:asked_unit_in_ending" : "a:asked_unit_missing", w);
    }
    if (a.implicit_final) {
      b.Add(a.implicit_matches_last_result ? "a:implicit_final_is_last_result"
                                           : "a:implicit_final_other",
            w);
    }
    b.Bucket("a:arith_checked", std::min(a.arithmetic_checked, 8), w);
    if (a.arithmetic_checked == 0) b.Add("a:no_arith", w);
    if (a.arithmetic_wrong > 0) {
      b.Add("a:arith_wrong", w);
      b.Bucket("a:arith_wrong_n", std::min(a.arithmetic_wrong, 3), w);
      if (a.arithmetic_checked > 0) {
        b.Add("a:arith_wrong_share", w * a.arithmetic_wrong / a.arithmetic_checked);
      }
    }
    if (a.fractional_results > 0) {
      b.Bucket("a:fractional_results", std::min(a.fractional_results, 3), w);
    }
    if (a.negative_results > 0) b.Add("a:negative_results", w);
    if (a.final_to_prompt_max > 0) {
      b.Bucket(
          "a:final_vs_prompt",
          std::clamp(static_cast<int>(std::floor(std::log10(a.final_to_prompt_max) * 2)), -6, 6),
          w);
    }
    b.Bucket("a:hedges", std::min(a.hedges, 3), w);
    if (a.repeated_lines > 0) b.Bucket("a:repeated_lines", std::min(a.repeated_lines, 3), w);
    b.Bucket("a:lines", LogBucket(a.lines), w);
    b.Bucket("a:chars", LogBucket(a.chars / 32.0), w);
    b.Add("a:log_chars", w * std::log1p(a.chars) / 8);
    b.Bucket("a:unused_prompt_numbers", std::min(a.unused_prompt_numbers, 3), w);
    if (a.unused_number_words > 0) {
      b.Bucket("a:unused_number_words", std::min(a.unused_number_words, 2), w);
    }
    if (a.prompt_numbers > 0) {
      b.Add("a:unused_share", w * a.unused_prompt_numbers / a.prompt_numbers);
    }
    // Length of the answer relative to the prompt.
    const double ratio = (a.chars + 1.0) / (static_cast<double>(in.prompt.size()) + 1.0);
    b.Bucket("a:len_ratio", std::clamp(static_cast<int>(std::floor(std::log2(ratio) * 2)), -4, 8),
             w);
    LogprobFeatures(in.weak_logprobs, w, b);
    const double x = o.answer_extra_weight;
    if (x != 0) {
      if (a.count_fraction) b.Add("a2:count_fraction", x);
      if (a.final_above_product) b.Add("a2:final_above_product", x);
      if (a.final_below_min) b.Add("a2:final_below_min", x);
      if (a.inconsistent_finals > 0) {
        b.Bucket("a2:inconsistent_finals", std::min(a.inconsistent_finals, 2), x);
      }
      if (a.annotation_mismatches > 0) b.Add("a2:annotation_mismatch", x);
      if (a.looping_shingles > 0)
        b.Bucket("a2:looping", std::min(LogBucket(a.looping_shingles), 3), x);
      b.Bucket("a2:steps_minus_needed", std::clamp(a.steps_minus_needed, -3, 3), x);
    }
  }
  if (o.answer_words_weight != 0) {
    const size_t from = out->size();
    std::string lower;
    AddWordNgrams(Words(response, &lower), o.answer_word_ngrams, "rw:", "rw2:", Mask(o.hash_bits),
                  out);
    Normalise(out, from, o.answer_words_weight);
  }
  if (o.answer_tail_words_weight != 0) {
    // The last two non-empty lines: the conclusion and the stated answer.
    std::string_view tail = core::TrimAsciiSpace(response);
    size_t cut = tail.size();
    for (int n = 0; n < 2 && cut != std::string_view::npos && cut > 0; ++n) {
      cut = tail.rfind('\n', cut - 1);
    }
    if (cut != std::string_view::npos) tail = tail.substr(cut + 1);
    const size_t from = out->size();
    std::string lower;
    AddWordNgrams(Words(tail, &lower), o.answer_word_ngrams, "rt:", "rt2:", Mask(o.hash_bits), out);
    Normalise(out, from, o.answer_tail_words_weight);
  }
}

}  // namespace

uint32_t FeatureIndex(std::string_view name, int hash_bits) {
  const uint32_t mask = hash_bits >= 31 ? 0x7fffffffU : (1U << hash_bits) - 1;
  return static_cast<uint32_t>(Fnv(kFnvOffset, name) & mask);
}

SparseVector ExtractFeatures(RouterKind kind, const FeatureOptions& options,
                             const RouterInput& input) {
  SparseVector out;
  out.reserve(256);
  const double prompt_scale = kind == RouterKind::kCascade ? options.cascade_prompt_weight : 1.0;
  if (prompt_scale != 0) PromptFeatures(options, input, prompt_scale, &out);
  if (kind == RouterKind::kCascade && input.weak_response) AnswerFeatures(options, input, &out);
  // Sort and sum duplicates (hash collisions between groups add up).
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t w = 0;
  for (size_t r = 0; r < out.size(); ++r) {
    if (w > 0 && out[w - 1].first == out[r].first) {
      out[w - 1].second += out[r].second;
    } else {
      out[w++] = out[r];
    }
  }
  out.resize(w);
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& p) { return p.second == 0; }),
            out.end());
  return out;
}

}  // namespace switchyard::routing
