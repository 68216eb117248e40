#include "routing/answer_checks.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace switchyard::routing {
namespace {

TEST(EvaluateArithmeticTest, OperatorsAndNotation) {
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("20*4"), 80);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("2 + 3 * 4"), 14);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("(2 + 3) * 4"), 20);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("20 x 4"), 80);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("20 \xC3\x97 4"), 80);  // ×
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("12 \xC3\xB7 4"), 3);   // ÷
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("$1,200 - $200"), 1000);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("25% * 16"), 4);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("2^3 - 1"), 7);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("-3 + 5"), 2);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic("3(4 + 1)"), 15);
  EXPECT_DOUBLE_EQ(*EvaluateArithmetic(".5 * 30"), 15);
  EXPECT_FALSE(EvaluateArithmetic("1 / 0").has_value());
  EXPECT_FALSE(EvaluateArithmetic("3 + ").has_value());
  EXPECT_FALSE(EvaluateArithmetic("apples + 2").has_value());
  EXPECT_FALSE(EvaluateArithmetic("(2 + 3").has_value());
}

TEST(CheckArithmeticTest, CalculatorAnnotationsAreCheckedOnce) {
  const auto c = CheckArithmetic(
      "Charleston has 20 x 4 = <<20*4=80>>80 sheep.\n"
      "Toulouse has 80 x 2 = <<80*2=150>>150 sheep.\n#### 230");
  EXPECT_EQ(c.checked, 2);
  EXPECT_EQ(c.wrong, 1);
  ASSERT_EQ(c.results.size(), 2u);
  EXPECT_DOUBLE_EQ(c.results[1], 150);
}

TEST(CheckArithmeticTest, PlainTextStatements) {
  const auto c = CheckArithmetic(
      "20% of the 20 students is 0.2 x 20 = 4 students. That leaves 20 - 4 = 16.\n"
      "To get the share: (12 / 20) x 100 = 55%.");
  EXPECT_EQ(c.checked, 3);
  EXPECT_EQ(c.wrong, 1);  // (12 / 20) x 100 is 60
}

TEST(CheckArithmeticTest, RoundingAtPrintedPrecisionAndPercent) {
  EXPECT_EQ(CheckArithmetic("10 / 3 = 3.33").wrong, 0);
  EXPECT_EQ(CheckArithmetic("10 / 3 = 3.3").wrong, 0);
  EXPECT_EQ(CheckArithmetic("10 / 3 = 3.5").wrong, 1);
  EXPECT_EQ(CheckArithmetic("12 / 20 = 60%").wrong, 0);
  EXPECT_EQ(CheckArithmetic("3 * $1.50 = $4.50").wrong, 0);
  EXPECT_EQ(CheckArithmetic("1,000 + 250 = 1,250").wrong, 0);
  EXPECT_EQ(CheckArithmetic("5 - 8 = -3").wrong, 0);
  // Markdown-escaped multiplication.
  const auto md = CheckArithmetic("8 / 4 \\* 3 = 7");
  EXPECT_EQ(md.checked, 1);
  EXPECT_EQ(md.wrong, 1);
}

TEST(CheckArithmeticTest, IgnoresWhatIsNotArithmetic) {
  EXPECT_EQ(CheckArithmetic("Let x = 5 and y = x + 2.").checked, 0);
  EXPECT_EQ(CheckArithmetic("So the total = 80 sheep").checked, 0);
  EXPECT_EQ(CheckArithmetic("if a == 3 then b >= 4").checked, 0);
  // Words before the expression are dropped; the statement itself is checked.
  const auto c = CheckArithmetic("Step 2. 3 + 4 = 7");
  EXPECT_EQ(c.checked, 1);
  EXPECT_EQ(c.wrong, 0);
}

TEST(FinalAnswerTest, Markers) {
  EXPECT_EQ(*FinalAnswer("so 3 + 4 = 7\n#### 7\n\n"), "7");
  EXPECT_EQ(*FinalAnswer("Thus the answer is $1,250."), "$1,250");
  EXPECT_EQ(*FinalAnswer("... Final answer: 42 apples"), "42 apples");
  EXPECT_EQ(*FinalAnswer("We get \\boxed{\\frac{1}{2}} in the end"), "\\frac{1}{2}");
  EXPECT_EQ(*FinalAnswer("####\n  18\n"), "18");
  EXPECT_EQ(*FinalAnswer("The answer is 3. Wait, no.\n#### 4"), "4");  // the last one wins
  EXPECT_FALSE(
      FinalAnswer("He has 4 apples, so we can set up the following equation:").has_value());
  EXPECT_FALSE(FinalAnswer("#### \n").has_value());
}

