#include "api/anthropic.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace switchyard::api {
namespace {

using core::ContentPart;
using core::Message;
using core::StatusCode;

// ---------------------------------------------------------------------------
// Request translation
// ---------------------------------------------------------------------------

Message Msg(std::string role, std::string content) {
  Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

ContentPart TextPart(std::string text) {
  ContentPart p;
  p.kind = ContentPart::Kind::kText;
  p.text = std::move(text);
  return p;
}

ContentPart ImagePart(std::string url) {
  ContentPart p;
  p.kind = ContentPart::Kind::kImageUrl;
  p.url = std::move(url);
  return p;
}

core::ChatRequest Req(std::vector<Message> messages) {
  core::ChatRequest req;
  req.model = "claude-fast";
  req.messages = std::move(messages);
  return req;
}

std::string Build(const core::ChatRequest& req) {
  core::Result<std::string> body = BuildAnthropicRequest(req, "claude-sonnet-4-5", 1024);
  EXPECT_TRUE(body.ok()) << body.status().message();
  if (!body.ok()) return {};
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(*body).get(doc), simdjson::SUCCESS) << *body;
  return *body;
}

void ExpectInvalid(const core::ChatRequest& req, std::string_view message, std::string_view param) {
  core::Result<std::string> body = BuildAnthropicRequest(req, "claude-sonnet-4-5", 1024);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(body.status().message(), message);
  EXPECT_EQ(body.status().param(), param);
}

TEST(BuildAnthropicRequestTest, SystemAndDeveloperBecomeTopLevelSystem) {
  core::ChatRequest req = Req({Msg("system", "You are terse."),
                               Msg("developer", "Answer in French."), Msg("user", "Hello")});
  req.user = "tenant-7";
  EXPECT_EQ(Build(req),
            R"({"model":"claude-sonnet-4-5","max_tokens":1024,)"
            R"("system":"You are terse.\n\nAnswer in French.",)"
            R"("messages":[{"role":"user","content":"Hello"}],"metadata":{"user_id":"tenant-7"}})");
}

TEST(BuildAnthropicRequestTest, MultiPartWithImages) {
  Message user = Msg("user", "What is this?");
  user.parts = {TextPart("What is this?"), ImagePart("data:image/png;base64,iVBORw0KGgo="),
                ImagePart("https://example.com/cat.jpg")};
  core::ChatRequest req = Req({user});
  req.max_tokens = 300;
  EXPECT_EQ(
      Build(req),
      R"({"model":"claude-sonnet-4-5","max_tokens":300,"messages":[{"role":"user","content":[)"
      R"({"type":"text","text":"What is this?"},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/png",)"
      R"("data":"iVBORw0KGgo="}},)"
      R"({"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}]})");
}

TEST(BuildAnthropicRequestTest, SinglePartArrayStaysAnArray) {
  Message user = Msg("user", "hi");
  user.parts = {TextPart("hi")};
  EXPECT_EQ(Build(Req({user})),
            R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user",)"
            R"("content":[{"type":"text","text":"hi"}]}]})");
}

TEST(BuildAnthropicRequestTest, MergesConsecutiveSameRoleMessages) {
  Message with_parts = Msg("user", "see");
  with_parts.parts = {TextPart("see"), ImagePart("http://x.test/a.gif")};
  core::ChatRequest req =
      Req({Msg("user", "first"), Msg("system", "sys"), Msg("user", "second"), with_parts,
           Msg("assistant", "a1"), Msg("assistant", "a2"), Msg("user", "last")});
  EXPECT_EQ(Build(req),
            R"({"model":"claude-sonnet-4-5","max_tokens":1024,"system":"sys","messages":[)"
            R"({"role":"user","content":[{"type":"text","text":"first"},)"
            R"({"type":"text","text":"second"},{"type":"text","text":"see"},)"
            R"({"type":"image","source":{"type":"url","url":"http://x.test/a.gif"}}]},)"
            R"({"role":"assistant","content":[{"type":"text","text":"a1"},)"
            R"({"type":"text","text":"a2"}]},)"
            R"({"role":"user","content":"last"}]})");
}

