#include "guard/hardening.h"

#include <gtest/gtest.h>

#include <string>

#include "guard/pii.h"

namespace switchyard::guard {
namespace {

TEST(HardeningTest, JsonDepth) {
  EXPECT_TRUE(CheckJsonDepth(R"({"a":[1,{"b":[]}]})", 4).ok());
  auto deep = CheckJsonDepth(R"({"a":[1,{"b":[]}]})", 3);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(deep.message(), "JSON nesting deeper than 3 levels");
  EXPECT_EQ(deep.error_code(), "json_too_deep");
  // Brackets inside strings, escaped quotes and escaped backslashes don't count.
  EXPECT_TRUE(CheckJsonDepth(R"({"a":"[[[[{{{{","b":"\"[[[[","c":"\\","d":"[[["})", 1).ok());
  EXPECT_FALSE(CheckJsonDepth(R"({"c":"\\",[[]]})", 2).ok());
  std::string nested(64, '[');
  nested += std::string(64, ']');
  EXPECT_TRUE(CheckJsonDepth(nested).ok());
  EXPECT_EQ(CheckJsonDepth("[" + nested + "]").message(), "JSON nesting deeper than 64 levels");
  // A sibling sequence is not depth.
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i) wide += "[],";
  wide += "[]]";
  EXPECT_TRUE(CheckJsonDepth(wide, 2).ok());
  EXPECT_TRUE(CheckJsonDepth("\"unterminated [[[[", 1).ok());
  EXPECT_TRUE(CheckJsonDepth("", 1).ok());
}

TEST(HardeningTest, Utf8Valid) {
  for (const std::string& s :
       {std::string(""), std::string("plain ascii text, long enough for the 8-byte path"),
        std::string("é ü ß"), std::string("日本語"), std::string("😀 emoji"),
        std::string("\xEF\xBF\xBF"), std::string("\xF4\x8F\xBF\xBF"),
        std::string("\x7F\xC2\x80")}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
  }
}

TEST(HardeningTest, Utf8Invalid) {
  const std::pair<std::string, size_t> cases[] = {
      {"\x80", 0},                 // lone continuation
      {"abc\xC0\xAF", 3},          // overlong '/'
      {"\xC1\xBF", 0},             // overlong
      {"\xE0\x80\xAF", 0},         // overlong 3-byte
      {"\xED\xA0\x80", 0},         // surrogate U+D800
      {"\xF0\x80\x80\xAF", 0},     // overlong 4-byte
      {"\xF4\x90\x80\x80", 0},     // above U+10FFFF
      {"\xF5\x80\x80\x80", 0},     // invalid lead
      {"abcdefghij\xE6\x97", 10},  // truncated at the end
      {"\xC3(", 0},                // bad continuation
      {"12345678\xFF", 8},         // invalid byte after the fast path
  };
  for (const auto& [s, at] : cases) {
    EXPECT_FALSE(IsValidUtf8(s));
    EXPECT_EQ(FirstInvalidUtf8(s), at);
  }
  const core::Status st = ValidateUtf8("ok \xFF", "message content");
  EXPECT_EQ(st.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "message content is not valid UTF-8 (byte 3)");
  EXPECT_EQ(st.error_code(), "invalid_utf8");
  EXPECT_EQ(ValidateUtf8("\xFF").message(), "request body is not valid UTF-8 (byte 0)");
  EXPECT_TRUE(ValidateUtf8("fine").ok());
}

TEST(HardeningTest, Masking) {
  auto scanner = PiiScanner::Create();
  ASSERT_TRUE(scanner.ok());
  EXPECT_EQ(MaskForLog(**scanner, "user a@b.io sent key AKIAIOSFODNN7EXAMPLE from 10.0.0.1"),
            "user [email] sent key [secret] from [ipv4]");
  EXPECT_EQ(MaskForLog(**scanner, "nothing here"), "nothing here");
  EXPECT_EQ(MaskSecret("sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3"), "sk-p…(44)");
  EXPECT_EQ(MaskSecret("short"), "…(5)");
  EXPECT_EQ(MaskSecret("123456789", 8), "1234…(9)");
}

TEST(HardeningTest, MaskUpstreamTextHidesPiiKeysAndBearerTokens) {
  auto created = PiiScanner::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const PiiScanner* scanner = created->get();
  const std::string text =
      "provider 'up' answered HTTP 400: Invalid value 'jane@example.com' for card "
      "4111 1111 1111 1111 (key sk-proj-Xa8bC3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1yZ3, header "
      "Authorization: Bearer abc.def-123) from 10.0.0.7";
  EXPECT_EQ(MaskUpstreamText(text, scanner),
            "provider 'up' answered HTTP 400: Invalid value '[email]' for card [card] (key "
            "[secret], header Authorization: Bearer [secret]) from 10.0.0.7");
  // Without a scanner only bearer tokens are masked.
  EXPECT_EQ(MaskUpstreamText("bearer XYZ and BEARER  q", nullptr),
            "bearer [secret] and BEARER  [secret]");
  EXPECT_EQ(MaskUpstreamText("no secrets, Bearer", scanner), "no secrets, Bearer");
}

}  // namespace
}  // namespace switchyard::guard