TEST(NumbersTest, FirstNumberAndNumbersIn) {
  EXPECT_DOUBLE_EQ(*FirstNumber("$1,200.50 dollars"), 1200.5);
  EXPECT_DOUBLE_EQ(*FirstNumber("-3 degrees"), -3);
  EXPECT_FALSE(FirstNumber("none").has_value());
  const auto v = NumbersIn("He bought 3 pens for $1,250.5, then 12.");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_DOUBLE_EQ(v[0], 3);
  EXPECT_DOUBLE_EQ(v[1], 1250.5);
  EXPECT_DOUBLE_EQ(v[2], 12);
}

TEST(AnalyzeAnswerTest, WorkedAnswer) {
  const auto a = AnalyzeAnswer(
      "Seattle has 20 sheep and Charleston 4 times as many. How many in total?",
      " Charleston has 20 x 4 = <<20*4=80>>80 sheep.\nTogether 20 + 80 = <<20+80=100>>100.\n"
      "#### 100\n");
  EXPECT_TRUE(a.has_final_answer);
  EXPECT_TRUE(a.final_is_number);
  EXPECT_TRUE(a.final_is_integer);
  EXPECT_FALSE(a.final_is_negative);
  EXPECT_TRUE(a.final_matches_last_result);
  EXPECT_TRUE(a.final_in_body);
  EXPECT_FALSE(a.truncated);
  EXPECT_EQ(a.arithmetic_checked, 2);
  EXPECT_EQ(a.arithmetic_wrong, 0);
  EXPECT_EQ(a.unused_prompt_numbers, 0);
  EXPECT_EQ(a.prompt_numbers, 2);
  EXPECT_EQ(a.lines, 3);
  EXPECT_EQ(a.repeated_lines, 0);
}

TEST(AnalyzeAnswerTest, TruncatedHedgingRepeated) {
  const auto a = AnalyzeAnswer("A train goes 60 mph for 3 hours and 15 minutes.",
                               "Let's assume the speed is constant.\nWe need more steps.\n"
                               "We need more steps.\nSo we can set up the following");
  EXPECT_FALSE(a.has_final_answer);
  EXPECT_TRUE(a.truncated);
  EXPECT_EQ(a.hedges, 2);  // "assume" and "let's assume"
  EXPECT_EQ(a.repeated_lines, 1);
  EXPECT_EQ(a.unused_prompt_numbers, 3);
  EXPECT_EQ(a.arithmetic_checked, 0);
}

TEST(AnalyzeAnswerTest, FractionalFinalAnswer) {
  const auto a = AnalyzeAnswer("Share 10 cookies among 4 kids.", "10 / 4 = 2.5\n#### 2.5");
  EXPECT_TRUE(a.final_is_number);
  EXPECT_FALSE(a.final_is_integer);
  EXPECT_TRUE(a.final_matches_last_result);
  EXPECT_FALSE(a.truncated);
  EXPECT_EQ(a.fractional_results, 1);
  EXPECT_DOUBLE_EQ(a.final_to_prompt_max, 0.25);
}

TEST(AnalyzeAnswerTest, NumberWordsAndNegativeResults) {
  const auto a = AnalyzeAnswer("Farm Y has 45 goats; he sold twice as many as three dozen.",
                               "45 - 90 = -45 goats are left.\n#### -45");
  EXPECT_EQ(a.negative_results, 1);
  EXPECT_TRUE(a.final_is_negative);
  // "twice" (2), "three" (3) and "dozen" (12) never appear as digits.
  EXPECT_EQ(a.unused_number_words, 3);
}

TEST(CheckArithmeticTest, StepsInTextOrderWithOperands) {
  // A prose statement first, then an annotation, then prose again: the steps
  // come back in text order although annotations are read in a first pass.
  const auto c = CheckArithmetic(
      "First 3 + 4 = 7 apples.\nThen 7 * 2 = <<7*2=14>>14.\nFinally 14 - 5 = 10.\n");
  ASSERT_EQ(c.steps.size(), 3u);
  EXPECT_DOUBLE_EQ(c.steps[0].result, 7);
  EXPECT_DOUBLE_EQ(c.steps[1].result, 14);
  EXPECT_DOUBLE_EQ(c.steps[2].result, 10);
  EXPECT_EQ(c.steps[0].operands, (std::vector<double>{3, 4}));
  EXPECT_EQ(c.steps[1].operands, (std::vector<double>{7, 2}));
  EXPECT_TRUE(c.steps[0].correct);
  EXPECT_TRUE(c.steps[1].correct);
  EXPECT_FALSE(c.steps[2].correct);  // 14 - 5 is 9
  EXPECT_LT(c.steps[0].position, c.steps[1].position);
  EXPECT_LT(c.steps[1].position, c.steps[2].position);
  // "First 3 + 4 = " puts the '=' at offset 12.
  EXPECT_EQ(c.steps[0].position, 12u);
}