TEST(BuildAnthropicRequestTest, ToolsToolChoiceAndToolResultRoundTrip) {
  Message assistant = Msg("assistant", "");
  assistant.content_is_null = true;
  assistant.tool_calls = {{"toolu_A", "get_weather", "{\"city\": \"Paris\"}"},
                          {"toolu_B", "get_time", ""}};
  Message result_a = Msg("tool", "18C and sunny");
  result_a.tool_call_id = "toolu_A";
  Message result_b = Msg("tool", "");
  result_b.tool_call_id = "toolu_B";
  core::ChatRequest req = Req({Msg("user", "Weather in Paris?"), assistant, result_a, result_b,
                               Msg("user", "Thanks, and tomorrow?")});
  req.tools_json =
      R"([{"type":"function","function":{"name":"get_weather","description":"Current weather",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}},)"
      R"("required":["city"]}}},)"
      R"( {"type":"function","function":{"name":"get_time"}}])";
  req.tool_choice_json = R"({"type":"function","function":{"name":"get_weather"}})";
  EXPECT_EQ(Build(req),
            R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[)"
            R"({"role":"user","content":"Weather in Paris?"},)"
            R"({"role":"assistant","content":[)"
            R"({"type":"tool_use","id":"toolu_A","name":"get_weather","input":{"city": "Paris"}},)"
            R"({"type":"tool_use","id":"toolu_B","name":"get_time","input":{}}]},)"
            R"({"role":"user","content":[)"
            R"({"type":"tool_result","tool_use_id":"toolu_A","content":"18C and sunny"},)"
            R"({"type":"tool_result","tool_use_id":"toolu_B"},)"
            R"({"type":"text","text":"Thanks, and tomorrow?"}]}],)"
            R"("tools":[{"name":"get_weather","description":"Current weather","input_schema":)"
            R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},)"
            R"({"name":"get_time","input_schema":{"type":"object","properties":{}}}],)"
            R"("tool_choice":{"type":"tool","name":"get_weather"}})");
}

TEST(BuildAnthropicRequestTest, ToolResultsComeBeforeTextInAMergedUserTurn) {
  Message assistant = Msg("assistant", "Let me check.");
  assistant.tool_calls = {{"t1", "f", "{}"}};
  Message result = Msg("tool", "42");
  result.tool_call_id = "t1";
  EXPECT_EQ(Build(Req({Msg("user", "q"), assistant, Msg("user", "hurry"), result})),
            R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[)"
            R"({"role":"user","content":"q"},)"
            R"({"role":"assistant","content":[{"type":"text","text":"Let me check."},)"
            R"({"type":"tool_use","id":"t1","name":"f","input":{}}]},)"
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"42"},)"
            R"({"type":"text","text":"hurry"}]}]})");
}

TEST(BuildAnthropicRequestTest, ToolChoiceStrings) {
  core::ChatRequest req = Req({Msg("user", "hi")});
  req.tools_json = R"([{"type":"function","function":{"name":"f"}}])";
  const std::string prefix =
      R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"hi"}],)"
      R"("tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}])";

  req.tool_choice_json = R"("auto")";
  EXPECT_EQ(Build(req), prefix + R"(,"tool_choice":{"type":"auto"}})");
  req.tool_choice_json = R"("required")";
  EXPECT_EQ(Build(req), prefix + R"(,"tool_choice":{"type":"any"}})");
  req.tool_choice_json = "";
  EXPECT_EQ(Build(req), prefix + "}");
  // "none" without tool history: the tools are dropped.
  req.tool_choice_json = R"("none")";
  EXPECT_EQ(Build(req), R"({"model":"claude-sonnet-4-5","max_tokens":1024,)"
                        R"("messages":[{"role":"user","content":"hi"}]})");
}

