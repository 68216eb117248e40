// The redact policy's request/response plumbing (gateway/redaction.h) without
// a network: the redacted request body, JSON answers and SSE streams split at
// every byte.
#include "gateway/redaction.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

namespace switchyard::gateway {
namespace {

const guard::PiiScanner& Scanner() {
  static const guard::PiiScanner* scanner = [] {
    auto s = guard::PiiScanner::Create();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s).release();
  }();
  return *scanner;
}

constexpr char kEmail[] = "jane.doe@example.com";
constexpr char kCard[] = "4111 1111 1111 1111";

// A map that issued <EMAIL_1> for kEmail and <CARD_1> for kCard.
guard::RedactionMap MakeMap() {
  guard::RedactionMap map;
  map.PlaceholderFor("EMAIL", kEmail);
  map.PlaceholderFor("CARD", kCard);
  return map;
}

std::string Chunk(const std::string& delta_json, const std::string& finish = "null") {
  return R"(data: {"id":"c1","object":"chat.completion.chunk","created":7,"model":"m",)"
         R"("choices":[{"index":0,"delta":)" +
         delta_json + R"(,"finish_reason":)" + finish + "}]}\n\n";
}

// The concatenated delta contents (and tool-call arguments) of an SSE body,
// and the number of events; fails the test on an event that is not JSON.
struct Streamed {
  std::string content;
  std::string arguments;
  std::vector<std::string> finish_reasons;
  bool done = false;
};
Streamed Collect(const std::string& sse) {
  Streamed s;
  simdjson::dom::parser p;
  size_t pos = 0;
  while (pos < sse.size()) {
    size_t end = sse.find("\n\n", pos);
    if (end == std::string::npos) end = sse.size();
    std::string event = sse.substr(pos, end - pos);
    pos = end + 2;
    if (!event.starts_with("data: ")) {
      ADD_FAILURE() << "not a data event: " << event;
      continue;
    }
    const std::string data = event.substr(6);
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    simdjson::dom::element doc;
    if (p.parse(data).get(doc)) {
      ADD_FAILURE() << "not JSON: " << data;
      continue;
    }
    std::string_view v;
    if (!doc.at_pointer("/choices/0/delta/content").get(v)) s.content += v;
    if (!doc.at_pointer("/choices/0/delta/tool_calls/0/function/arguments").get(v)) {
      s.arguments += v;
    }
    if (!doc.at_pointer("/choices/0/finish_reason").get(v)) s.finish_reasons.emplace_back(v);
  }
  return s;
}

TEST(RedactionTest, RedactRequestRewritesEveryFieldAndReparses) {
  const std::string body =
      std::string(R"({"model":"gpt-x","user":")") + kEmail +
      R"(","messages":[{"role":"system","content":"Contact: literally <EMAIL_1>"},)"
      R"({"role":"user","name":"n","content":[{"type":"text","text":"mail )" +
      kEmail + R"( card )" + kCard +
      R"("}]},{"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function",)"
      R"("function":{"name":"send","arguments":"{\"to\":\")" +
      kEmail + R"(\"}"}}]}]})";
  api::ChatRequestParser parser;
  std::string copy = body;
  auto chat = parser.Parse(copy);
  ASSERT_TRUE(chat.ok()) << chat.status().ToString();
  const std::vector<std::string_view> texts = RequestTexts(*chat);
  ASSERT_EQ(texts.size(), 4u);  // three messages and the user field
  auto findings = Scanner().ScanTexts(texts);
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 4u);

  auto r = RedactRequest(body, *chat, *findings, Scanner(), parser);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RedactedRequest& red = **r;
  // The client's own "<EMAIL_1>" is reserved: the e-mail becomes <EMAIL_2>.
  EXPECT_EQ(red.body,
            R"({"model":"gpt-x","user":"<EMAIL_2>","messages":[{"role":"system","content":)"
            R"("Contact: literally <EMAIL_1>"},{"role":"user","name":"n","content":[{"type":)"
            R"("text","text":"mail <EMAIL_2> card <CARD_1>"}]},{"role":"assistant","content":)"
            R"(null,"tool_calls":[{"id":"t1","type":"function","function":{"name":"send",)"
            R"("arguments":"{\"to\":\"<EMAIL_2>\"}"}}]}]})");
  EXPECT_EQ(red.chat.user, "<EMAIL_2>");
  ASSERT_EQ(red.chat.messages.size(), 3u);
  EXPECT_EQ(red.chat.messages[1].content, "mail <EMAIL_2> card <CARD_1>");
  EXPECT_EQ(red.chat.messages[2].tool_calls[0].arguments, R"({"to":"<EMAIL_2>"})");
  EXPECT_TRUE(red.findings_after.empty());
  // The model span points into the redacted body.
  EXPECT_EQ(red.body.substr(red.chat.model_value_offset, red.chat.model_value_length), "\"gpt-x\"");
  ASSERT_NE(red.map.OriginalFor("<EMAIL_2>"), nullptr);
  EXPECT_EQ(*red.map.OriginalFor("<EMAIL_2>"), kEmail);
  EXPECT_EQ(red.map.OriginalFor("<EMAIL_1>"), nullptr);
}

TEST(RedactionTest, RedactRequestPassesJsonEscapedValues) {
  // The e-mail written with escapes in the raw body is still replaced.
  const std::string body =
      R"({"model":"m","messages":[{"role":"user","content":"to jane.doe\u0040example.com"}]})";
  api::ChatRequestParser parser;
  std::string copy = body;
  auto chat = parser.Parse(copy);
  ASSERT_TRUE(chat.ok());
  auto findings = Scanner().ScanTexts(RequestTexts(*chat));
  ASSERT_TRUE(findings.ok());
  ASSERT_EQ(findings->size(), 1u);
  auto r = RedactRequest(body, *chat, *findings, Scanner(), parser);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->body, R"({"model":"m","messages":[{"role":"user","content":"to <EMAIL_1>"}]})");
}

