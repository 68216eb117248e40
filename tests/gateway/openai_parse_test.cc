// ChatRequestParser: every rejection with its exact message and param, the
// parsed fields; RewriteForUpstream: the model splice and include_usage.
#include "api/openai_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::api {
namespace {

core::Result<core::ChatRequest> ParseText(std::string body) {
  ChatRequestParser parser;
  return parser.Parse(body);
}

struct BadRequest {
  const char* name;
  const char* body;
  const char* message;
  const char* param;
};

void PrintTo(const BadRequest& b, std::ostream* os) {
  *os << b.name;
}

class ParseRejectTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(ParseRejectTest, NamesTheField) {
  auto r = ParseText(GetParam().body);
  ASSERT_FALSE(r.ok()) << GetParam().body;
  EXPECT_EQ(r.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), GetParam().message);
  EXPECT_EQ(r.status().param(), GetParam().param);
}

#define MSGS R"("messages":[{"role":"user","content":"hi"}])"

INSTANTIATE_TEST_SUITE_P(
    All, ParseRejectTest,
    ::testing::Values(
        BadRequest{"Empty", "", "request body is empty; expected a JSON object", ""},
        BadRequest{"InvalidJson", R"({"model": "m", )",
                   "request body is not valid JSON: JSON document ended early in the middle of an "
                   "object or array.",
                   ""},
        BadRequest{"NotJsonAtAll", "hello", "request body must be a JSON object", ""},
        BadRequest{"NotAnObject", R"(["model"])", "request body must be a JSON object", ""},
        BadRequest{"StringNotObject", R"("x")", "request body must be a JSON object", ""},
        BadRequest{"MissingModel", "{" MSGS "}", "missing required field 'model'", "model"},
        BadRequest{"ModelNotString", R"({"model":42,)" MSGS "}", "field 'model' must be a string",
                   "model"},
        BadRequest{"ModelEmpty", R"({"model":"",)" MSGS "}", "field 'model' must not be empty",
                   "model"},
        BadRequest{"MissingMessages", R"({"model":"m"})", "missing required field 'messages'",
                   "messages"},
        BadRequest{"MessagesNotArray", R"({"model":"m","messages":{}})",
                   "field 'messages' must be an array", "messages"},
        BadRequest{"EmptyMessages", R"({"model":"m","messages":[]})",
                   "field 'messages' must contain at least one message", "messages"},
        BadRequest{"MessageNotObject", R"({"model":"m","messages":["hi"]})",
                   "field 'messages[0]' must be an object", "messages[0]"},
        BadRequest{"MissingRole", R"({"model":"m","messages":[{"content":"hi"}]})",
                   "missing required field 'messages[0].role'", "messages[0].role"},
        BadRequest{"RoleNotString", R"({"model":"m","messages":[{"role":1,"content":"hi"}]})",
                   "field 'messages[0].role' must be a string", "messages[0].role"},
        BadRequest{
            "BadRole",
            R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"robot","content":"hi"}]})",
            "field 'messages[1].role' must be one of system, developer, user, assistant, "
            "tool; got \"robot\"",
            "messages[1].role"},
        BadRequest{"MissingContent", R"({"model":"m","messages":[{"role":"user"}]})",
                   "missing required field 'messages[0].content'", "messages[0].content"},
        BadRequest{"ContentNumber", R"({"model":"m","messages":[{"role":"user","content":5}]})",
                   "field 'messages[0].content' must be a string, an array of content parts, or "
                   "null",
                   "messages[0].content"},
        BadRequest{"ContentObject",
                   R"({"model":"m","messages":[{"role":"user","content":{"text":"x"}}]})",
                   "field 'messages[0].content' must be a string, an array of content parts, or "
                   "null",
                   "messages[0].content"},
        BadRequest{"ContentPartNotObject",
                   R"({"model":"m","messages":[{"role":"user","content":["x"]}]})",
                   "field 'messages[0].content[0]' must be an object", "messages[0].content[0]"},
        BadRequest{"ContentPartWithoutType",
                   R"({"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]})",
                   "missing required field 'messages[0].content[0].type'",
                   "messages[0].content[0].type"},
        BadRequest{
            "ContentPartTextNotString",
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":1}]}]})",
            "field 'messages[0].content[0].text' must be a string", "messages[0].content[0].text"},
        BadRequest{
            "ImagePartWithoutUrl",
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
            "missing required field 'messages[0].content[0].image_url.url'",
            "messages[0].content[0].image_url.url"},
        BadRequest{"ToolCallsNotArray",
                   R"({"model":"m","messages":[{"role":"assistant","tool_calls":{}}]})",
                   "field 'messages[0].tool_calls' must be an array", "messages[0].tool_calls"},
        BadRequest{"StreamNotBool", R"({"model":"m",)" MSGS R"(,"stream":"yes"})",
                   "field 'stream' must be a boolean", "stream"},
        BadRequest{"StreamOptionsNotObject", R"({"model":"m",)" MSGS R"(,"stream_options":true})",
                   "field 'stream_options' must be an object", "stream_options"},
        BadRequest{"IncludeUsageNotBool",
                   R"({"model":"m",)" MSGS R"(,"stream_options":{"include_usage":1}})",
                   "field 'stream_options.include_usage' must be a boolean",
                   "stream_options.include_usage"},
        BadRequest{"MaxTokensZero", R"({"model":"m",)" MSGS R"(,"max_tokens":0})",
                   "field 'max_tokens' must be a positive integer", "max_tokens"},
        BadRequest{"MaxTokensNegative", R"({"model":"m",)" MSGS R"(,"max_tokens":-5})",
                   "field 'max_tokens' must be a positive integer", "max_tokens"},
        BadRequest{"MaxTokensFraction", R"({"model":"m",)" MSGS R"(,"max_tokens":1.5})",
                   "field 'max_tokens' must be a positive integer", "max_tokens"},
        BadRequest{
            "MaxCompletionTokensString", R"({"model":"m",)" MSGS R"(,"max_completion_tokens":"9"})",
            "field 'max_completion_tokens' must be a positive integer", "max_completion_tokens"},
        BadRequest{"TemperatureTooHigh", R"({"model":"m",)" MSGS R"(,"temperature":2.5})",
                   "field 'temperature' must be a number between 0 and 2", "temperature"},
        BadRequest{"TemperatureNegative", R"({"model":"m",)" MSGS R"(,"temperature":-0.1})",
                   "field 'temperature' must be a number between 0 and 2", "temperature"},
        BadRequest{"TemperatureString", R"({"model":"m",)" MSGS R"(,"temperature":"hot"})",
                   "field 'temperature' must be a number", "temperature"},
        BadRequest{"TopPTooHigh", R"({"model":"m",)" MSGS R"(,"top_p":1.01})",
                   "field 'top_p' must be a number between 0 and 1", "top_p"},
        BadRequest{"StopNumber", R"({"model":"m",)" MSGS R"(,"stop":3})",
                   "field 'stop' must be a string or an array of strings", "stop"},
        BadRequest{"StopArrayOfNumbers", R"({"model":"m",)" MSGS R"(,"stop":["a",3]})",
                   "field 'stop[1]' must be a string", "stop[1]"},
        BadRequest{"ToolsNotArray", R"({"model":"m",)" MSGS R"(,"tools":{}})",
                   "field 'tools' must be an array", "tools"},
        BadRequest{"ToolChoiceNumber", R"({"model":"m",)" MSGS R"(,"tool_choice":1})",
                   "field 'tool_choice' must be a string or an object", "tool_choice"},
        BadRequest{"UserNotString", R"({"model":"m",)" MSGS R"(,"user":7})",
                   "field 'user' must be a string", "user"},
        BadRequest{"TrailingContent", R"({"model":"m",)" MSGS R"(} {"again":1})",
                   "request body has content after the JSON object", ""},
        BadRequest{"TrailingGarbage", R"({"model":"m",)" MSGS R"(}xyz)",
                   "request body is not valid JSON: JSON document ended early in the middle of an "
                   "object or array.",
                   ""}),
    [](const ::testing::TestParamInfo<BadRequest>& info) { return info.param.name; });