TEST(BuildAnthropicRequestTest, ToolChoiceNoneWithToolHistoryKeepsToolsWithTypeNone) {
  Message assistant = Msg("assistant", "");
  assistant.content_is_null = true;
  assistant.tool_calls = {{"t1", "f", "{}"}};
  Message result = Msg("tool", "done");
  result.tool_call_id = "t1";
  core::ChatRequest req = Req({Msg("user", "go"), assistant, result});
  req.tools_json = R"([{"type":"function","function":{"name":"f"}}])";
  req.tool_choice_json = R"("none")";
  EXPECT_EQ(
      Build(req),
      R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[)"
      R"({"role":"user","content":"go"},)"
      R"({"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},)"
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"done"}]}],)"
      R"("tools":[{"name":"f","input_schema":{"type":"object","properties":{}}}],)"
      R"("tool_choice":{"type":"none"}})");
}

TEST(BuildAnthropicRequestTest, StopListSamplingAndStream) {
  core::ChatRequest req = Req({Msg("user", "count")});
  req.stop = {"\n\n", "END"};
  req.temperature = 0.7;
  req.top_p = 0.9;
  req.stream = true;
  req.max_tokens = 50;
  EXPECT_EQ(Build(req),
            R"({"model":"claude-sonnet-4-5","max_tokens":50,)"
            R"("messages":[{"role":"user","content":"count"}],)"
            R"("stop_sequences":["\n\n","END"],"temperature":0.7,"top_p":0.9,"stream":true})");
}

TEST(BuildAnthropicRequestTest, RejectsRequestWithoutUserOrAssistantMessage) {
  ExpectInvalid(Req({Msg("system", "only system")}),
                "messages: Anthropic requires at least one user or assistant message", "messages");
  ExpectInvalid(Req({}), "messages: Anthropic requires at least one user or assistant message",
                "messages");
}

TEST(BuildAnthropicRequestTest, RejectsBadInputWithExactMessages) {
  ExpectInvalid(Req({Msg("user", "a"), Msg("function", "x")}),
                "messages[1].role: \"function\" is not supported by Anthropic", "messages[1].role");

  ExpectInvalid(Req({Msg("user", "a"), Msg("tool", "x")}),
                "messages[1].tool_call_id: required for role \"tool\"", "messages[1].tool_call_id");

  Message bad_args = Msg("assistant", "");
  bad_args.tool_calls = {{"t1", "f", "{}"}, {"t2", "g", "[1,2]"}};
  ExpectInvalid(Req({Msg("user", "a"), bad_args}),
                "messages[1].tool_calls[1].function.arguments: not a JSON object",
                "messages[1].tool_calls[1].function.arguments");
  bad_args.tool_calls = {{"t1", "f", "{\"a\":"}};
  ExpectInvalid(Req({Msg("user", "a"), bad_args}),
                "messages[1].tool_calls[0].function.arguments: not a JSON object",
                "messages[1].tool_calls[0].function.arguments");

  Message image = Msg("user", "");
  image.parts = {TextPart("x"), ImagePart("data:image/png,rawbytes")};
  ExpectInvalid(Req({image}), "messages[0].content[1].image_url: data URL must be base64-encoded",
                "messages[0].content[1].image_url");
  image.parts = {ImagePart("data:;base64,AAAA")};
  ExpectInvalid(Req({image}), "messages[0].content[0].image_url: data URL has no media type",
                "messages[0].content[0].image_url");
  image.parts = {ImagePart("ftp://x/y.png")};
  ExpectInvalid(Req({image}), "messages[0].content[0].image_url: expected an http(s) or data URL",
                "messages[0].content[0].image_url");

  Message audio = Msg("user", "");
  ContentPart other;
  other.kind = ContentPart::Kind::kOther;
  other.raw_json = R"({"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}})";
  audio.parts = {other};
  ExpectInvalid(
      Req({audio}),
      "messages[0].content[0]: content part \"input_audio\" is not supported by Anthropic",
      "messages[0].content[0]");
}

