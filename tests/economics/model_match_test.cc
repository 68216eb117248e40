#include "economics/internal/model_match.h"

#include <gtest/gtest.h>

namespace switchyard::economics::internal {
namespace {

MatchRule Rule(MatchRule::Kind kind, std::string_view pattern) {
  auto r = MakeMatchRule(kind, pattern);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : MatchRule{};
}

TEST(ModelMatchTest, NormalizeTrimsAndLowercases) {
  EXPECT_EQ(NormalizeModelName("  GPT-4o-Mini\t\n"), "gpt-4o-mini");
  EXPECT_EQ(NormalizeModelName("Ünïcode-X"), "Ünïcode-x");  // ASCII letters only
  EXPECT_EQ(NormalizeModelName("   "), "");
}

TEST(ModelMatchTest, EachRuleKind) {
  using K = MatchRule::Kind;
  EXPECT_TRUE(Rule(K::kEquals, "GPT-4o").Matches("gpt-4o"));
  EXPECT_FALSE(Rule(K::kEquals, "gpt-4o").Matches("gpt-4o-mini"));
  EXPECT_TRUE(Rule(K::kStartsWith, "claude-3-5").Matches("claude-3-5-haiku"));
  EXPECT_FALSE(Rule(K::kStartsWith, "claude-3-5").Matches("my-claude-3-5"));
  EXPECT_TRUE(Rule(K::kEndsWith, "-turbo").Matches("x-turbo"));
  EXPECT_FALSE(Rule(K::kEndsWith, "-turbo").Matches("x-turbo-1"));
  EXPECT_TRUE(Rule(K::kContains, "Gemini").Matches("vertex/gemini-pro"));
  EXPECT_FALSE(Rule(K::kContains, "gemini").Matches("gemma"));
  // Regexes are a search and are applied as written (names arrive lower-cased).
  MatchRule tts = Rule(K::kRegex, "^(?!.*-[tT][tT][sS](?:$|-))");
  EXPECT_TRUE(tts.Matches("gemini-2.5-pro"));
  EXPECT_FALSE(tts.Matches("gemini-2.5-pro-tts"));
  EXPECT_FALSE(tts.Matches("gemini-2.5-pro-tts-1"));
  EXPECT_TRUE(Rule(K::kRegex, "\\d{8}$").Matches("grok-4-20250101"));
  EXPECT_FALSE(Rule(K::kRegex, "^grok-4\\.5-\\d{8}$").Matches("grok-4x5-20250101"));
}

TEST(ModelMatchTest, AlternativesAndConjunctions) {
  using K = MatchRule::Kind;
  MatchAlternative both{{Rule(K::kStartsWith, "gemini-2.5-pro"), Rule(K::kRegex, "^(?!.*-tts)")}};
  EXPECT_TRUE(both.Matches("gemini-2.5-pro-preview"));
  EXPECT_FALSE(both.Matches("gemini-2.5-pro-tts"));
  EXPECT_FALSE(both.ExactName().has_value());
  MatchAlternative exact{{Rule(K::kEquals, "O3")}};
  ASSERT_TRUE(exact.ExactName().has_value());
  EXPECT_EQ(*exact.ExactName(), "o3");
  EXPECT_FALSE(MatchAlternative{}.Matches("anything"));
  MatchList list{exact, both};
  EXPECT_TRUE(MatchesAny(list, "o3"));
  EXPECT_TRUE(MatchesAny(list, "gemini-2.5-pro"));
  EXPECT_FALSE(MatchesAny(list, "o3-mini"));
  EXPECT_FALSE(MatchesAny({}, "o3"));
}

TEST(ModelMatchTest, BadRulesAreRejected) {
  auto empty = MakeMatchRule(MatchRule::Kind::kStartsWith, " ");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "empty match pattern");
  auto regex = MakeMatchRule(MatchRule::Kind::kRegex, "[a");
  ASSERT_FALSE(regex.ok());
  EXPECT_EQ(regex.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(regex.status().message(),
            "invalid regex \"[a\": Unexpected character within '[...]' in regular expression");
  EXPECT_FALSE(MatchKindFromName("glob").has_value());
  EXPECT_EQ(MatchKindFromName("ends_with"), MatchRule::Kind::kEndsWith);
}

TEST(ModelMatchTest, ExpandCompactDates) {
  EXPECT_EQ(ExpandCompactDates("gpt-4o-mini-20240718"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(ExpandCompactDates("claude-x-20241022-v1:0"), "claude-x-2024-10-22-v1:0");
  EXPECT_EQ(ExpandCompactDates("m-20240718:free"), "m-2024-07-18:free");
  EXPECT_EQ(ExpandCompactDates("a-20240101-20250229-20240229"),
            "a-2024-01-01-20250229-2024-02-29");  // 2025-02-29 is no date
  EXPECT_EQ(ExpandCompactDates("gpt-4o-mini-2024-07-18"), std::nullopt);
  EXPECT_EQ(ExpandCompactDates("m-20241301"), std::nullopt);   // month 13
  EXPECT_EQ(ExpandCompactDates("m-19990101"), std::nullopt);   // not 20xx
  EXPECT_EQ(ExpandCompactDates("m-202407181"), std::nullopt);  // 9 digits
  EXPECT_EQ(ExpandCompactDates("m-20240718x"), std::nullopt);  // no boundary
  EXPECT_EQ(ExpandCompactDates("m20240718"), std::nullopt);    // no dash
  EXPECT_EQ(ExpandCompactDates(""), std::nullopt);
}

}  // namespace
}  // namespace switchyard::economics::internal
