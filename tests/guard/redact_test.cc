#include "guard/redact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::guard {
namespace {

const PiiScanner& Scanner() {
  static const PiiScanner* scanner = [] {
    auto s = PiiScanner::Create();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s).release();
  }();
  return *scanner;
}

std::string RedactText(std::string_view text, RedactionMap& map) {
  auto findings = Scanner().ScanText(text);
  EXPECT_TRUE(findings.ok());
  return Redact(text, *findings, map);
}

TEST(RedactTest, StablePlaceholdersWithinARequest) {
  RedactionMap map;
  const std::string text =
      "Mail a@b.io and c@d.io, again a@b.io; card 4111 1111 1111 1111 from 10.0.0.7";
  EXPECT_EQ(RedactText(text, map),
            "Mail <EMAIL_1> and <EMAIL_2>, again <EMAIL_1>; card <CARD_1> from <IPV4_1>");
  EXPECT_EQ(map.size(), 4u);
  ASSERT_NE(map.OriginalFor("<EMAIL_2>"), nullptr);
  EXPECT_EQ(*map.OriginalFor("<EMAIL_2>"), "c@d.io");
  EXPECT_EQ(map.OriginalFor("<EMAIL_3>"), nullptr);
  // The same value in a later message of the same request keeps its placeholder.
  EXPECT_EQ(RedactText("reply to c@d.io", map), "reply to <EMAIL_2>");
  EXPECT_EQ(Restore("I wrote to <EMAIL_1> and <EMAIL_2> about <CARD_1>.", map),
            "I wrote to a@b.io and c@d.io about 4111 1111 1111 1111.");
}

TEST(RedactTest, RoundTripRestoresEveryFinding) {
  const std::string text =
      "Hi, I'm Jane (jane.doe@example.com, +44 20 7946 0958). IBAN DE89 3704 0044 0532 0130 00, "
      "SSN 123-45-6789, key sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3, host 2001:db8::1. "
      "日本語 ✓";
  RedactionMap map;
  const std::string redacted = RedactText(text, map);
  for (const char* raw :
       {"jane.doe@example.com", "7946", "DE89", "123-45-6789", "sk-proj", "2001:db8::1"}) {
    EXPECT_EQ(redacted.find(raw), std::string::npos) << raw;
  }
  EXPECT_EQ(Restore(redacted, map), text);
}

TEST(RedactTest, CustomPatternLabels) {
  ScannerOptions o;
  o.custom.push_back({"employee_id", "EMP-[0-9]{6}", false});
  auto scanner = PiiScanner::Create(o);
  ASSERT_TRUE(scanner.ok());
  const std::string text = "EMP-123456 and EMP-654321";
  auto findings = (*scanner)->ScanText(text);
  ASSERT_TRUE(findings.ok());
  RedactionMap map;
  EXPECT_EQ(Redact(text, *findings, map), "<EMPLOYEE_ID_1> and <EMPLOYEE_ID_2>");
}

TEST(RedactTest, ClientWrittenPlaceholdersAreNeverReused) {
  const std::vector<std::string> messages = {"mail a@b.io", "literally <EMAIL_1> and <EMAIL_2>"};
  std::vector<std::string_view> views(messages.begin(), messages.end());
  auto findings = Scanner().ScanTexts(views);
  ASSERT_TRUE(findings.ok());
  RedactionMap map;
  const auto redacted = RedactTexts(views, *findings, map);
  ASSERT_EQ(redacted.size(), 2u);
  EXPECT_EQ(redacted[0], "mail <EMAIL_3>");
  EXPECT_EQ(redacted[1], "literally <EMAIL_1> and <EMAIL_2>");
  // The client's own text comes back unchanged; only the issued one is restored.
  EXPECT_EQ(Restore("<EMAIL_1>, <EMAIL_3>", map), "<EMAIL_1>, a@b.io");
}

TEST(RedactTest, RestoreLeavesUnknownAndMalformedPlaceholders) {
  RedactionMap map;
  map.PlaceholderFor("EMAIL", "a@b.io");
  EXPECT_EQ(Restore("<EMAIL_1> <EMAIL_9> <email_1> <EMAIL_1 <EMAIL_1>> <<EMAIL_1>", map),
            "a@b.io <EMAIL_9> <email_1> <EMAIL_1 a@b.io> <a@b.io");
  RedactionMap empty;
  EXPECT_EQ(Restore("<EMAIL_1>", empty), "<EMAIL_1>");
  // Many unmatched '<' (code, HTML) before a placeholder far away.
  const std::string many = std::string(20000, '<') + " <EMAIL_1> " + std::string(20000, '<') + ">";
  EXPECT_EQ(Restore(many, map),
            std::string(20000, '<') + " a@b.io " + std::string(20000, '<') + ">");
}