TEST(BuildAnthropicRequestTest, RejectsUnsupportedToolsAndToolChoice) {
  core::ChatRequest req = Req({Msg("user", "hi")});
  req.tools_json = R"({"type":"function"})";
  ExpectInvalid(req, "tools: expected an array of tools", "tools");
  req.tools_json = R"([{"type":"function","function":{"name":"f"}},{"type":"custom","custom":{}}])";
  ExpectInvalid(req, "tools[1]: only function tools are supported by Anthropic", "tools[1]");
  req.tools_json = R"([{"type":"function","function":{"description":"no name"}}])";
  ExpectInvalid(req, "tools[0].function.name: required", "tools[0].function.name");
  req.tools_json = R"([{"type":"function","function":{"name":"f"}}])";
  req.tool_choice_json = R"("sometimes")";
  ExpectInvalid(req, "tool_choice: unsupported value", "tool_choice");
  req.tool_choice_json = R"({"type":"function"})";
  ExpectInvalid(req, "tool_choice: unsupported value", "tool_choice");
}

// ---------------------------------------------------------------------------
// Response parsing
// ---------------------------------------------------------------------------

TEST(ParseAnthropicResponseTest, TextAnswerWithCacheUsage) {
  const std::string body = R"({
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [
    {"type": "thinking", "thinking": "hmm", "signature": "abc"},
    {"type": "text", "text": "Hello"},
    {"type": "text", "text": ", world"}
  ],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 12,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 2000,
    "output_tokens": 7,
    "service_tier": "standard"
  }
})";
  core::Result<core::ChatResponse> r = ParseAnthropicResponse(body);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->id, "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(r->model, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(r->created, 0);
  EXPECT_EQ(r->content, "Hello, world");
  EXPECT_FALSE(r->content_is_null);
  EXPECT_EQ(r->finish_reason, "stop");
  EXPECT_TRUE(r->tool_calls.empty());
  EXPECT_EQ(r->usage.prompt_tokens, 2112);
  EXPECT_EQ(r->usage.completion_tokens, 7);
  EXPECT_EQ(r->usage.cached_prompt_tokens, 2000);
  EXPECT_EQ(r->usage.cache_write_tokens, 100);
  EXPECT_TRUE(r->usage.present);
  EXPECT_FALSE(r->usage.estimated);
}

TEST(ParseAnthropicResponseTest, ToolUseOnlyGivesNullContent) {
  const std::string body =
      R"({"id":"msg_2","type":"message","role":"assistant","model":"claude-haiku-4-5",)"
      R"("content":[{"type":"tool_use","id":"toolu_01A","name":"get_weather",)"
      R"("input":{"location":"San Francisco, CA","unit":"celsius","days":3}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":9}})";
  core::Result<core::ChatResponse> r = ParseAnthropicResponse(body);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->content_is_null);
  EXPECT_EQ(r->content, "");
  EXPECT_EQ(r->finish_reason, "tool_calls");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].id, "toolu_01A");
  EXPECT_EQ(r->tool_calls[0].name, "get_weather");
  EXPECT_EQ(r->tool_calls[0].arguments,
            R"({"location":"San Francisco, CA","unit":"celsius","days":3})");
  EXPECT_EQ(r->usage.prompt_tokens, 5);
  EXPECT_EQ(r->usage.cached_prompt_tokens, 0);
}

TEST(ParseAnthropicResponseTest, TextAndToolUseKeepsContent) {
  const std::string body =
      R"({"id":"m","model":"c","content":[{"type":"text","text":"Checking."},)"
      R"({"type":"tool_use","id":"t","name":"f","input":{}}],"stop_reason":"tool_use"})";
  core::Result<core::ChatResponse> r = ParseAnthropicResponse(body);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->content_is_null);
  EXPECT_EQ(r->content, "Checking.");
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].arguments, "{}");
  EXPECT_FALSE(r->usage.present);
}

