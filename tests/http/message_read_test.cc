// ReadParsed against a real loopback socket: what it reads, what it leaves in the
// buffer, and Beast's error codes for every way a message can end badly.
#include "http/message_read.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "http/asio.h"
#include "loopback_socket_test.h"

namespace switchyard::http {
namespace {

using std::chrono::milliseconds;

// Forwards reads to the socket and counts them.
struct CountingStream {
  Socket* socket = nullptr;
  int reads = 0;

  // NOLINTNEXTLINE(readability-identifier-naming): the name ReadParsed calls
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    ++reads;
    return socket->async_read_some(buffers, std::forward<Token>(token));
  }
};

class ReadParsedTest : public LoopbackSocketTest {
 protected:
  void SetUp() override {
    LoopbackSocketTest::SetUp();
    stream_.socket = &*server_;
  }

  // Runs one ReadParsed to completion (or 5 s) and returns its error code.
  template <bool kIsRequest>
  boost::system::error_code Read(bhttp::basic_parser<kIsRequest>& parser, ReadUntil until) {
    boost::system::error_code ec = asio::error::would_block;  // "did not finish"
    asio::co_spawn(
        ctx_,
        [&]() -> awaitable<void> { co_await ReadParsed(stream_, buffer_, parser, until, ec); },
        asio::detached);
    ctx_.restart();
    ctx_.run_for(std::chrono::seconds(5));
    return ec;
  }
  void Buffer(std::string_view bytes) {
    const size_t n = asio::buffer_copy(buffer_.prepare(bytes.size()), asio::buffer(bytes));
    buffer_.commit(n);
  }

  CountingStream stream_;
  beast::flat_buffer buffer_;
};

constexpr std::string_view kRequest =
    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";

TEST_F(ReadParsedTest, ABufferedRequestIsParsedWithoutReading) {
  Buffer(kRequest);
  Buffer("GET /next HTTP/1.1\r\n");
  bhttp::request_parser<bhttp::string_body> parser;
  EXPECT_FALSE(Read(parser, ReadUntil::kHeader));
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  EXPECT_FALSE(Read(parser, ReadUntil::kMessage));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello");
  EXPECT_EQ(parser.get().target(), "/v1/chat/completions");
  EXPECT_EQ(stream_.reads, 0);
  // The next request's bytes stay in the buffer.
  EXPECT_EQ(beast::buffers_to_string(buffer_.data()), "GET /next HTTP/1.1\r\n");
}

TEST_F(ReadParsedTest, ParseBufferedSaysWhetherAReadIsNeeded) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::system::error_code ec;
  EXPECT_FALSE(ParseBuffered(buffer_, parser, ReadUntil::kHeader, ec));  // nothing buffered
  EXPECT_FALSE(ec);
  Buffer(kRequest.substr(0, 30));
  EXPECT_FALSE(ParseBuffered(buffer_, parser, ReadUntil::kHeader, ec));  // half a head
  EXPECT_FALSE(ec);
  Buffer(kRequest.substr(30, kRequest.size() - 32));
  EXPECT_TRUE(ParseBuffered(buffer_, parser, ReadUntil::kHeader, ec));
  EXPECT_FALSE(ec);
  EXPECT_FALSE(ParseBuffered(buffer_, parser, ReadUntil::kMessage, ec));  // 2 body bytes short
  EXPECT_FALSE(ec);
  Buffer(kRequest.substr(kRequest.size() - 2));
  EXPECT_TRUE(ParseBuffered(buffer_, parser, ReadUntil::kMessage, ec));
  EXPECT_FALSE(ec);
  EXPECT_EQ(parser.get().body(), "hello");

  bhttp::request_parser<bhttp::string_body> bad;
  Buffer("NOT HTTP\r\n\r\n");
  EXPECT_TRUE(ParseBuffered(buffer_, bad, ReadUntil::kHeader, ec));  // settled: an error
  EXPECT_EQ(ec, bhttp::error::bad_target);
}

TEST_F(ReadParsedTest, ARequestInPiecesIsReadUntilComplete) {
  std::thread sender([this] {
    client_->Send(kRequest.substr(0, 20));
    std::this_thread::sleep_for(milliseconds(20));
    client_->Send(kRequest.substr(20, 40));
    std::this_thread::sleep_for(milliseconds(20));
    client_->Send(kRequest.substr(60));
  });
  bhttp::request_parser<bhttp::string_body> parser;
  const auto ec = Read(parser, ReadUntil::kMessage);
  sender.join();
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello");
  EXPECT_GE(stream_.reads, 3);
}

