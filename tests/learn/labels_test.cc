#include "learn/labels.h"

#include <gtest/gtest.h>

namespace switchyard::learn {
namespace {

const std::vector<std::string> kLabels = {"up", "down", "neutral", "none"};

LabelParser Make(LabelParserOptions o = {}) {
  auto p = LabelParser::Create(kLabels, std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().message();
  return *p;
}

void ExpectError(const LabelParser& p, std::string_view reply, const std::string& message) {
  auto r = p.Parse(reply);
  ASSERT_FALSE(r.ok()) << reply;
  EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), message);
}

TEST(LabelParserTest, CaseInsensitiveTrimsWhitespacePunctuationAndQuotes) {
  const LabelParser p = Make();
  EXPECT_EQ(*p.Parse("up"), "up");
  EXPECT_EQ(*p.Parse("  Up.\n"), "up");
  EXPECT_EQ(*p.Parse("\"DOWN\""), "down");
  EXPECT_EQ(*p.Parse("**Neutral**"), "neutral");
  EXPECT_EQ(*p.Parse("'none'!"), "none");
  EXPECT_EQ(*p.Parse("\xE2\x80\x9Cup\xE2\x80\x9D"), "up");  // “up”
  ExpectError(p, "sideways",
              "teacher reply \"sideways\" is not one of the labels: up, down, "
              "neutral, none");
  ExpectError(p, "up or down",
              "teacher reply \"up or down\" is not one of the labels: up, "
              "down, neutral, none");
  ExpectError(p, " \n\t", "teacher reply is empty");
  ExpectError(p, "...", "teacher reply \"...\" is not one of the labels: up, down, neutral, none");
}

TEST(LabelParserTest, ExactNeedsTheLabelByteForByte) {
  LabelParserOptions o;
  o.mode = LabelMode::kExact;
  const LabelParser p = Make(o);
  EXPECT_EQ(*p.Parse("down"), "down");
  ExpectError(p, "Down",
              "teacher reply \"Down\" is not one of the labels: up, down, neutral, none");
  ExpectError(p, "down\n",
              "teacher reply \"down\\n\" is not one of the labels: up, down, neutral, none");
  ExpectError(p, "", "teacher reply is empty");
}

TEST(LabelParserTest, JsonFieldWithFencesAndCustomField) {
  const LabelParser p = Make({LabelMode::kJsonField, "label", ""});
  EXPECT_EQ(*p.Parse(R"({"label": "up"})"), "up");
  EXPECT_EQ(*p.Parse(R"({"reason": "rallied", "label": " Down "})"), "down");
  EXPECT_EQ(*p.Parse("```json\n{\"label\": \"none\"}\n```"), "none");
  const LabelParser q = Make({LabelMode::kJsonField, "direction", ""});
  EXPECT_EQ(*q.Parse(R"({"direction":"NEUTRAL"})"), "neutral");

  ExpectError(p, "up", "teacher reply is not a JSON object: \"up\"");
  ExpectError(p, R"(["up"])", "teacher reply is not a JSON object: \"[\\\"up\\\"]\"");
  ExpectError(p, R"({"label": "up")",
              "teacher reply is not a JSON object: \"{\\\"label\\\": \\\"up\\\"\"");
  ExpectError(p, R"({"class": "up"})",
              "teacher reply has no string field \"label\": \"{\\\"class\\\": \\\"up\\\"}\"");
  ExpectError(p, R"({"label": ["up"]})",
              "teacher reply has no string field \"label\": \"{\\\"label\\\": [\\\"up\\\"]}\"");
  ExpectError(p, R"({"label": "sideways"})",
              "teacher reply field \"label\" is \"sideways\", not one of the labels: up, down, "
              "neutral, none");
}

TEST(LabelParserTest, JsonNumbersAndBooleansBecomeText) {
  auto p = LabelParser::Create({"0", "1", "true"}, {LabelMode::kJsonField, "y", ""});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->Parse(R"({"y": 1})"), "1");
  EXPECT_EQ(*p->Parse(R"({"y": true})"), "true");
}

TEST(LabelParserTest, RegexTakesTheFirstGroup) {
  const LabelParser p = Make({LabelMode::kRegex, "", R"(Answer:\s*(\w+))"});
  EXPECT_EQ(*p.Parse("Reasoning... Answer: Up\nThanks"), "up");
  ExpectError(p, "I think it is up",
              "teacher reply does not match the label pattern 'Answer:\\s*(\\w+)': \"I think it "
              "is up\"");
  ExpectError(p, "Answer: sideways",
              "teacher reply matched the label pattern as \"sideways\", not one of the labels: up, "
              "down, neutral, none");
  // No group: the whole match.
  const LabelParser whole = Make({LabelMode::kRegex, "", R"(\b(?:up|down)\b)"});
  EXPECT_EQ(whole.options().pattern, R"(\b(?:up|down)\b)");
  EXPECT_EQ(*whole.Parse("prices went down today"), "down");
}

TEST(LabelParserTest, LongRepliesAreCutInMessages) {
  const LabelParser p = Make();
  const std::string reply(200, 'x');
  ExpectError(p, reply,
              "teacher reply \"" + std::string(80, 'x') +
                  "...\" is not one of the labels: up, down, neutral, none");
}

TEST(LabelParserTest, CreateValidatesLabelsAndOptions) {
  const auto error = [](std::vector<std::string> labels, LabelParserOptions o) {
    auto p = LabelParser::Create(std::move(labels), std::move(o));
    EXPECT_FALSE(p.ok());
    return p.status().message();
  };
  EXPECT_EQ(error({}, {}), "a task needs at least one label");
  EXPECT_EQ(error({"up", "no way"}, {}), "label \"no way\" is empty or contains whitespace");
  EXPECT_EQ(error({"up", ""}, {}), "label \"\" is empty or contains whitespace");
  EXPECT_EQ(error({"up", "Up!"}, {}),
            "labels \"up\" and \"Up!\" are the same once case and punctuation are ignored");
  EXPECT_EQ(
      error({"up"}, {LabelMode::kRegex, "", "("}).rfind("label regex '(' does not compile: ", 0),
      0u);
  EXPECT_EQ(error({"up"}, {LabelMode::kRegex, "", ""}), "label mode regex needs a pattern");
  EXPECT_EQ(error({"up"}, {LabelMode::kJsonField, "", ""}), "label mode json needs a field name");
}

TEST(LabelParserTest, ModeNames) {
  for (auto m :
       {LabelMode::kExact, LabelMode::kCaseInsensitive, LabelMode::kJsonField, LabelMode::kRegex}) {
    auto parsed = ParseLabelMode(LabelModeName(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  auto bad = ParseLabelMode("fuzzy");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown label mode 'fuzzy' (expected exact, case_insensitive, json or regex)");
}

}  // namespace
}  // namespace switchyard::learn