TEST(ParseAnthropicResponseTest, MapsStopReasons) {
  const std::pair<const char*, const char*> cases[] = {
      {"end_turn", "stop"},       {"stop_sequence", "stop"},     {"max_tokens", "length"},
      {"tool_use", "tool_calls"}, {"refusal", "content_filter"}, {"pause_turn", "stop"}};
  for (const auto& [anthropic, openai] : cases) {
    const std::string body =
        std::string(R"({"id":"m","model":"c","content":[],"stop_reason":")") + anthropic + "\"}";
    core::Result<core::ChatResponse> r = ParseAnthropicResponse(body);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->finish_reason, openai) << anthropic;
    EXPECT_EQ(MapAnthropicStopReason(anthropic), openai);
  }
}

TEST(ParseAnthropicResponseTest, MalformedBodiesAreUnavailable) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "anthropic: malformed response: Empty: no JSON found"},
      {"{\"id\":",
       "anthropic: malformed response: "
       "The JSON document has an improper structure: missing or superfluous commas, "
       "braces, missing keys, etc."},
      {"[1,2]", "anthropic: malformed response: expected a JSON object"},
      {R"({"id":"m","content":"text"})",
       "anthropic: malformed response: missing \"content\" array"},
  };
  for (const auto& [body, message] : cases) {
    core::Result<core::ChatResponse> r = ParseAnthropicResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(r.status().message(), message);
  }
}

// ---------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------

TEST(AnthropicErrorToStatusTest, MapsHttpStatusAndExtractsMessage) {
  const std::pair<int, StatusCode> cases[] = {
      {400, StatusCode::kInvalidArgument},   {401, StatusCode::kUnauthenticated},
      {403, StatusCode::kPermissionDenied},  {404, StatusCode::kNotFound},
      {413, StatusCode::kPayloadTooLarge},   {422, StatusCode::kInvalidArgument},
      {429, StatusCode::kResourceExhausted}, {500, StatusCode::kUnavailable},
      {503, StatusCode::kUnavailable},       {529, StatusCode::kUnavailable}};
  for (const auto& [http, code] : cases) {
    const core::Status s = AnthropicErrorToStatus(
        http, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},)"
              R"("request_id":"req_1"})");
    EXPECT_EQ(s.code(), code) << http;
    EXPECT_EQ(s.message(), "anthropic: Overloaded");
    EXPECT_EQ(s.upstream_status(), http);
  }
}

TEST(AnthropicErrorToStatusTest, RealInvalidRequestBody) {
  const core::Status s =
      AnthropicErrorToStatus(400, R"({"type":"error","error":{"type":"invalid_request_error",)"
                                  R"("message":"max_tokens: Field required"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "anthropic: max_tokens: Field required");
}

TEST(AnthropicErrorToStatusTest, FallsBackToHttpStatusAndBodyExcerpt) {
  const core::Status html = AnthropicErrorToStatus(502, "  <html>Bad Gateway</html>\n");
  EXPECT_EQ(html.code(), StatusCode::kUnavailable);
  EXPECT_EQ(html.message(), "anthropic: HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(html.upstream_status(), 502);

  const core::Status empty = AnthropicErrorToStatus(503, "");
  EXPECT_EQ(empty.message(), "anthropic: HTTP 503");

  const core::Status long_body = AnthropicErrorToStatus(500, std::string(500, 'x'));
  EXPECT_EQ(long_body.message(), "anthropic: HTTP 500: " + std::string(200, 'x'));

  const core::Status no_message = AnthropicErrorToStatus(401, R"({"error":{"type":"x"}})");
  EXPECT_EQ(no_message.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(no_message.message(), R"(anthropic: HTTP 401: {"error":{"type":"x"}})");
}

// ---------------------------------------------------------------------------
// Stream translation
// ---------------------------------------------------------------------------

// A text answer exactly as the Messages API streams it.
constexpr std::string_view kTextStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-"
    "20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,"
    "\"cache_creation_input_tokens\":10,\"cache_read_input_tokens\":300,\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\" \\\"world\\\"\\n\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

// Text followed by a tool call (the shape of the API's tool-use streaming example).
constexpr std::string_view kToolStream =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\","
    "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-haiku-4-5\","
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,\"output_tokens\":2},\"content\":[],"
    "\"stop_reason\":null}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Okay\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"location\\\":\"}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\" \\\"San Francisco, CA\\\"}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_02\",\"name\":\"get_time\",\"input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":2}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

std::string Frame(std::string_view id, std::string_view choices_and_rest) {
  return std::string(R"(data: {"id":")") + std::string(id) +
         R"(","object":"chat.completion.chunk","created":1700000000,"model":"claude-fast",)" +
         R"("choices":)" + std::string(choices_and_rest) + "\n\n";
}

std::string Delta(std::string_view id, std::string_view delta, std::string_view finish = "null") {
  return Frame(id, std::string(R"([{"index":0,"delta":)") + std::string(delta) +
                       R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]}");
}

