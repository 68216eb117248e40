#include "api/openai_write.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace switchyard::api {
namespace {

// Every frame must be "data: <valid JSON>\n\n".
void ExpectValidFrame(const std::string& frame) {
  ASSERT_EQ(frame.substr(0, 6), "data: ");
  ASSERT_EQ(frame.substr(frame.size() - 2), "\n\n");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string json = frame.substr(6, frame.size() - 8);
  EXPECT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
}

TEST(WriteChatCompletionTest, WritesTextAnswerWithUsage) {
  core::ChatResponse r;
  r.id = "chatcmpl-1";
  r.model = "gpt-4o";
  r.created = 1700000000;
  r.content = "Hi \"there\"\n";
  r.finish_reason = "stop";
  r.usage = {.prompt_tokens = 10,
             .completion_tokens = 5,
             .cached_prompt_tokens = 4,
             .reasoning_tokens = 2,
             .present = true};
  EXPECT_EQ(
      WriteChatCompletion(r),
      R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\"\n"},)"
      R"("logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,)"
      R"("completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":4},)"
      R"("completion_tokens_details":{"reasoning_tokens":2}}})");
}

TEST(WriteChatCompletionTest, WritesToolCallsWithNullContentAndNoUsage) {
  core::ChatResponse r;
  r.id = "msg_1";
  r.model = "claude";
  r.created = 5;
  r.content_is_null = true;
  r.finish_reason = "tool_calls";
  r.tool_calls = {{"toolu_1", "get_weather", R"({"city":"Paris"})"}, {"toolu_2", "noop", "{}"}};
  EXPECT_EQ(WriteChatCompletion(r),
            R"({"id":"msg_1","object":"chat.completion","created":5,"model":"claude",)"
            R"("choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[)"
            R"({"id":"toolu_1","type":"function","function":{"name":"get_weather",)"
            R"("arguments":"{\"city\":\"Paris\"}"}},)"
            R"({"id":"toolu_2","type":"function","function":{"name":"noop","arguments":"{}"}}]},)"
            R"("logprobs":null,"finish_reason":"tool_calls"}]})");
}

TEST(WriteChatCompletionTest, EstimatedUsageIsWrittenAndEmptyFinishIsNull) {
  core::ChatResponse r;
  r.id = "x";
  r.model = "m";
  r.usage.prompt_tokens = 3;
  r.usage.completion_tokens = 1;
  r.usage.estimated = true;
  EXPECT_EQ(WriteChatCompletion(r),
            R"({"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],)"
            R"("usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,)"
            R"("prompt_tokens_details":{"cached_tokens":0},)"
            R"("completion_tokens_details":{"reasoning_tokens":0}}})");
}

constexpr std::string_view kHead =
    R"(data: {"id":"c1","object":"chat.completion.chunk","created":42,"model":"m1","choices":)";

TEST(ChunkWriterTest, RoleChunk) {
  std::string out;
  AppendChunkRole(out, "c1", "m1", 42);
  EXPECT_EQ(out, std::string(kHead) +
                     R"([{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,)"
                     R"("finish_reason":null}]})"
                     "\n\n");
  ExpectValidFrame(out);
}

TEST(ChunkWriterTest, ContentChunkEscapesText) {
  std::string out;
  AppendChunkContent(out, "c1", "m1", 42, "a\"b\n\x01");
  EXPECT_EQ(out, std::string(kHead) +
                     R"([{"index":0,"delta":{"content":"a\"b\n\u0001"},"logprobs":null,)"
                     R"("finish_reason":null}]})"
                     "\n\n");
  ExpectValidFrame(out);
}

TEST(ChunkWriterTest, ToolCallFirstFragmentCarriesIdTypeAndName) {
  std::string out;
  AppendChunkToolCall(out, "c1", "m1", 42, 1, "call_9", "lookup", "");
  EXPECT_EQ(out, std::string(kHead) +
                     R"([{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_9",)"
                     R"("type":"function","function":{"name":"lookup","arguments":""}}]},)"
                     R"("logprobs":null,"finish_reason":null}]})"
                     "\n\n");
  ExpectValidFrame(out);
}

TEST(ChunkWriterTest, ToolCallLaterFragmentCarriesOnlyArguments) {
  std::string out;
  AppendChunkToolCall(out, "c1", "m1", 42, 1, "", "ignored", R"({"q":)");
  EXPECT_EQ(out, std::string(kHead) + R"([{"index":0,"delta":{"tool_calls":[{"index":1,)"
                                      R"("function":{"arguments":"{\"q\":"}}]},"logprobs":null,)"
                                      R"("finish_reason":null}]})"
                                      "\n\n");
  ExpectValidFrame(out);
}

TEST(ChunkWriterTest, FinishChunkHasEmptyDelta) {
  std::string out;
  AppendChunkFinish(out, "c1", "m1", 42, "length");
  EXPECT_EQ(out, std::string(kHead) +
                     R"([{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]})"
                     "\n\n");
  ExpectValidFrame(out);
}

TEST(ChunkWriterTest, UsageChunkHasNoChoices) {
  std::string out;
  core::Usage usage;
  usage.prompt_tokens = 100;
  usage.completion_tokens = 20;
  usage.cached_prompt_tokens = 60;
  usage.present = true;
  AppendChunkUsage(out, "c1", "m1", 42, usage);
  EXPECT_EQ(out, std::string(kHead) +
                     R"([],"usage":{"prompt_tokens":100,"completion_tokens":20,)"
                     R"("total_tokens":120,"prompt_tokens_details":{"cached_tokens":60},)"
                     R"("completion_tokens_details":{"reasoning_tokens":0}}})"
                     "\n\n");
  ExpectValidFrame(out);
}

TEST(ChunkWriterTest, DoneAndAppendingKeepsEarlierFrames) {
  std::string out = "prefix|";
  AppendDone(out);
  EXPECT_EQ(out, "prefix|data: [DONE]\n\n");
}

TEST(ChunkWriterTest, UsageJsonAlone) {
  std::string out;
  core::Usage usage;
  usage.prompt_tokens = 1;
  usage.completion_tokens = 2;
  usage.reasoning_tokens = 1;
  AppendUsageJson(out, usage);
  EXPECT_EQ(out, R"({"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,)"
                 R"("prompt_tokens_details":{"cached_tokens":0},)"
                 R"("completion_tokens_details":{"reasoning_tokens":1}})");
}

}  // namespace
}  // namespace switchyard::api