TEST(RedactionTest, RestoreJsonBodyRestoresEveryStringAndKeepsNonJson) {
  const guard::RedactionMap map = MakeMap();
  const std::string answer =
      R"({"choices":[{"message":{"content":"Mailed \u003cEMAIL_1\u003e about <CARD_1>.",)"
      R"("tool_calls":[{"function":{"arguments":"{\"to\":\"<EMAIL_1>\"}"}}]}}],"x":"<EMAIL_9>"})";
  EXPECT_EQ(RestoreJsonBody(answer, map),
            std::string(R"({"choices":[{"message":{"content":"Mailed )") + kEmail + " about " +
                kCard + R"(.","tool_calls":[{"function":{"arguments":"{\"to\":\")" + kEmail +
                R"(\"}"}}]}}],"x":"<EMAIL_9>"})");
  EXPECT_EQ(RestoreJsonBody("not json <EMAIL_1>", map), "not json <EMAIL_1>");
}

TEST(RedactionTest, SseRestorerRestoresPlaceholdersSplitAcrossDeltasAtEveryByte) {
  const guard::RedactionMap map = MakeMap();
  const std::string stream =
      Chunk(R"({"role":"assistant","content":"Wrote to <EMA"})") + Chunk(R"({"content":"IL_1"})") +
      Chunk(R"({"content":"> about <"})") + Chunk(R"({"content":"CARD_1> and <EMAIL_9> <"})") +
      Chunk(R"({"content":"EMAIL_1>"})") + Chunk("{}", "\"stop\"") + "data: [DONE]\n\n";
  const std::string expected =
      std::string("Wrote to ") + kEmail + " about " + kCard + " and <EMAIL_9> " + kEmail;
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseRestorer r(map, "c1", 7);
    std::string out;
    r.Feed(std::string_view(stream).substr(0, cut), out);
    r.Feed(std::string_view(stream).substr(cut), out);
    r.Finish(out);
    const Streamed s = Collect(out);
    ASSERT_EQ(s.content, expected) << "cut at " << cut;
    ASSERT_TRUE(s.done);
    ASSERT_EQ(s.finish_reasons, std::vector<std::string>{"stop"});
    ASSERT_EQ(out.find("<EMAIL_1>"), std::string::npos);
    ASSERT_EQ(out.find("<CARD_1>"), std::string::npos);
  }
}

TEST(RedactionTest, SseRestorerReleasesHeldTextBeforeTheFinishChunk) {
  const guard::RedactionMap map = MakeMap();
  SseRestorer r(map, "c1", 7);
  std::string out;
  r.Feed(Chunk(R"({"content":"x <CA"})"), out);
  EXPECT_EQ(Collect(out).content, "x ");
  out.clear();
  // The stream ends without completing the placeholder: the prefix comes out
  // as text in a chunk of its own, before the finish chunk.
  r.Feed(Chunk("{}", "\"length\""), out);
  EXPECT_EQ(out,
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":7,\"model\":"
            "\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"<CA\"},\"finish_reason\":"
            "null}]}\n\n" +
                Chunk("{}", "\"length\""));
  // A finish chunk that carries the rest completes it in place.
  SseRestorer r2(map, "c1", 7);
  out.clear();
  r2.Feed(Chunk(R"({"content":"x <CA"})"), out);
  r2.Feed(Chunk(R"({"content":"RD_1>"})", "\"stop\""), out);
  EXPECT_EQ(Collect(out).content, std::string("x ") + kCard);
  // Held text at the very end of a stream without [DONE] comes out at Finish().
  SseRestorer r3(map, "c1", 7);
  out.clear();
  r3.Feed(Chunk(R"({"content":"y <EMAIL_"})"), out);
  r3.Finish(out);
  EXPECT_EQ(Collect(out).content, "y <EMAIL_");
}

TEST(RedactionTest, SseRestorerRestoresToolCallArgumentsAndPassesOtherEvents) {
  const guard::RedactionMap map = MakeMap();
  const std::string stream =
      ": keep-alive\n\n" +
      Chunk(
          R"({"tool_calls":[{"index":0,"id":"t","function":{"name":"send","arguments":"{\"to\":\"<EM"}}]})") +
      Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"AIL_1>\"}"}}]})") +
      Chunk("{}", "\"tool_calls\"") + "data: [DONE]\n\n";
  SseRestorer r(map, "c1", 7);
  std::string out;
  r.Feed(stream, out);
  r.Finish(out);
  EXPECT_TRUE(out.starts_with(": keep-alive\n\n"));
  const Streamed s = Collect(out.substr(14));
  EXPECT_EQ(s.arguments, std::string(R"({"to":")") + kEmail + "\"}");
}

TEST(RedactionTest, MaskStatusKeepsTheDetails) {
  core::Status s(core::StatusCode::kResourceExhausted,
                 std::string("provider 'up' answered HTTP 429: slow down ") + kEmail);
  s.set_upstream_status(429).set_error_code("rate_limited").set_param("p");
  s.set_retry_after(std::chrono::milliseconds(1500));
  const core::Status m = MaskStatus(s, &Scanner());
  EXPECT_EQ(m.message(), "provider 'up' answered HTTP 429: slow down [email]");
  EXPECT_EQ(m.code(), s.code());
  EXPECT_EQ(m.upstream_status(), 429);
  EXPECT_EQ(m.error_code(), "rate_limited");
  EXPECT_EQ(m.param(), "p");
  EXPECT_EQ(m.retry_after(), std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace switchyard::gateway