struct Translated {
  std::string out;
  core::Status status;
  bool done = false;
  core::Usage usage;
  std::string finish_reason;
};

Translated TranslateWhole(std::string_view stream, bool include_usage) {
  AnthropicStreamTranslator t("chatcmpl-fallback", "claude-fast", 1700000000, include_usage);
  Translated r;
  r.status = t.Feed(stream, r.out);
  r.done = t.done();
  r.usage = t.usage();
  r.finish_reason = t.finish_reason();
  return r;
}

Translated TranslateBytewise(std::string_view stream, bool include_usage) {
  AnthropicStreamTranslator t("chatcmpl-fallback", "claude-fast", 1700000000, include_usage);
  Translated r;
  for (char c : stream) {
    r.status = t.Feed(std::string_view(&c, 1), r.out);
    if (!r.status.ok()) break;
  }
  r.done = t.done();
  r.usage = t.usage();
  r.finish_reason = t.finish_reason();
  return r;
}

std::string WithCrLf(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

TEST(AnthropicStreamTranslatorTest, TextStreamWithUsage) {
  constexpr std::string_view kId = "msg_01XFDUDYJgAACzvnptvVoYEL";
  const std::string expected =
      Delta(kId, R"({"role":"assistant","content":""})") + Delta(kId, R"({"content":"Hello"})") +
      Delta(kId, R"({"content":" \"world\"\n"})") + Delta(kId, "{}", R"("stop")") +
      Frame(kId, R"([],"usage":{"prompt_tokens":335,"completion_tokens":15,)"
                 R"("total_tokens":350,"prompt_tokens_details":{"cached_tokens":300},)"
                 R"("completion_tokens_details":{"reasoning_tokens":0}}})") +
      "data: [DONE]\n\n";

  const Translated whole = TranslateWhole(kTextStream, true);
  ASSERT_TRUE(whole.status.ok()) << whole.status.message();
  EXPECT_EQ(whole.out, expected);
  EXPECT_TRUE(whole.done);
  EXPECT_EQ(whole.finish_reason, "stop");
  EXPECT_EQ(whole.usage.prompt_tokens, 335);
  EXPECT_EQ(whole.usage.completion_tokens, 15);
  EXPECT_EQ(whole.usage.cached_prompt_tokens, 300);
  EXPECT_EQ(whole.usage.cache_write_tokens, 10);
  EXPECT_TRUE(whole.usage.present);

  const Translated bytewise = TranslateBytewise(kTextStream, true);
  ASSERT_TRUE(bytewise.status.ok()) << bytewise.status.message();
  EXPECT_EQ(bytewise.out, expected);
  EXPECT_TRUE(bytewise.done);

  const Translated crlf = TranslateBytewise(WithCrLf(kTextStream), true);
  ASSERT_TRUE(crlf.status.ok()) << crlf.status.message();
  EXPECT_EQ(crlf.out, expected);
}