TEST(DanglingResultsTest, ResultsNeverUsedAgain) {
  auto step = [](std::vector<double> operands, double result) {
    ArithmeticStep s;
    s.operands = std::move(operands);
    s.result = result;
    return s;
  };
  // 36/6=6 and 24/8=3, then the answer is 6: the 3 is dropped.
  const std::vector<ArithmeticStep> tulips = {step({36, 6}, 6), step({24, 8}, 3)};
  EXPECT_EQ(DanglingResults(tulips, 6.0), 1);
  // Both used by a final sum: none dangling. The last step never counts.
  const std::vector<ArithmeticStep> sum = {step({36, 6}, 6), step({24, 8}, 3), step({6, 3}, 9)};
  EXPECT_EQ(DanglingResults(sum, 9.0), 0);
  EXPECT_EQ(DanglingResults(sum, std::nullopt), 0);
  // Without a final answer the last step stands for it; the 6 is still dropped.
  EXPECT_EQ(DanglingResults(tulips, std::nullopt), 1);
  // A final answer that no step computed: the last step dangles too.
  EXPECT_EQ(DanglingResults(sum, 12.0), 1);
  EXPECT_EQ(DanglingResults({}, 1.0), 0);
}

TEST(ForeignOperandsTest, NumbersFromNowhere) {
  auto step = [](std::vector<double> operands, double result) {
    ArithmeticStep s;
    s.operands = std::move(operands);
    s.result = result;
    return s;
  };
  const std::vector<double> prompt = {25, 40};
  const std::vector<double> words = {3};  // "three"
  // 40 (prompt) * 3 (word) = 120; 120 + 17 (foreign) = 137; 137 * 0.25 (25%
  // of the prompt's 25) = 34.25; 34.25 * 60 (a constant) = 2055; 2055 / 7 (small
  // integer) = ...; 2055 * 1.5 (foreign) = ...
  const std::vector<ArithmeticStep> steps = {step({40, 3}, 120),       step({120, 17}, 137),
                                             step({137, 0.25}, 34.25), step({34.25, 60}, 2055),
                                             step({2055, 7}, 293.57),  step({2055, 1.5}, 3082.5)};
  EXPECT_EQ(ForeignOperands(steps, prompt, words), 2);
  // An operand equal to a later step's result is still foreign.
  EXPECT_EQ(ForeignOperands({step({40, 99}, 139), step({25, 4}, 99)}, prompt, words), 1);
  EXPECT_EQ(ForeignOperands({}, prompt, words), 0);
}

TEST(AnalyzeAnswerTest, DanglingCopiedAndUnexplainedFinals) {
  const auto tulips = AnalyzeAnswer(
      "He can fit 6 red tulips in a row and 8 blue tulips in a row. He buys 36 red and 24 blue.",
      "Red: 36 / 6 = <<36/6=6>>6 rows.\nBlue: 24 / 8 = <<24/8=3>>3 rows.\n#### 6");
  EXPECT_EQ(tulips.dangling_results, 1);
  EXPECT_TRUE(tulips.final_is_prompt_number);  // 6 is also in the prompt
  EXPECT_FALSE(tulips.final_unexplained);
  EXPECT_EQ(tulips.foreign_operands, 0);

  const auto guess =
      AnalyzeAnswer("Tom has 5 bags of 4 apples.", "Tom has 5 * 4 = <<5*4=20>>20 apples.\n#### 23");
  EXPECT_FALSE(guess.final_is_prompt_number);
  EXPECT_TRUE(guess.final_unexplained);
  EXPECT_EQ(guess.dangling_results, 1);  // 20 is computed, then 23 is stated
}

TEST(AnalyzeAnswerTest, ImplicitFinalOnTheLastLine) {
  const auto a = AnalyzeAnswer("Toni has 60% more than Fred's 10 plants; Shondra 7 fewer.",
                               "Toni has 10 + 6 = 16 plants.\nShondra has 16 - 7 = 9 plants.\n\n"
                               "So, Shondra has 9 plants.");
  EXPECT_FALSE(a.has_final_answer);
  EXPECT_TRUE(a.implicit_final);
  EXPECT_TRUE(a.implicit_matches_last_result);

  const auto other = AnalyzeAnswer("Share 10 cookies.", "10 / 2 = 5\nEach gets about 4 of them.");
  EXPECT_TRUE(other.implicit_final);
  EXPECT_FALSE(other.implicit_matches_last_result);

  const auto marked = AnalyzeAnswer("Share 10 cookies.", "10 / 2 = 5\n#### 5");
  EXPECT_FALSE(marked.implicit_final);  // an explicit final answer is not implicit

  const auto words = AnalyzeAnswer("Share 10 cookies.", "We cannot tell.");
  EXPECT_FALSE(words.implicit_final);
}