TEST(ParseTest, ReadsTheKnownFields) {
  auto r = ParseText(R"({
    "model": "default",
    "messages": [
      {"role": "system", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"},
                                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
      {"role": "assistant", "content": null,
       "tool_calls": [{"id": "c1", "type": "function",
                       "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "42"}
    ],
    "stream": true, "stream_options": {"include_usage": true},
    "max_completion_tokens": 100, "temperature": 0.2, "top_p": 1, "stop": ["END"],
    "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto",
    "user": "u-1", "seed": 5, "logit_bias": {"1": 2}
  })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "default");
  ASSERT_EQ(r->messages.size(), 4u);
  EXPECT_EQ(r->messages[0].role, "system");
  EXPECT_EQ(r->messages[0].content, "be brief");
  EXPECT_EQ(r->messages[1].content, "a\nb");
  ASSERT_EQ(r->messages[1].parts.size(), 3u);
  EXPECT_EQ(r->messages[1].parts[2].url, "https://x/y.png");
  EXPECT_TRUE(r->messages[2].content_is_null);
  ASSERT_EQ(r->messages[2].tool_calls.size(), 1u);
  EXPECT_EQ(r->messages[2].tool_calls[0].arguments, R"({"x":1})");
  EXPECT_EQ(r->messages[3].tool_call_id, "c1");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_TRUE(r->has_stream_options);
  EXPECT_EQ(r->max_tokens, 100);
  EXPECT_EQ(r->temperature, 0.2);
  EXPECT_EQ(r->top_p, 1.0);
  EXPECT_EQ(r->stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r->tools_json, R"([{"type": "function", "function": {"name": "f"}}])");
  EXPECT_EQ(r->tool_choice_json, R"("auto")");
  EXPECT_EQ(r->user, "u-1");
}

TEST(ParseTest, NullOptionalFieldsAreIgnored) {
  auto r = ParseText(R"({"model":"m",)" MSGS
                     R"(,"max_tokens":null,"temperature":null,"stop":null,"user":null,)"
                     R"("stream_options":null,"tools":null,"tool_choice":null})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->max_tokens.has_value());
  EXPECT_FALSE(r->temperature.has_value());
  EXPECT_FALSE(r->has_stream_options);
}

TEST(ParseTest, AParserIsReusable) {
  ChatRequestParser parser;
  std::string bad = "{";
  EXPECT_FALSE(parser.Parse(bad).ok());
  std::string good = R"({"model":"m",)" MSGS "}";
  auto r = parser.Parse(good);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "m");
}

std::string Rewrite(std::string body, std::string_view model, bool include_usage) {
  ChatRequestParser parser;
  auto r = parser.Parse(body);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  return RewriteForUpstream(body, *r, model, include_usage);
}

TEST(RewriteTest, SplicesTheModelAndKeepsEverythingElseByteForByte) {
  const std::string body =
      "{ \"temperature\" : 0.50, \"model\" :  \"default\" ,\n"
      "  \"messages\":[{\"role\":\"user\",\"content\":\"h\\u00e9llo\"}],\n"
      "  \"x_vendor\": {\"deep\": [1, 2.0e3, null]}, \"n\": 1 }";
  EXPECT_EQ(Rewrite(body, "gpt-4o-mini", false),
            "{ \"temperature\" : 0.50, \"model\" :  \"gpt-4o-mini\" ,\n"
            "  \"messages\":[{\"role\":\"user\",\"content\":\"h\\u00e9llo\"}],\n"
            "  \"x_vendor\": {\"deep\": [1, 2.0e3, null]}, \"n\": 1 }");
}

TEST(RewriteTest, EscapesTheUpstreamModelName) {
  EXPECT_EQ(Rewrite(R"({"model":"a",)" MSGS "}", "we\"ird", false),
            R"({"model":"we\"ird",)" MSGS "}");
}

TEST(RewriteTest, ModelWithEscapesInTheOriginalIsReplacedWhole) {
  EXPECT_EQ(Rewrite(R"({"model":"a\"b\\",)" MSGS "}", "m2", false), R"({"model":"m2",)" MSGS "}");
}

TEST(RewriteTest, InjectsIncludeUsageOnlyWhenAskedAndAbsent) {
  const std::string body = R"({"model":"r","stream":true,)" MSGS "}";
  EXPECT_EQ(Rewrite(body, "up", true),
            R"({"stream_options":{"include_usage":true},"model":"up","stream":true,)" MSGS "}");
  EXPECT_EQ(Rewrite(body, "up", false), R"({"model":"up","stream":true,)" MSGS "}");

  // The client's own stream_options are never touched.
  const std::string own =
      R"({"model":"r","stream":true,"stream_options":{"include_usage":false},)" MSGS "}";
  EXPECT_EQ(Rewrite(own, "up", true),
            R"({"model":"up","stream":true,"stream_options":{"include_usage":false},)" MSGS "}");
}

TEST(RewriteTest, InjectionWorksWhenTheModelComesFirstOrLast) {
  const std::string last = " \n{" MSGS R"(,"stream":true,"model":"r"})";
  EXPECT_EQ(Rewrite(last, "up", true), " \n{\"stream_options\":{\"include_usage\":true}," MSGS
                                       R"(,"stream":true,"model":"up"})");
}

}  // namespace
}  // namespace switchyard::api
