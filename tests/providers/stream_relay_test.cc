// OpenAiStreamRelay: byte-faithful event forwarding whatever the read
// boundaries, usage-chunk stripping, and usage / finish-reason extraction.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "providers/openai_provider.h"

namespace switchyard::providers {
namespace {

// A stream as api.openai.com sends it with stream_options.include_usage.
const std::vector<std::string> kEvents = {
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}"
    "\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hel\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"lo \\n\\n there\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":"
    "null,\"finish_reason\":\"length\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,"
    "\"completion_tokens\":10,\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":"
    "3},\"completion_tokens_details\":{\"reasoning_tokens\":2}}}\n\n",
    "data: [DONE]\n\n",
};
constexpr size_t kUsageEvent = 4;

std::string Join(const std::vector<std::string>& parts, size_t skip = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != skip) out += parts[i];
  }
  return out;
}

// Every test runs twice: the parsed events read by the DOM parse only, and
// with the loop's on-demand AnswerReader (the gateway's configuration).
class OpenAiStreamRelayTest : public ::testing::TestWithParam<bool> {
 protected:
  AnswerReader* Reader() { return GetParam() ? &reader_ : nullptr; }

 private:
  AnswerReader reader_;
};

// Feeds `input` cut at the given offsets, then Finish().
std::string Relay(OpenAiStreamRelay& relay, std::string_view input,
                  const std::vector<size_t>& cuts) {
  std::string out;
  size_t pos = 0;
  for (size_t cut : cuts) {
    relay.Feed(input.substr(pos, cut - pos), out);
    pos = cut;
  }
  relay.Feed(input.substr(pos), out);
  relay.Finish(out);
  return out;
}

TEST_P(OpenAiStreamRelayTest, KeepsEverythingWhenUsageWasAskedFor) {
  const std::string input = Join(kEvents);
  OpenAiStreamRelay relay(/*strip_usage_chunk=*/false, nullptr, Reader());
  EXPECT_EQ(Relay(relay, input, {}), input);
  EXPECT_EQ(relay.events(), kEvents.size());
  EXPECT_TRUE(relay.saw_done());
}

TEST_P(OpenAiStreamRelayTest, StripsOnlyTheUsageChunkWhenAsked) {
  const std::string input = Join(kEvents);
  OpenAiStreamRelay relay(/*strip_usage_chunk=*/true, nullptr, Reader());
  EXPECT_EQ(Relay(relay, input, {}), Join(kEvents, kUsageEvent));
}

TEST_P(OpenAiStreamRelayTest, ExtractsUsageFinishReasonAndModel) {
  for (bool strip : {false, true}) {
    OpenAiStreamRelay relay(strip, nullptr, Reader());
    Relay(relay, Join(kEvents), {});
    const core::Usage& u = relay.usage();
    EXPECT_TRUE(u.present);
    EXPECT_EQ(u.prompt_tokens, 19);
    EXPECT_EQ(u.completion_tokens, 10);
    EXPECT_EQ(u.cached_prompt_tokens, 3);
    EXPECT_EQ(u.reasoning_tokens, 2);
    EXPECT_EQ(relay.finish_reason(), "length");
    EXPECT_EQ(relay.model(), "gpt-4o-mini-2024-07-18");
  }
}

// Python servers (vLLM, llama-cpp-python) put spaces after ':' and ','; a
// "usage": null on every chunk is not usage; content that merely mentions the
// words is not a key.
TEST_P(OpenAiStreamRelayTest, SpacedJsonAndLookAlikeContentAreReadCorrectly) {
  const std::vector<std::string> events = {
      "data: {\"id\": \"c1\", \"model\": \"qwen2.5-7b\", \"choices\": [{\"index\": 0, "
      "\"delta\": {\"content\": \"usage finish_reason \\\"usage\\\": 5\"}, "
      "\"finish_reason\": null}], \"usage\": null}\n\n",
      "data: {\"id\": \"c1\", \"model\": \"qwen2.5-7b\", \"choices\": [{\"index\": 0, "
      "\"delta\": {}, \"finish_reason\": \"stop\"}], \"usage\": null}\n\n",
      "data: {\"id\": \"c1\", \"model\": \"qwen2.5-7b\", \"choices\": [], \"usage\": "
      "{\"prompt_tokens\": 7, \"completion_tokens\": 4, \"total_tokens\": 11}}\n\n",
      "data: [DONE]\n\n",
  };
  std::string input;
  for (const auto& e : events) input += e;
  OpenAiStreamRelay relay(/*strip_usage_chunk=*/true, nullptr, Reader());
  const std::string out = Relay(relay, input, {});
  EXPECT_EQ(out, events[0] + events[1] + events[3]);  // the usage-only chunk is stripped
  EXPECT_EQ(relay.model(), "qwen2.5-7b");
  EXPECT_EQ(relay.finish_reason(), "stop");
  EXPECT_TRUE(relay.usage().present);
  EXPECT_EQ(relay.usage().prompt_tokens, 7);
  EXPECT_EQ(relay.usage().completion_tokens, 4);
}