TEST(AnthropicStreamTranslatorTest, WithoutIncludeUsageThereIsNoUsageChunk) {
  constexpr std::string_view kId = "msg_01XFDUDYJgAACzvnptvVoYEL";
  const std::string expected = Delta(kId, R"({"role":"assistant","content":""})") +
                               Delta(kId, R"({"content":"Hello"})") +
                               Delta(kId, R"({"content":" \"world\"\n"})") +
                               Delta(kId, "{}", R"("stop")") + "data: [DONE]\n\n";
  EXPECT_EQ(TranslateWhole(kTextStream, false).out, expected);
  EXPECT_EQ(TranslateBytewise(kTextStream, false).out, expected);
  // usage() is still tracked for the ledger.
  EXPECT_EQ(TranslateWhole(kTextStream, false).usage.prompt_tokens, 335);
}

TEST(AnthropicStreamTranslatorTest, ToolStreamBecomesToolCallChunks) {
  constexpr std::string_view kId = "msg_014p7gG3wDgGV9EUtLvnow3U";
  const std::string expected =
      Delta(kId, R"({"role":"assistant","content":""})") + Delta(kId, R"({"content":"Okay"})") +
      Delta(kId, R"({"tool_calls":[{"index":0,"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6",)"
                 R"("type":"function","function":{"name":"get_weather","arguments":""}}]})") +
      Delta(kId, R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":"}}]})") +
      Delta(kId,
            R"({"tool_calls":[{"index":0,"function":{"arguments":" \"San Francisco, CA\"}"}}]})") +
      Delta(kId, R"({"tool_calls":[{"index":1,"id":"toolu_02","type":"function",)"
                 R"("function":{"name":"get_time","arguments":""}}]})") +
      Delta(kId, R"({"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]})") +
      Delta(kId, "{}", R"("tool_calls")") +
      Frame(kId, R"([],"usage":{"prompt_tokens":472,"completion_tokens":89,)"
                 R"("total_tokens":561,"prompt_tokens_details":{"cached_tokens":0},)"
                 R"("completion_tokens_details":{"reasoning_tokens":0}}})") +
      "data: [DONE]\n\n";
  const Translated whole = TranslateWhole(kToolStream, true);
  ASSERT_TRUE(whole.status.ok()) << whole.status.message();
  EXPECT_EQ(whole.out, expected);
  EXPECT_EQ(whole.finish_reason, "tool_calls");
  const Translated bytewise = TranslateBytewise(kToolStream, true);
  ASSERT_TRUE(bytewise.status.ok());
  EXPECT_EQ(bytewise.out, expected);
}

TEST(AnthropicStreamTranslatorTest, EveryFrameIsValidJson) {
  const Translated r = TranslateWhole(kToolStream, true);
  simdjson::dom::parser parser;
  size_t frames = 0;
  size_t pos = 0;
  while (pos < r.out.size()) {
    const size_t end = r.out.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos);
    const std::string frame = r.out.substr(pos, end - pos);
    ASSERT_EQ(frame.rfind("data: ", 0), 0u);
    const std::string payload = frame.substr(6);
    if (payload != "[DONE]") {
      simdjson::dom::element doc;
      EXPECT_EQ(parser.parse(payload).get(doc), simdjson::SUCCESS) << payload;
    }
    ++frames;
    pos = end + 2;
  }
  EXPECT_EQ(frames, 10u);
}

TEST(AnthropicStreamTranslatorTest, ErrorEventStopsTheStreamAndKeepsEarlierFrames) {
  const std::string stream =
      std::string(kTextStream.substr(0, kTextStream.find("event: content_block_stop"))) +
      "event: error\n"
      "data: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": "
      "\"Overloaded\"}}\n"
      "\n";
  constexpr std::string_view kId = "msg_01XFDUDYJgAACzvnptvVoYEL";
  const std::string expected = Delta(kId, R"({"role":"assistant","content":""})") +
                               Delta(kId, R"({"content":"Hello"})") +
                               Delta(kId, R"({"content":" \"world\"\n"})");
  for (const Translated& r : {TranslateWhole(stream, true), TranslateBytewise(stream, true)}) {
    EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
    EXPECT_EQ(r.status.message(), "anthropic: Overloaded");
    EXPECT_EQ(r.out, expected);
    EXPECT_FALSE(r.done);
  }

  AnthropicStreamTranslator t("fallback", "claude-fast", 1700000000, false);
  std::string out;
  EXPECT_FALSE(t.Feed(stream, out).ok());
  const size_t size = out.size();
  const core::Status again =
      t.Feed("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", out);
  EXPECT_EQ(again.message(), "anthropic: Overloaded");
  EXPECT_EQ(out.size(), size);
}

