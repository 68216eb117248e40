// Checks on a model's written answer, used as cascade features: is there a
// final answer, does the arithmetic it shows check out, does it look cut off or
// unsure. Heuristics for worked answers in English (maths word problems, short
// factual answers); each returns a plain value and never fails.
//
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::routing {

// Evaluates an arithmetic expression: numbers (with 1,000 separators), + - * / ^,
// the multiplication signs x X × ·, ÷, parentheses, postfix % (divides by 100)
// and a leading $ on numbers. nullopt when it is not such an expression or
// divides by zero.
std::optional<double> EvaluateArithmetic(std::string_view expr);

// One checked "a op b = c" statement.
struct ArithmeticStep {
  size_t position = 0;           // offset of its '=' in the text
  std::vector<double> operands;  // the numbers of the left side, in order
  double result = 0;             // c
  bool correct = true;           // c equals a op b at c's printed precision
};

struct ArithmeticCheck {
  int checked = 0;                    // "a op b = c" statements found and evaluated
  int wrong = 0;                      // of those, where c is not a op b (at c's printed precision)
  std::vector<double> results;        // the right-hand sides (annotations first, then prose)
  std::vector<ArithmeticStep> steps;  // every checked statement, in text order
};

// Finds "a op b = c" statements — calculator annotations like <<20*4=80>> and
// plain text like "0.25 x 16 = 4 students" — and verifies each. A right side is
// accepted when it equals the left side rounded to the decimals it is printed
// with (so "10 / 3 = 3.33" passes); "= 55%" also passes for 0.55. A left side
// must contain at least one operator between two numbers.
ArithmeticCheck CheckArithmetic(std::string_view text);

// The final answer the text states: the last of "#### X", "The answer is X",
// "Final answer: X", "Answer: X", "\boxed{X}" — the rest of that line, trimmed
// (without a trailing period). nullopt when none is present.
std::optional<std::string> FinalAnswer(std::string_view text);

// The first number in `answer` ("$1,200.50 dollars" -> 1200.5).
std::optional<double> FirstNumber(std::string_view answer);

// Every number written in `text`, in order (commas as thousands separators
// removed; a trailing period dropped).
std::vector<double> NumbersIn(std::string_view text);

struct AnswerAnalysis {
  bool has_final_answer = false;
  bool final_is_number = false;
  bool final_is_integer = false;
  bool final_is_negative = false;
  bool final_matches_last_result = false;  // equals the last "= c" it computed
  bool final_in_body = false;              // the number occurs before the final line
  bool truncated = false;                  // no final answer and it stops mid-sentence
  int arithmetic_checked = 0;
  int arithmetic_wrong = 0;
  int fractional_results = 0;      // "= c" results that are not whole numbers
  int negative_results = 0;        // "= c" results below zero
  double final_to_prompt_max = 0;  // |final| / largest prompt number (0 when either is missing)
  int hedges = 0;                  // hedging / self-doubt phrases
  int repeated_lines = 0;          // non-empty lines identical to an earlier one
  int lines = 0;                   // non-empty lines
  int chars = 0;
  int unused_prompt_numbers = 0;  // distinct numbers of the prompt never written in the answer
  int prompt_numbers = 0;         // distinct numbers in the prompt
  // Numbers the prompt spells out ("three", "twice", "a dozen") that the answer
  // never writes as digits.
  int unused_number_words = 0;
  // Steps whose result is never used again: not an operand of a later step
  // and not the final answer (without a final answer the last step is not
  // counted). A worked answer that computes something and then drops it often
  // took a wrong path.
  int dangling_results = 0;
  // The stated final number is one of the prompt's numbers (copied, not computed).
  bool final_is_prompt_number = false;
  // The stated final number is neither a computed result nor a prompt number.
  bool final_unexplained = false;
  // Without a final-answer marker: the last line states a number (its last
  // one), and whether that number is the last computed result.
  bool implicit_final = false;
  bool implicit_matches_last_result = false;
  // Operands of the steps that come from nowhere: not a prompt number (digits
  // or a number word), not an earlier result, not a common unit constant
  // (0-12, 24, 30, 52, 60, 100, 365, 1000 and their reciprocals).
  int foreign_operands = 0;
  // The unit the prompt asks for ("How many gallons ...": "gallons"; empty
  // when it asks no "how many <unit>" or the word is not a unit, e.g.
  // "more"), and whether its stem appears in the answer's last two lines.
  // Distinct prompt numbers that no step uses as an operand (0 when the
  // answer shows no checked step).
  int prompt_numbers_not_operands = 0;
  std::string asked_unit;
  bool asked_unit_in_ending = false;
  // Further plausibility checks (FeatureOptions::answer_extra_weight). The
  // "final number" is the stated one, or the implicit one of the last line.
  // The prompt asks "how many" and the final number is not whole.
  bool count_fraction = false;
  // |final| exceeds the product of the prompt's numbers above 1 (no chain of
  // the prompt's quantities reaches it), or is below 1/1000 of the smallest
  // positive prompt number.
  bool final_above_product = false;
  bool final_below_min = false;
  // Final-answer statements ("the answer is", "####", "Answer:", "\boxed{")
  // that state different numbers.
  int inconsistent_finals = 0;
  // Calculator annotations "<<a*b=c>>d" whose printed result d differs from c.
  int annotation_mismatches = 0;
  // Word 6-grams that occur 3 or more times (looping text).
  int looping_shingles = 0;
  // Checked steps minus (distinct prompt numbers - 1): far below zero means
  // fewer steps than the quantities given need.
  int steps_minus_needed = 0;
};

// The number of dangling results of `steps` (see AnswerAnalysis) given the
// stated final number (nullopt when there is none).
int DanglingResults(const std::vector<ArithmeticStep>& steps, std::optional<double> final_value);

// The word after the prompt's last "how many" when it names a unit
// ("How many gallons of tea" -> "gallons"), lower-cased; "" otherwise.
std::string AskedUnit(std::string_view prompt);

// The foreign operands of `steps` (see AnswerAnalysis) given the prompt's
// distinct numbers and the values of the number words it spells out.
int ForeignOperands(const std::vector<ArithmeticStep>& steps,
                    const std::vector<double>& prompt_numbers,
                    const std::vector<double>& prompt_word_values);

AnswerAnalysis AnalyzeAnswer(std::string_view prompt, std::string_view response);

}  // namespace switchyard::routing