TEST_P(OpenAiStreamRelayTest, EveryTwoWaySplitGivesTheSameOutput) {
  const std::string input = Join(kEvents);
  for (bool strip : {false, true}) {
    OpenAiStreamRelay whole(strip, nullptr, Reader());
    const std::string expected = Relay(whole, input, {});
    for (size_t cut = 0; cut <= input.size(); ++cut) {
      OpenAiStreamRelay relay(strip, nullptr, Reader());
      ASSERT_EQ(Relay(relay, input, {cut}), expected) << "cut at " << cut << " strip " << strip;
      ASSERT_EQ(relay.usage().prompt_tokens, 19) << "cut at " << cut;
      ASSERT_EQ(relay.finish_reason(), "length") << "cut at " << cut;
    }
  }
}

TEST_P(OpenAiStreamRelayTest, ByteByByteAndIrregularPiecesGiveTheSameOutput) {
  const std::string input = Join(kEvents);
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < input.size(); ++i) every_byte.push_back(i);
  std::vector<size_t> irregular;
  for (size_t i = 1, step = 1; i < input.size(); step = step % 13 + 2, i += step) {
    irregular.push_back(i);
  }
  for (bool strip : {false, true}) {
    OpenAiStreamRelay whole(strip, nullptr, Reader());
    const std::string expected = Relay(whole, input, {});
    OpenAiStreamRelay bytes(strip, nullptr, Reader());
    EXPECT_EQ(Relay(bytes, input, every_byte), expected);
    EXPECT_EQ(bytes.events(), kEvents.size());
    OpenAiStreamRelay pieces(strip, nullptr, Reader());
    EXPECT_EQ(Relay(pieces, input, irregular), expected);
  }
}

TEST_P(OpenAiStreamRelayTest, OutputGrowsOnlyByWholeEvents) {
  const std::string input = Join(kEvents);
  OpenAiStreamRelay relay(false, nullptr, Reader());
  std::string out;
  for (char c : input) {
    relay.Feed(std::string_view(&c, 1), out);
    // Whatever has been emitted is always a prefix made of whole events.
    EXPECT_TRUE(out.empty() || out.ends_with("\n\n"));
    EXPECT_EQ(input.compare(0, out.size(), out), 0);
  }
  EXPECT_EQ(out, input);
}

TEST_P(OpenAiStreamRelayTest, CrLfEventsAreRecognisedAndKeptVerbatim) {
  std::vector<std::string> crlf;
  for (std::string e : kEvents) {
    e.resize(e.size() - 2);
    crlf.push_back(e + "\r\n\r\n");
  }
  const std::string input = Join(crlf);
  for (size_t cut = 0; cut <= input.size(); cut += 7) {
    OpenAiStreamRelay relay(/*strip_usage_chunk=*/true, nullptr, Reader());
    ASSERT_EQ(Relay(relay, input, {cut}), Join(crlf, kUsageEvent)) << "cut at " << cut;
    ASSERT_EQ(relay.usage().prompt_tokens, 19);
    ASSERT_EQ(relay.finish_reason(), "length");
    ASSERT_TRUE(relay.saw_done());
  }
}

TEST_P(OpenAiStreamRelayTest, CommentsAndEventFieldsPassThrough) {
  const std::string input =
      ": keep-alive\n\n"
      "event: message\nid: 7\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
      "data: [DONE]\n\n";
  OpenAiStreamRelay relay(true, nullptr, Reader());
  EXPECT_EQ(Relay(relay, input, {5, 30}), input);
  EXPECT_EQ(relay.events(), 3u);
  EXPECT_FALSE(relay.usage().present);
}