TEST(RedactTest, StreamRestorerMatchesRestoreAtEverySplitPoint) {
  RedactionMap map;
  const std::string original = "From a@b.io to c@d.io: pay 4111 1111 1111 1111 now";
  const std::string redacted = RedactText(original, map);
  ASSERT_EQ(redacted, "From <EMAIL_1> to <EMAIL_2>: pay <CARD_1> now");
  const std::string answer = "Sure: " + redacted + " <EMAIL_9> <EMA <CARD_1>";
  const std::string expected = Restore(answer, map);
  ASSERT_EQ(expected, "Sure: " + original + " <EMAIL_9> <EMA 4111 1111 1111 1111");
  // Every single split point.
  for (size_t cut = 0; cut <= answer.size(); ++cut) {
    StreamRestorer r(map);
    std::string out = r.Push(std::string_view(answer).substr(0, cut));
    out += r.Push(std::string_view(answer).substr(cut));
    out += r.Finish();
    ASSERT_EQ(out, expected) << "cut at " << cut;
  }
  // Every pair of split points (three deltas).
  for (size_t a = 0; a <= answer.size(); ++a) {
    for (size_t b = a; b <= answer.size(); ++b) {
      StreamRestorer r(map);
      std::string out = r.Push(std::string_view(answer).substr(0, a));
      out += r.Push(std::string_view(answer).substr(a, b - a));
      out += r.Push(std::string_view(answer).substr(b));
      out += r.Finish();
      ASSERT_EQ(out, expected) << "cuts at " << a << "," << b;
    }
  }
  // Byte by byte, and the restorer never holds more than a placeholder prefix.
  StreamRestorer r(map);
  std::string out;
  for (char c : answer) {
    out += r.Push(std::string_view(&c, 1));
    EXPECT_LT(r.held(), map.max_placeholder_length());
  }
  out += r.Finish();
  EXPECT_EQ(out, expected);
}

TEST(RedactTest, StreamRestorerReleasesTextThatCannotBecomeAPlaceholder) {
  RedactionMap map;
  map.PlaceholderFor("EMAIL", "a@b.io");
  StreamRestorer r(map);
  EXPECT_EQ(r.Push("x < y and <EM"), "x < y and ");
  EXPECT_EQ(r.held(), 3u);
  EXPECT_EQ(r.Push("AIL_1"), "");
  EXPECT_EQ(r.Push("> done <b>"), "a@b.io done <b>");
  EXPECT_EQ(r.Push("<EMAIL_2"), "<EMAIL_2");  // never issued: released at once
  EXPECT_EQ(r.Push("<EMAIL_"), "");
  EXPECT_EQ(r.Finish(), "<EMAIL_");
}

TEST(RedactTest, JsonStringRewriteStaysValid) {
  RedactionMap map;
  std::vector<Finding> found;
  auto out = RedactJsonString(
      R"("mail \"jane@example.com\"\n\u00e9t\u00e9 key sk\u002dproj\u002dXa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3")",
      Scanner(), map, &found);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, R"("mail \"<EMAIL_1>\"\nété key <SECRET_1>")");
  EXPECT_EQ(found.size(), 2u);
  auto decoded = DecodeJsonString(*out);
  ASSERT_TRUE(decoded.ok());
  auto restored = RestoreJsonString(*out, map);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored,
            R"("mail \"jane@example.com\"\nété key sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3")");
  // A private key with newlines restored into JSON is escaped, not raw.
  RedactionMap pem_map;
  const std::string& ph = pem_map.PlaceholderFor("SECRET", "-----BEGIN\nX\"Y");
  auto pem = RestoreJsonString("\"" + ph + "\"", pem_map);
  ASSERT_TRUE(pem.ok());
  EXPECT_EQ(*pem, R"("-----BEGIN\nX\"Y")");
}

