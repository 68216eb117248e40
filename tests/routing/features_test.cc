#include "routing/features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace switchyard::routing {
namespace {

bool Has(const SparseVector& v, std::string_view name, int bits) {
  const uint32_t index = FeatureIndex(name, bits);
  return std::any_of(v.begin(), v.end(), [&](const auto& p) { return p.first == index; });
}

float ValueOf(const SparseVector& v, std::string_view name, int bits) {
  const uint32_t index = FeatureIndex(name, bits);
  for (const auto& p : v) {
    if (p.first == index) return p.second;
  }
  return 0;
}

TEST(FeaturesTest, SortedUniqueAndDeterministic) {
  FeatureOptions o;
  RouterInput in;
  in.prompt = "Which of the following is NOT a prime?\nA. 2\nB. 3\nC. 4\nD. 5\nAnswer:";
  in.subject = std::string_view("elementary_mathematics");
  const auto a = ExtractFeatures(RouterKind::kPrompt, o, in);
  const auto b = ExtractFeatures(RouterKind::kPrompt, o, in);
  EXPECT_EQ(a, b);
  ASSERT_FALSE(a.empty());
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(a[i - 1].first, a[i].first);
  for (const auto& p : a) EXPECT_LT(p.first, 1u << o.hash_bits);
}

TEST(FeaturesTest, PromptStructure) {
  FeatureOptions o;
  RouterInput in;
  in.prompt = "Which of the following is NOT a prime?\nA. 2\nB. 3\nC. 4\nD. 5\nAnswer:";
  in.subject = std::string_view("elementary_mathematics");
  const auto v = ExtractFeatures(RouterKind::kPrompt, o, in);
  const int bits = o.hash_bits;
  EXPECT_TRUE(Has(v, "subj:elementary_mathematics", bits));
  EXPECT_FLOAT_EQ(ValueOf(v, "subj:elementary_mathematics", bits), 1.0f);
  EXPECT_TRUE(Has(v, "p:options", bits));
  EXPECT_TRUE(Has(v, "p:numeric_options", bits));
  EXPECT_TRUE(Has(v, "p:negation", bits));
  EXPECT_TRUE(Has(v, "p:which_following", bits));
  EXPECT_TRUE(Has(v, "p:questions=1", bits));
  EXPECT_TRUE(Has(v, "w:prime", bits));
  EXPECT_TRUE(Has(v, "w2:a prime", bits));
  EXPECT_FALSE(Has(v, "p:code", bits));
  EXPECT_FALSE(Has(v, "p:latex", bits));
  // No subject, no subject feature; code and LaTeX detected.
  RouterInput code;
  code.prompt = "What does print(x) return?\n```\ndef f(x):\n  return x\n```\n$\\frac{1}{2}$";
  const auto c = ExtractFeatures(RouterKind::kPrompt, o, code);
  EXPECT_TRUE(Has(c, "p:code", bits));
  EXPECT_TRUE(Has(c, "p:latex", bits));
  EXPECT_FALSE(Has(c, "subj:elementary_mathematics", bits));
}

TEST(FeaturesTest, SubjectStructureConjunction) {
  FeatureOptions o;
  o.subject_structure_weight = 0.5;
  RouterInput in;
  in.prompt = "Statement 1 | x. Statement 2 | y.";
  in.subject = std::string_view("abstract_algebra");
  const auto v = ExtractFeatures(RouterKind::kPrompt, o, in);
  EXPECT_TRUE(Has(v, "p:statements", o.hash_bits));
  EXPECT_FLOAT_EQ(ValueOf(v, "subj:abstract_algebra|p:statements", o.hash_bits), 0.5f);
}

TEST(FeaturesTest, OptionFeaturesOnlyWithTheirWeight) {
  FeatureOptions o;
  RouterInput in;
  in.prompt =
      "Which of the following are true?\nA. I only\nB. II only\nC. I and II\n"
      "D. None of the above\nAnswer:";
  const int bits = o.hash_bits;
  EXPECT_FALSE(Has(ExtractFeatures(RouterKind::kPrompt, o, in), "o:roman", bits));
  o.option_weight = 0.5;
  const auto v = ExtractFeatures(RouterKind::kPrompt, o, in);
  EXPECT_FLOAT_EQ(ValueOf(v, "o:roman", bits), 0.5f);
  EXPECT_TRUE(Has(v, "o:above_option", bits));
  EXPECT_TRUE(Has(v, "o:stem_question", bits));
  EXPECT_TRUE(Has(v, "o:words=1", bits));
  EXPECT_FALSE(Has(v, "o:yes_no", bits));
  EXPECT_FALSE(Has(v, "o:units", bits));

  RouterInput units;
  units.prompt =
      "A car accelerates from rest for 2 s. Its speed is\nA. 5 m/s\nB. 10 m/s\nC. 20 m/s\n"
      "D. 40 m/s\nAnswer:";
  const auto u = ExtractFeatures(RouterKind::kPrompt, o, units);
  EXPECT_TRUE(Has(u, "o:units", bits));
  EXPECT_TRUE(Has(u, "o:stem_statement", bits));
  EXPECT_FALSE(Has(u, "o:roman", bits));

  RouterInput law;
  law.prompt =
      "Will the plaintiff prevail?\nA. Yes, because of the contract.\nB. Yes, because of "
      "the statute.\nC. No, because the offer lapsed.\nD. No, because of the defence, which "
      "the court accepted in an earlier and very long line of cases.\nAnswer:";
  const auto l = ExtractFeatures(RouterKind::kPrompt, o, law);
  EXPECT_TRUE(Has(l, "o:yes_no", bits));
  EXPECT_TRUE(Has(l, "o:longest_stands_out", bits));

  RouterInput plain;
  plain.prompt = "What is the capital of France?";
  EXPECT_TRUE(Has(ExtractFeatures(RouterKind::kPrompt, o, plain), "o:none", bits));
}

TEST(FeaturesTest, OptionWordsApartFromTheStem) {
  FeatureOptions o;
  o.word_ngrams = 1;
  RouterInput in;
  in.prompt = "Which gas is inert?\nA. argon\nB. oxygen\nAnswer:";
  const int bits = o.hash_bits;
  const auto plain = ExtractFeatures(RouterKind::kPrompt, o, in);
  EXPECT_TRUE(Has(plain, "w:argon", bits));
  EXPECT_FALSE(Has(plain, "ow:argon", bits));
  o.option_words_weight = 0.5;
  const auto v = ExtractFeatures(RouterKind::kPrompt, o, in);
  EXPECT_FALSE(Has(v, "w:argon", bits));
  // Stem "which gas is inert ?" (5 words); options "a . argon b . oxygen answer :" (7
  // distinct), each group L2-normalised to its weight.
  EXPECT_FLOAT_EQ(ValueOf(v, "w:inert", bits), static_cast<float>(1 / std::sqrt(5.0)));
  EXPECT_FLOAT_EQ(ValueOf(v, "ow:argon", bits), static_cast<float>(0.5 / std::sqrt(7.0)));
  // Without option lines every word stays in the stem group.
  RouterInput open;
  open.prompt = "Name an inert gas.";
  EXPECT_TRUE(Has(ExtractFeatures(RouterKind::kPrompt, o, open), "w:inert", bits));
}

TEST(FeaturesTest, AnswerTailWordsGroup) {
  FeatureOptions o;
  RouterInput in;
  in.prompt = "How many?";
  in.weak_response = std::string_view("First 2 + 2 = 4.\nRoughly four then.\n#### 4\n\n");
  const int bits = o.hash_bits;
  EXPECT_FALSE(Has(ExtractFeatures(RouterKind::kCascade, o, in), "rt:roughly", bits));
  o.answer_tail_words_weight = 0.5;
  const auto v = ExtractFeatures(RouterKind::kCascade, o, in);
  // Last two non-empty lines: "roughly four then ." and "# # # # 4" -> 6 distinct words.
  EXPECT_FLOAT_EQ(ValueOf(v, "rt:roughly", bits), static_cast<float>(0.5 / std::sqrt(6.0)));
  EXPECT_FALSE(Has(v, "rt:first", bits));
  EXPECT_TRUE(Has(v, "rw:first", bits));  // the whole-answer group stays
}

TEST(FeaturesTest, ExtraAnswerChecksOnlyWithTheirWeight) {
  FeatureOptions o;
  RouterInput in;
  in.prompt = "Tom has 3 apples and buys 4 more. How many apples does he have?";
  in.weak_response = std::string_view("3 + 4 = <<3+4=7>>8 apples.\n#### 7.5");
  const int bits = o.hash_bits;
  EXPECT_FALSE(Has(ExtractFeatures(RouterKind::kCascade, o, in), "a2:annotation_mismatch", bits));
  o.answer_extra_weight = 2;
  const auto v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_FLOAT_EQ(ValueOf(v, "a2:annotation_mismatch", bits), 2.0f);
  EXPECT_TRUE(Has(v, "a2:count_fraction", bits));
  EXPECT_TRUE(Has(v, "a2:steps_minus_needed=0", bits));
  EXPECT_FALSE(Has(v, "a2:inconsistent_finals=1", bits));
}

TEST(FeaturesTest, CascadeAnswerChecks) {
  FeatureOptions o;
  RouterInput in;
  in.prompt = "Tom has 3 apples and buys 4 more. How many?";
  in.weak_response = std::string_view("3 + 4 = 8\n#### 8.5");
  const double lp[] = {-0.1, -3.0, -0.2};
  in.weak_logprobs = lp;
  const auto v = ExtractFeatures(RouterKind::kCascade, o, in);
  const int bits = o.hash_bits;
  EXPECT_TRUE(Has(v, "a:final", bits));
  EXPECT_TRUE(Has(v, "a:final_fraction", bits));
  EXPECT_TRUE(Has(v, "a:arith_wrong", bits));
  EXPECT_TRUE(Has(v, "a:final_not_last_result", bits));
  EXPECT_TRUE(Has(v, "a:lp_present", bits));
  EXPECT_NEAR(ValueOf(v, "a:lp_below23", bits), 4.0 / 3, 1e-6);
  EXPECT_FALSE(Has(v, "a:truncated", bits));
  // A prompt router ignores the answer.
  const auto p = ExtractFeatures(RouterKind::kPrompt, o, in);
  EXPECT_FALSE(Has(p, "a:final", bits));
  EXPECT_FALSE(Has(p, "rw:8", bits));
  EXPECT_TRUE(Has(v, "rw:8", bits));
}

TEST(FeaturesTest, CascadeTruncatedNoFinal) {
  FeatureOptions o;
  RouterInput in;
  in.prompt = "A question with 2 numbers, 5 and 7.";
  in.weak_response = std::string_view("We can set up the following equation");
  const auto v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_TRUE(Has(v, "a:no_final", o.hash_bits));
  EXPECT_TRUE(Has(v, "a:truncated", o.hash_bits));
  EXPECT_TRUE(Has(v, "a:unused_prompt_numbers=3", o.hash_bits));
  EXPECT_FALSE(Has(v, "a:lp_present", o.hash_bits));
}

TEST(FeaturesTest, CascadeStepFeatures) {
  FeatureOptions o;
  const int bits = o.hash_bits;
  RouterInput in;
  in.prompt = "He fits 6 red tulips in a row and 8 blue ones. He buys 36 red and 24 blue.";
  in.weak_response = std::string_view("36 / 6 = <<36/6=6>>6\n24 / 8 = <<24/8=3>>3\n#### 6");
  auto v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_TRUE(Has(v, "a:dangling=1", bits));
  EXPECT_TRUE(Has(v, "a:prompt_not_operands=0", bits));  // 36, 6, 24, 8 all used
  EXPECT_TRUE(Has(v, "a:final_is_prompt_number", bits));
  EXPECT_FALSE(Has(v, "a:final_unexplained", bits));
  EXPECT_FALSE(Has(v, "a:foreign_operands=1", bits));
  EXPECT_FALSE(Has(v, "a:implicit_final_is_last_result", bits));

  in.prompt = "There are 10 boxes of 5 pens.";
  in.weak_response = std::string_view("10 * 5 = 50\n50 + 17 = 67\nSo there are 67 pens.");
  v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_TRUE(Has(v, "a:foreign_operands=1", bits));
  EXPECT_TRUE(Has(v, "a:implicit_final_is_last_result", bits));
  EXPECT_FALSE(Has(v, "a:implicit_final_other", bits));
  EXPECT_FALSE(Has(v, "a:dangling=1", bits));

  in.weak_response = std::string_view("10 * 5 = 50\n#### 55");
  v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_TRUE(Has(v, "a:final_unexplained", bits));
  EXPECT_TRUE(Has(v, "a:dangling=1", bits));
  EXPECT_FALSE(Has(v, "a:asked_unit_missing", bits));  // the prompt asks no "how many"

  in.prompt = "There are 10 boxes of 5 pens. How many pens are there?";
  v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_TRUE(Has(v, "a:asked_unit_missing", bits));
  in.weak_response = std::string_view("10 * 5 = 50 pens\n#### 50");
  v = ExtractFeatures(RouterKind::kCascade, o, in);
  EXPECT_TRUE(Has(v, "a:asked_unit_in_ending", bits));
}

}  // namespace
}  // namespace switchyard::routing