TEST_P(OpenAiStreamRelayTest, MultiLineDataIsJoinedForInspection) {
  const std::string usage_event =
      "data: {\"choices\":[],\n"
      "data: \"usage\":{\"prompt_tokens\":4,\"completion_tokens\":1}}\n\n";
  OpenAiStreamRelay relay(true, nullptr, Reader());
  EXPECT_EQ(Relay(relay, usage_event + "data: [DONE]\n\n", {}), "data: [DONE]\n\n");
  EXPECT_EQ(relay.usage().prompt_tokens, 4);
  EXPECT_EQ(relay.usage().completion_tokens, 1);
}

TEST_P(OpenAiStreamRelayTest, FinishFlushesAnUnterminatedLastEvent) {
  OpenAiStreamRelay relay(false, nullptr, Reader());
  std::string out;
  relay.Feed("data: {\"a\":1}\n\ndata: [DONE]", out);
  EXPECT_EQ(out, "data: {\"a\":1}\n\n");
  EXPECT_FALSE(relay.saw_done());
  relay.Finish(out);
  EXPECT_EQ(out, "data: {\"a\":1}\n\ndata: [DONE]");
  EXPECT_TRUE(relay.saw_done());
  relay.Finish(out);  // nothing left
  EXPECT_EQ(out, "data: {\"a\":1}\n\ndata: [DONE]");
}

TEST_P(OpenAiStreamRelayTest, UsageChunkWithChoicesIsKeptEvenWhenStripping) {
  // Some servers (vLLM with continuous usage) put usage on content chunks:
  // those carry content and must reach the client.
  const std::string event =
      "data: "
      "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
      "\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}\n\n";
  OpenAiStreamRelay relay(true, nullptr, Reader());
  EXPECT_EQ(Relay(relay, event, {}), event);
  EXPECT_EQ(relay.usage().completion_tokens, 1);
  EXPECT_EQ(relay.finish_reason(), "stop");
}

TEST_P(OpenAiStreamRelayTest, CompletionTextJoinsTheDeltasOfAStreamWithoutUsage) {
  std::vector<std::string> no_usage = kEvents;
  no_usage.erase(no_usage.begin() + kUsageEvent);
  OpenAiStreamRelay relay(true, nullptr, Reader());
  Relay(relay, Join(no_usage), {17, 400});
  EXPECT_FALSE(relay.usage().present);
  EXPECT_EQ(relay.CompletionText(), "Hello \n\n there");
}

TEST(ParseOpenAiUsageTest, ReadsAChatCompletion) {
  core::Usage u;
  std::string model, finish;
  EXPECT_TRUE(ParseOpenAiUsage(
      R"({"id":"x","model":"m-1","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})",
      u, &model, &finish));
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.prompt_tokens, 5);
  EXPECT_EQ(u.completion_tokens, 2);
  EXPECT_EQ(model, "m-1");
  EXPECT_EQ(finish, "stop");
}

TEST(ParseOpenAiUsageTest, FalseWithoutUsageOrForBadJson) {
  core::Usage u;
  std::string model;
  EXPECT_FALSE(ParseOpenAiUsage(R"({"model":"m","usage":null})", u, &model, nullptr));
  EXPECT_EQ(model, "m");
  EXPECT_FALSE(u.present);
  EXPECT_FALSE(ParseOpenAiUsage("not json", u, nullptr, nullptr));
  EXPECT_FALSE(u.present);
}

// The on-demand answer reader gives what the DOM path (ParseOpenAiUsage, then
// ParseOpenAiContent without usage) gives, for answers with the keys in any
// order, nested values it skips, escapes, and without or with a null usage.
TEST(AnswerReaderTest, SameAsTheDomPath) {
  const std::vector<std::string> answers = {
      R"({"id":"x","object":"chat.completion","created":1,"model":"m-1","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":1}},"system_fingerprint":"fp"})",
      R"({"usage":{"completion_tokens":9,"prompt_tokens":4},"choices":[{"finish_reason":"length","message":{"content":"a","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{\"x\":[1,2]}"}}]}}],"model":"m-2"})",
      R"({"model":"m-3","choices":[{"message":{"role":"assistant","content":"line1\nline2 \u00e9 \"q\""},"finish_reason":null}]})",
      R"({"model":"m-4","choices":[],"usage":null})",
      R"({"choices":[{"delta":{"content":"d"}},{"message":{"content":"second"}}],"extra":{"usage":{"prompt_tokens":99}}})",
      R"( {"model":"m-5","choices":[{"message":{"content":null},"finish_reason":"stop"}]} )",
  };
  AnswerReader reader;
  for (const std::string& answer : answers) {
    SCOPED_TRACE(answer);
    core::Usage dom_usage;
    std::string dom_model, dom_finish, dom_content;
    if (!ParseOpenAiUsage(answer, dom_usage, &dom_model, &dom_finish)) {
      dom_content = ParseOpenAiContent(answer);
    }
    std::string body = answer;
    OpenAiAnswer got;
    ASSERT_TRUE(reader.Read(body, got));
    EXPECT_EQ(body, answer);
    EXPECT_GE(body.capacity(), body.size() + simdjson::SIMDJSON_PADDING);
    EXPECT_EQ(got.usage.present, dom_usage.present);
    EXPECT_EQ(got.usage.prompt_tokens, dom_usage.prompt_tokens);
    EXPECT_EQ(got.usage.completion_tokens, dom_usage.completion_tokens);
    EXPECT_EQ(got.usage.cached_prompt_tokens, dom_usage.cached_prompt_tokens);
    EXPECT_EQ(got.usage.reasoning_tokens, dom_usage.reasoning_tokens);
    EXPECT_EQ(got.model, dom_model);
    EXPECT_EQ(got.finish_reason, dom_finish);
    EXPECT_EQ(got.content, dom_content);
  }
}

