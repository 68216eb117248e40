#include "api/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::api {
namespace {

std::vector<SseEvent> FeedWhole(std::string_view bytes) {
  SseParser parser;
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.Feed(bytes, events).ok());
  return events;
}

std::vector<SseEvent> FeedBytewise(std::string_view bytes) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (char c : bytes) EXPECT_TRUE(parser.Feed(std::string_view(&c, 1), events).ok());
  return events;
}

std::string Describe(const std::vector<SseEvent>& events) {
  std::string s;
  for (const SseEvent& e : events) s += "[" + e.event + "|" + e.data + "|" + e.id + "]";
  return s;
}

TEST(SseParserTest, DispatchesEventOnBlankLine) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("event: greet\ndata: hello\nid: 7\n", events).ok());
  EXPECT_TRUE(events.empty());
  ASSERT_TRUE(parser.Feed("\n", events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "greet");
  EXPECT_EQ(events[0].data, "hello");
  EXPECT_EQ(events[0].id, "7");
}

TEST(SseParserTest, JoinsMultiLineDataWithNewline) {
  EXPECT_EQ(Describe(FeedWhole("data: one\ndata: two\ndata:\ndata: three\n\n")),
            "[|one\ntwo\n\nthree|]");
}

TEST(SseParserTest, AcceptsLfCrLfAndCrLineEndings) {
  const std::string expected = "[a|1\n2|][|3|]";
  EXPECT_EQ(Describe(FeedWhole("event: a\ndata: 1\ndata: 2\n\ndata: 3\n\n")), expected);
  EXPECT_EQ(Describe(FeedWhole("event: a\r\ndata: 1\r\ndata: 2\r\n\r\ndata: 3\r\n\r\n")), expected);
  EXPECT_EQ(Describe(FeedWhole("event: a\rdata: 1\rdata: 2\r\rdata: 3\r\r")), expected);
  EXPECT_EQ(Describe(FeedWhole("event: a\r\ndata: 1\rdata: 2\n\r\ndata: 3\r\r")), expected);
}

TEST(SseParserTest, CrLfSplitAcrossFeedsIsOneLineEnding) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: a\r", events).ok());
  ASSERT_TRUE(parser.Feed("\ndata: b\r", events).ok());
  ASSERT_TRUE(parser.Feed("\n\r", events).ok());
  ASSERT_TRUE(parser.Feed("\n", events).ok());
  EXPECT_EQ(Describe(events), "[|a\nb|]");
}

TEST(SseParserTest, IgnoresCommentsAndUnknownFields) {
  EXPECT_EQ(Describe(FeedWhole(": keep-alive\n:\nretry: 3000\nfoo: bar\ndata: x\n\n")), "[|x|]");
}

TEST(SseParserTest, FieldWithoutColonHasEmptyValue) {
  // "data" alone appends an empty line; "event" alone clears the type.
  EXPECT_EQ(Describe(FeedWhole("data\n\nevent: e\nevent\ndata: y\n\n")), "[||][|y|]");
}

TEST(SseParserTest, RemovesOnlyOneSpaceAfterColon) {
  EXPECT_EQ(Describe(FeedWhole("data:x\n\ndata:  two spaces\n\ndata: a: b\n\n")),
            "[|x|][| two spaces|][|a: b|]");
}

TEST(SseParserTest, BlankLinesWithoutDataDispatchNothingAndResetEventType) {
  EXPECT_EQ(Describe(FeedWhole("\n\n\nevent: lonely\n\ndata: z\n\n")), "[|z|]");
}

TEST(SseParserTest, IdPersistsAcrossEventsAndIgnoresNul) {
  using namespace std::string_literals;
  EXPECT_EQ(
      Describe(FeedWhole("id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n"s)),
      "[|a|1][|b|1][|c|1][|d|]");
}

TEST(SseParserTest, SkipsLeadingByteOrderMarkOnlyAtStreamStart) {
  EXPECT_EQ(Describe(FeedWhole("\xEF\xBB\xBF"
                               "data: a\n\n\xEF\xBB\xBF"
                               "data: b\n\n")),
            "[|a|]");
  EXPECT_EQ(Describe(FeedBytewise("\xEF\xBB\xBF"
                                  "data: a\n\n")),
            "[|a|]");
}