TEST(AnalyzeAnswerTest, PromptNumbersNotOperands) {
  // 3 is written ("3 times") but never computed with; 2 and 4 are operands.
  const auto a = AnalyzeAnswer("Jim watches 2 hours of TV 3 times a week. How long in 4 weeks?",
                               "He watches 3 times.\n2 * 4 = <<2*4=8>>8\n#### 8");
  EXPECT_EQ(a.unused_prompt_numbers, 0);
  EXPECT_EQ(a.prompt_numbers_not_operands, 1);
  // Without a checked step it stays 0.
  EXPECT_EQ(AnalyzeAnswer("Add 2 and 3.", "It is five.").prompt_numbers_not_operands, 0);
}

TEST(AnalyzeAnswerTest, AskedUnit) {
  EXPECT_EQ(AskedUnit("Tea was left. How many gallons of tea were there?"), "gallons");
  EXPECT_EQ(AskedUnit("How many more apples does he have?"), "");  // not a unit
  EXPECT_EQ(AskedUnit("What is the total cost?"), "");
  // The last "how many" counts.
  EXPECT_EQ(AskedUnit("How many cats? How many Dogs?"), "dogs");

  const auto quarts = AnalyzeAnswer("How many gallons of tea were there?",
                                    "4 * 1.5 = 6\n6 + 34 = 40\nThere were 40 quarts.\n#### 40");
  EXPECT_EQ(quarts.asked_unit, "gallons");
  EXPECT_FALSE(quarts.asked_unit_in_ending);
  const auto gallons = AnalyzeAnswer("How many gallons of tea were there?",
                                     "40 / 4 = 10\nThere were 10 gallon jugs.\n#### 10");
  EXPECT_TRUE(gallons.asked_unit_in_ending);  // "gallon" is the stem of "gallons"
  // Only the last two lines are read.
  const auto early = AnalyzeAnswer("How many gallons of tea were there?",
                                   "Gallons first.\n40 / 4 = 10\nSo 10.\n#### 10");
  EXPECT_FALSE(early.asked_unit_in_ending);
}

TEST(AnalyzeAnswerTest, ExtraPlausibilityChecks) {
  // A count that is not whole; the stated final (explicit or implicit) is read.
  EXPECT_TRUE(AnalyzeAnswer("How many eggs are left?", "10 / 4 = 2.5\n#### 2.5").count_fraction);
  EXPECT_TRUE(AnalyzeAnswer("How many eggs are left?", "10 / 4 = 2.5\nSo 2.5").count_fraction);
  EXPECT_FALSE(AnalyzeAnswer("How much is left?", "10 / 4 = 2.5\n#### 2.5").count_fraction);
  EXPECT_FALSE(AnalyzeAnswer("How many eggs are left?", "10 / 2 = 5\n#### 5").count_fraction);

  // Out of reach of the prompt's numbers: above their product x 1200, or below
  // 1/1000 of the smallest.
  EXPECT_TRUE(AnalyzeAnswer("He has 3 boxes of 4 pens.", "#### 20000").final_above_product);
  EXPECT_FALSE(AnalyzeAnswer("He has 3 boxes of 4 pens.", "#### 14400").final_above_product);
  EXPECT_TRUE(AnalyzeAnswer("He has 3 boxes of 4 pens.", "#### 0.002").final_below_min);
  EXPECT_FALSE(AnalyzeAnswer("He has 3 boxes of 4 pens.", "#### 0.5").final_below_min);

  // Final answers that disagree; repeated statements of one number do not count.
  EXPECT_EQ(AnalyzeAnswer("Q?", "The answer is 12.\nAnswer: 13\n#### 14").inconsistent_finals, 2);
  EXPECT_EQ(AnalyzeAnswer("Q?", "The answer is 12.\n#### 12").inconsistent_finals, 0);

  // "<<a*b=c>>d" with d != c.
  EXPECT_EQ(AnalyzeAnswer("Q?", "2 * 3 = <<2*3=6>>7 and <<1+1=2>>$2 and <<5-1=4>> 4")
                .annotation_mismatches,
            1);

  // Looping: word 6-grams that occur three times (one here: the sentence at 0, 6 and 12).
  const std::string loop =
      "we add the two numbers again. we add the two numbers again. we add the two numbers "
      "again.";
  EXPECT_EQ(AnalyzeAnswer("Q?", loop).looping_shingles, 1);
  EXPECT_EQ(AnalyzeAnswer("Q?", "one two three four five six seven").looping_shingles, 0);

  // Steps against the prompt's distinct numbers minus one.
  EXPECT_EQ(AnalyzeAnswer("Add 2, 3 and 5.", "#### 10").steps_minus_needed, -2);
  EXPECT_EQ(AnalyzeAnswer("Add 2, 3 and 5.", "2 + 3 = 5\n5 + 5 = 10\n#### 10").steps_minus_needed,
            0);
}

}  // namespace
}  // namespace switchyard::routing