TEST(AnswerReaderTest, ReadsUsageDetailsAndLeavesContentOutWithUsage) {
  AnswerReader reader;
  std::string body =
      R"({"model":"m","choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":2}}})";
  OpenAiAnswer got;
  ASSERT_TRUE(reader.Read(body, got));
  EXPECT_TRUE(got.usage.present);
  EXPECT_EQ(got.usage.prompt_tokens, 12);
  EXPECT_EQ(got.usage.completion_tokens, 3);
  EXPECT_EQ(got.usage.cached_prompt_tokens, 8);
  EXPECT_EQ(got.usage.reasoning_tokens, 2);
  EXPECT_EQ(got.finish_reason, "stop");
  EXPECT_EQ(got.content, "");  // only needed (to count tokens) without usage
}

// ReadEvent reuses one answer: each read starts from nothing, so a chunk
// without usage or model does not keep the previous chunk's; what it cannot
// read is null.
TEST(AnswerReaderTest, ReadEventStartsEachReadAfresh) {
  AnswerReader reader;
  const OpenAiAnswer* usage = reader.ReadEvent(
      R"({"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}})");
  ASSERT_NE(usage, nullptr);
  EXPECT_TRUE(usage->usage.present);
  EXPECT_EQ(usage->usage.prompt_tokens, 5);
  EXPECT_EQ(usage->model, "gpt-4o-mini-2024-07-18");
  const OpenAiAnswer* chunk =
      reader.ReadEvent(R"({"choices":[{"delta":{"content":"hi"},"finish_reason":null}]})");
  ASSERT_NE(chunk, nullptr);
  EXPECT_FALSE(chunk->usage.present);
  EXPECT_EQ(chunk->usage.prompt_tokens, 0);
  EXPECT_EQ(chunk->model, "");
  EXPECT_EQ(chunk->finish_reason, "");
  EXPECT_EQ(chunk->content, "hi");
  EXPECT_EQ(reader.ReadEvent("not json"), nullptr);
}

// Keys are compared as sent: a key that spells "usage" with an escape is
// another key to the reader (the DOM path would unescape it).
TEST(AnswerReaderTest, KeysAreComparedAsSent) {
  AnswerReader reader;
  std::string body =
      R"({"model":"m","choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],)"
      R"("us\u0061ge":{"prompt_tokens":12,"completion_tokens":3}})";
  OpenAiAnswer got;
  ASSERT_TRUE(reader.Read(body, got));
  EXPECT_FALSE(got.usage.present);
  EXPECT_EQ(got.content, "hi");  // read because there is no usage
  EXPECT_EQ(got.finish_reason, "stop");
}

// What it cannot read to the end is left to the DOM path: not JSON, not an
// object, content after the object, a truncated answer, an empty body.
TEST(AnswerReaderTest, FalseForWhatItCannotReadToTheEnd) {
  AnswerReader reader;
  for (std::string body :
       {std::string("not json"), std::string("[1,2]"), std::string(R"({"model":"m"} {"x":1})"),
        std::string(R"({"model":"m","choices":[{"message":{"content":"cut)"),
        std::string(R"({"model":"m","usage":{"prompt_tokens":1)"), std::string()}) {
    SCOPED_TRACE(body);
    OpenAiAnswer got;
    got.model = "stale";
    EXPECT_FALSE(reader.Read(body, got));
  }
}