TEST(RedactTest, DecodeJsonStringEscapesAndErrors) {
  auto ok = DecodeJsonString(R"("a\/b\\c\"d\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00")");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "a/b\\c\"d\b\f\n\r\tAé€😀");
  auto expect = [](std::string_view in, const std::string& msg) {
    auto r = DecodeJsonString(in);
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), msg);
  };
  expect("abc", "invalid JSON string: missing quotes");
  expect("\"", "invalid JSON string: missing quotes");
  expect(R"("a\x")", "invalid JSON string: bad escape at byte 2");
  expect(R"("\u12")", "invalid JSON string: bad escape at byte 1");
  expect(R"("\ud83d")", "invalid JSON string: lone surrogate at byte 1");
  expect(R"("\ude00")", "invalid JSON string: lone surrogate at byte 1");
  expect("\"a\nb\"", "invalid JSON string: unescaped control character at byte 2");
  expect(R"("a"b")", "invalid JSON string: unescaped quote at byte 2");
  expect(R"("a\")", "invalid JSON string: bad escape at byte 2");
  EXPECT_EQ(EncodeJsonString("a\"b\n\x01"), "\"a\\\"b\\n\\u0001\"");
}

TEST(RedactTest, PlaceholderPrefixes) {
  RedactionMap map;
  map.PlaceholderFor("EMAIL", "a@b.io");
  map.PlaceholderFor("CARD", "4111111111111111");
  EXPECT_TRUE(map.IsPlaceholderPrefix("<"));
  EXPECT_TRUE(map.IsPlaceholderPrefix("<EM"));
  EXPECT_TRUE(map.IsPlaceholderPrefix("<CARD_1"));
  EXPECT_FALSE(map.IsPlaceholderPrefix("<CARD_1>"));
  EXPECT_FALSE(map.IsPlaceholderPrefix("<X"));
  EXPECT_FALSE(map.IsPlaceholderPrefix(""));
  EXPECT_EQ(map.max_placeholder_length(), 9u);
}

TEST(RedactTest, RedactKnownReplacesEveryOccurrenceLongestFirst) {
  RedactionMap map;
  map.PlaceholderFor("EMAIL", "a@b.io");
  map.PlaceholderFor("CUSTOM", "xa@b.io.y");
  EXPECT_EQ(RedactKnown("a@b.io, xa@b.io.y and a@b.ioa@b.io", map),
            "<EMAIL_1>, <CUSTOM_1> and <EMAIL_1><EMAIL_1>");
  EXPECT_EQ(RedactKnown("nothing here", map), "nothing here");
  RedactionMap empty;
  EXPECT_EQ(RedactKnown("a@b.io", empty), "a@b.io");
}

TEST(RedactTest, RewriteJsonStringsVisitsValuesAndKeysWithPaths) {
  const std::string json =
      R"({"a":"x","b":[1,"y",{"c":"z\u0021"}],"d":{"e":null,"f":["g"]},"h\"k":"v"})";
  std::vector<std::string> seen;
  auto out =
      RewriteJsonStrings(json, [&](std::string_view path, std::string_view value, bool is_key) {
        seen.push_back(std::string(is_key ? "key " : "") + std::string(path) + "=" +
                       std::string(value));
        return value == "z!" ? std::optional<std::string>("Z\"") : std::nullopt;
      });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, R"({"a":"x","b":[1,"y",{"c":"Z\""}],"d":{"e":null,"f":["g"]},"h\"k":"v"})");
  const std::vector<std::string> expected = {"key =a",     "/a=x",      "key =b",    "/b/1=y",
                                             "key /b/2=c", "/b/2/c=z!", "key =d",    "key /d=e",
                                             "key /d=f",   "/d/f/0=g",  "key =h\"k", "/h\"k=v"};
  EXPECT_EQ(seen, expected);
  // Untouched documents come back byte for byte (spacing included).
  auto same = RewriteJsonStrings(
      R"( { "a" : [ "b" ] } )",
      [](std::string_view, std::string_view, bool) { return std::optional<std::string>(); });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, R"( { "a" : [ "b" ] } )");
}

TEST(RedactTest, RewriteJsonStringsErrors) {
  auto keep = [](std::string_view, std::string_view, bool) { return std::optional<std::string>(); };
  auto expect = [&](std::string_view in, const std::string& msg) {
    auto r = RewriteJsonStrings(in, keep);
    ASSERT_FALSE(r.ok()) << in;
    EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), msg);
  };
  expect(R"({"a":"b)", "invalid JSON: unterminated string at byte 5");
  expect(R"({"a":["b"})", "invalid JSON: unbalanced brackets at byte 9");
  expect(R"({"a":"b")", "invalid JSON: unbalanced brackets at byte 8");
  expect(R"(]")", "invalid JSON: unbalanced brackets at byte 0");
  expect(R"({"a":"\q"})", "invalid JSON string: bad escape at byte 1");
}

}  // namespace
}  // namespace switchyard::guard