TEST_F(ReadParsedTest, TheHeadAloneLeavesTheBodyInTheBuffer) {
  client_->Send(kRequest);
  bhttp::request_parser<bhttp::string_body> parser;
  EXPECT_FALSE(Read(parser, ReadUntil::kHeader));
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_EQ(beast::buffers_to_string(buffer_.data()), "hello");
}

TEST_F(ReadParsedTest, EndOfStreamBeforeAnyByteIsEndOfStream) {
  client_.reset();  // closes
  bhttp::request_parser<bhttp::string_body> parser;
  EXPECT_EQ(Read(parser, ReadUntil::kHeader), bhttp::error::end_of_stream);
}

TEST_F(ReadParsedTest, EndOfStreamInsideTheBodyIsPartialMessage) {
  client_->Send(kRequest.substr(0, kRequest.size() - 2));
  client_.reset();
  bhttp::request_parser<bhttp::string_body> parser;
  EXPECT_EQ(Read(parser, ReadUntil::kMessage), bhttp::error::partial_message);
}

TEST_F(ReadParsedTest, EndOfStreamInsideTheHeadIsPartialMessage) {
  client_->Send("GET / HTTP/1.1\r\nHost:");
  client_.reset();
  bhttp::request_parser<bhttp::string_body> parser;
  EXPECT_EQ(Read(parser, ReadUntil::kHeader), bhttp::error::partial_message);
}

TEST_F(ReadParsedTest, AResponseWithoutALengthEndsWithTheStream) {
  client_->Send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
  client_.reset();
  bhttp::response_parser<bhttp::string_body> parser;
  EXPECT_FALSE(Read(parser, ReadUntil::kMessage));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "all of it");
}

TEST_F(ReadParsedTest, AHeadOverTheLimitIsHeaderLimit) {
  client_->Send("GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n");
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(64);
  EXPECT_EQ(Read(parser, ReadUntil::kHeader), bhttp::error::header_limit);
}

TEST_F(ReadParsedTest, ABodyOverTheLimitIsBodyLimit) {
  client_->Send(kRequest);
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(4);
  EXPECT_EQ(Read(parser, ReadUntil::kMessage), bhttp::error::body_limit);
}

TEST_F(ReadParsedTest, GarbageIsTheParsersError) {
  client_->Send("NOT HTTP AT ALL\r\n\r\n");
  bhttp::request_parser<bhttp::string_body> parser;
  // "NOT" is a method and "HTTP" a target; "AT" is no HTTP version.
  EXPECT_EQ(Read(parser, ReadUntil::kHeader), bhttp::error::bad_version);
}

TEST_F(ReadParsedTest, SomeHandsOnBufferedChunksWithoutReading) {
  Buffer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n");
  bhttp::response_parser<bhttp::buffer_body> parser;
  EXPECT_FALSE(Read(parser, ReadUntil::kHeader));
  char body[64];
  parser.get().body().data = body;
  parser.get().body().size = sizeof(body);
  // As with Beast's read_some, one call stops after the chunk's size line and
  // the next hands on its data; neither reads, the chunk is already here.
  EXPECT_FALSE(Read(parser, ReadUntil::kSome));
  EXPECT_EQ(std::string_view(body, sizeof(body) - parser.get().body().size), "");
  const auto ec = Read(parser, ReadUntil::kSome);
  EXPECT_TRUE(!ec || ec == bhttp::error::need_buffer) << ec.message();
  EXPECT_EQ(std::string_view(body, sizeof(body) - parser.get().body().size), "first");
  EXPECT_EQ(stream_.reads, 0);
  EXPECT_FALSE(parser.is_done());
}

TEST_F(ReadParsedTest, AReadErrorIsPassedOn) {
  bhttp::request_parser<bhttp::string_body> parser;
  SteadyTimer timer(ctx_.get_executor(), milliseconds(20));
  timer.async_wait([this](boost::system::error_code) { server_->cancel(); });
  EXPECT_EQ(Read(parser, ReadUntil::kHeader), asio::error::operation_aborted);
}

}  // namespace
}  // namespace switchyard::http