TEST(SseParserTest, IncompleteEventAtEndIsNotDispatched) {
  EXPECT_EQ(Describe(FeedWhole("data: a\n\ndata: b\n")), "[|a|]");
  EXPECT_EQ(Describe(FeedWhole("data: a\n\ndata: b")), "[|a|]");
}

TEST(SseParserTest, ByteAtATimeMatchesWholeFeed) {
  const std::string stream =
      "\xEF\xBB\xBF: comment\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\n"
      "event: x\rdata: line1\rdata: line2\r\rid: 9\ndata\n\ndata:tail\n\n";
  const std::vector<SseEvent> whole = FeedWhole(stream);
  EXPECT_EQ(Describe(whole), "[message_start|{\"a\":1}|][x|line1\nline2|][||9][|tail|9]");
  EXPECT_EQ(Describe(FeedBytewise(stream)), Describe(whole));
}

TEST(SseParserTest, AcceptsLineOfExactlyTheLimit) {
  SseParser parser;
  std::vector<SseEvent> events;
  const std::string line = "data: " + std::string(SseParser::kDefaultMaxLineBytes - 6, 'x');
  ASSERT_EQ(line.size(), 1048576u);
  ASSERT_TRUE(parser.Feed(line, events).ok());
  ASSERT_TRUE(parser.Feed("\n\n", events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), 1048576u - 6);
}

TEST(SseParserTest, RejectsBufferedLineOverDefaultLimit) {
  SseParser parser;
  std::vector<SseEvent> events;
  const std::string half(SseParser::kDefaultMaxLineBytes / 2, 'x');
  ASSERT_TRUE(parser.Feed("data: " + half, events).ok());
  const core::Status status = parser.Feed(half, events);
  EXPECT_EQ(status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "SSE line exceeds 1048576 bytes");
  // The parser stays failed.
  const core::Status again = parser.Feed("\n\ndata: ok\n\n", events);
  EXPECT_EQ(again.message(), "SSE line exceeds 1048576 bytes");
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, RejectsCompleteLineOverConfiguredLimit) {
  SseParser parser(/*max_line_bytes=*/16);
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.Feed("data: 0123456789\n\n", events).ok());  // 16 bytes
  const core::Status status = parser.Feed("data: 0123456789a\n\n", events);
  EXPECT_EQ(status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "SSE line exceeds 16 bytes");
  EXPECT_EQ(Describe(events), "[|0123456789|]");
}

TEST(SseParserTest, RejectsEventOverConfiguredLimit) {
  SseParser parser(/*max_line_bytes=*/100, /*max_event_bytes=*/10);
  std::vector<SseEvent> events;
  const core::Status status = parser.Feed("data: 1234\ndata: 5678\ndata: 9\n\n", events);
  EXPECT_EQ(status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "SSE event exceeds 10 bytes");
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, EventsBeforeAnErrorInTheSameFeedAreKept) {
  SseParser parser(/*max_line_bytes=*/8);
  std::vector<SseEvent> events;
  const core::Status status = parser.Feed("data: a\n\ndata: too long\n\n", events);
  EXPECT_EQ(status.message(), "SSE line exceeds 8 bytes");
  EXPECT_EQ(Describe(events), "[|a|]");
}

TEST(SseEventEndTest, FindsTheBlankLineThatEndsTheFirstEvent) {
  EXPECT_EQ(SseEventEnd("data: a\n\ndata: b\n\n"), 9u);
  EXPECT_EQ(SseEventEnd("data: a\r\n\r\n"), 11u);  // \n\r\n ends it
  EXPECT_EQ(SseEventEnd("data: a\nid: 1\n\n"), 15u);
  EXPECT_EQ(SseEventEnd("\n\n"), 2u);
  EXPECT_EQ(SseEventEnd("data: a\n"), std::string_view::npos);  // not complete yet
  EXPECT_EQ(SseEventEnd("data: a\n\r"), std::string_view::npos);
  EXPECT_EQ(SseEventEnd(""), std::string_view::npos);
  EXPECT_EQ(SseEventEnd("\n"), std::string_view::npos);
}

}  // namespace
}  // namespace switchyard::api