// A chunk the on-demand reader does not read ("choices" not an array) still
// gives its usage through the DOM parse; a space before the colon is a key.
TEST_P(OpenAiStreamRelayTest, UsageInAChunkTheReaderRefusesIsStillRead) {
  const std::string usage_event =
      "data: {\"model\": \"m1\", \"choices\": {}, \"usage\" : {\"prompt_tokens\": 5, "
      "\"completion_tokens\": 6}}\n\n";
  const std::string input = usage_event + "data: [DONE]\n\n";
  OpenAiStreamRelay relay(/*strip_usage_chunk=*/false, nullptr, Reader());
  EXPECT_EQ(Relay(relay, input, {}), input);
  EXPECT_TRUE(relay.usage().present);
  EXPECT_EQ(relay.usage().prompt_tokens, 5);
  EXPECT_EQ(relay.usage().completion_tokens, 6);
  EXPECT_EQ(relay.model(), "m1");
}

// Keys are found wherever they are: "usage" before "choices" (as some servers
// order them), "finish_reason" before "delta", and a first "finish_reason"
// that is a content word does not hide the real one.
TEST_P(OpenAiStreamRelayTest, KeysAreFoundInAnyOrder) {
  const std::vector<std::string> events = {
      "data: {\"usage\":null,\"model\":\"m2\",\"choices\":[{\"finish_reason\":null,"
      "\"delta\":{\"content\":\"finish_reason usage\"},\"index\":0}]}\n\n",
      "data: {\"usage\":null,\"choices\":[{\"finish_reason\":\"tool_calls\",\"delta\":{},"
      "\"index\":0}],\"model\":\"m2\"}\n\n",
      "data: {\"usage\":{\"completion_tokens\":3,\"prompt_tokens\":2},\"choices\":[],"
      "\"model\":\"m2\"}\n\n",
  };
  OpenAiStreamRelay relay(/*strip_usage_chunk=*/true, nullptr, Reader());
  EXPECT_EQ(Relay(relay, events[0] + events[1] + events[2], {}), events[0] + events[1]);
  EXPECT_EQ(relay.model(), "m2");
  EXPECT_EQ(relay.finish_reason(), "tool_calls");
  EXPECT_TRUE(relay.usage().present);
  EXPECT_EQ(relay.usage().prompt_tokens, 2);
  EXPECT_EQ(relay.usage().completion_tokens, 3);
}

// The model comes from the top-level object only: a "model" key inside a
// nested object, a "model" string value and an escaped model name are read
// by parsing the chunk, never by the quick look at its text.
TEST_P(OpenAiStreamRelayTest, ModelIsTheTopLevelOne) {
  struct Case {
    std::string first_chunk;
    std::string want;
  };
  const std::vector<Case> cases = {
      {R"({"id":"c","model":"m1","choices":[{"index":0,"delta":{"content":"a"}}]})", "m1"},
      {R"({"meta":{"model":"inner"},"model":"outer","choices":[]})", "outer"},
      {R"({"kind":"model","model":"m3","choices":[]})", "m3"},
      {R"({"model":"a\"b","choices":[]})", "a\"b"},
      {R"({"choices":[{"delta":{"model":"no"}}], "model" : "m5"})", "m5"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.first_chunk);
    OpenAiStreamRelay relay(/*strip_usage_chunk=*/false, nullptr, Reader());
    const std::string input = "data: " + c.first_chunk + "\n\ndata: [DONE]\n\n";
    EXPECT_EQ(Relay(relay, input, {}), input);
    EXPECT_EQ(relay.model(), c.want);
  }
}

TEST(AnswerReaderTest, ReadCopyReadsAChunk) {
  AnswerReader reader;
  const std::string chunk =
      R"({"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]})";
  OpenAiAnswer got;
  ASSERT_TRUE(reader.ReadCopy(chunk, got));
  EXPECT_EQ(got.model, "m");
  EXPECT_EQ(got.finish_reason, "stop");
  EXPECT_EQ(got.content, "Hi");
  EXPECT_FALSE(got.usage.present);
  EXPECT_FALSE(reader.ReadCopy("", got));
  EXPECT_FALSE(reader.ReadCopy(R"({"model":"m"} trailing)", got));
}

INSTANTIATE_TEST_SUITE_P(Readers, OpenAiStreamRelayTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OnDemand" : "Dom";
                         });

}  // namespace
}  // namespace switchyard::providers