TEST(AnthropicStreamTranslatorTest, MalformedEventJson) {
  AnthropicStreamTranslator t("fallback", "claude-fast", 1700000000, false);
  std::string out;
  const core::Status s = t.Feed("event: message_start\ndata: {\"type\":\n\n", out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "anthropic: malformed stream event: The JSON document has an improper structure: "
            "missing or superfluous commas, braces, missing keys, etc.");
  EXPECT_EQ(out, "");
}

TEST(AnthropicStreamTranslatorTest, OversizedLineIsAnError) {
  AnthropicStreamTranslator t("fallback", "claude-fast", 1700000000, false);
  std::string out;
  const core::Status s = t.Feed("data: " + std::string(SseParser::kDefaultMaxLineBytes, 'x'), out);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "anthropic: SSE line exceeds 1048576 bytes");
}

TEST(AnthropicStreamTranslatorTest, UsesFallbackIdAndIgnoresThinkingAndTrailingBytes) {
  const std::string stream =
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"type\":\"message\",\"usage\":"
      "{\"input_tokens\":3,\"output_tokens\":0}}}\n\n"
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
      "\"thinking\",\"thinking\":\"\"}}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
      "\"thinking_delta\",\"thinking\":\"Let me think\"}}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
      "\"signature_delta\",\"signature\":\"EqQB\"}}\n\n"
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: content_block_start\n"
      "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\","
      "\"text\":\"\"}}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
      "\"text\":\"4\"}}\n\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},"
      "\"usage\":{\"output_tokens\":30}}\n\n"
      "event: message_stop\n"
      "data: {\"type\":\"message_stop\"}\n\n"
      "event: content_block_delta\n"
      "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
      "\"text\":\"late\"}}\n\n";
  constexpr std::string_view kId = "chatcmpl-fallback";
  const std::string expected = Delta(kId, R"({"role":"assistant","content":""})") +
                               Delta(kId, R"({"content":"4"})") + Delta(kId, "{}", R"("length")") +
                               "data: [DONE]\n\n";
  for (const Translated& r : {TranslateWhole(stream, false), TranslateBytewise(stream, false)}) {
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    EXPECT_EQ(r.out, expected);
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.finish_reason, "length");
    EXPECT_EQ(r.usage.prompt_tokens, 3);
    EXPECT_EQ(r.usage.completion_tokens, 30);
  }
}

TEST(AnthropicStreamTranslatorTest, MessageStopWithoutStopReasonFinishesWithStop) {
  const std::string stream =
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"usage\":"
      "{\"input_tokens\":1,\"output_tokens\":1}}}\n\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null},\"usage\":"
      "{\"output_tokens\":2}}\n\n"
      "event: message_stop\n"
      "data: {\"type\":\"message_stop\"}\n\n";
  const Translated r = TranslateWhole(stream, false);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.out, Delta("msg_x", R"({"role":"assistant","content":""})") +
                       Delta("msg_x", "{}", R"("stop")") + "data: [DONE]\n\n");
  EXPECT_EQ(r.finish_reason, "stop");
}

TEST(AnthropicStreamTranslatorTest, IncompleteStreamIsNotDone) {
  const std::string_view partial = kTextStream.substr(0, kTextStream.find("event: message_delta"));
  const Translated r = TranslateWhole(partial, true);
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.done);
  EXPECT_EQ(r.finish_reason, "");
  EXPECT_EQ(r.out.find("[DONE]"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::api
