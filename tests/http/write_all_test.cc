// WriteAll against a real loopback socket: a write the socket takes at once,
// one it must wait for (a reader that has not read yet), many pieces, and a
// peer that is gone.
#include "http/write_all.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/asio.h"
#include "loopback_socket_test.h"

namespace switchyard::http {
namespace {

using std::chrono::milliseconds;

class WriteAllTest : public LoopbackSocketTest {
 protected:
  // Runs one WriteAll to completion (or 10 s); counts the calls of its before_wait.
  template <class Buffers>
  boost::system::error_code Write(const Buffers& buffers) {
    boost::system::error_code ec = asio::error::would_block;  // "did not finish"
    asio::co_spawn(
        ctx_,
        [&]() -> awaitable<void> {
          co_await WriteAll(*server_, buffers, ec, [this] { ++waits_; });
        },
        asio::detached);
    ctx_.restart();
    ctx_.run_for(std::chrono::seconds(10));
    return ec;
  }

  int waits_ = 0;
};

TEST_F(WriteAllTest, AWriteTheSocketTakesDoesNotWait) {
  const std::array<asio::const_buffer, 3> bufs{asio::buffer("head ", 5), asio::buffer("", 0),
                                               asio::buffer("body", 4)};
  EXPECT_FALSE(Write(bufs));
  EXPECT_EQ(waits_, 0);
  EXPECT_EQ(client_->ReadUntil("body", milliseconds(2000)), "head body");
}

TEST_F(WriteAllTest, AWriteLargerThanTheSocketTakesWaitsForTheReader) {
  // Far more than the socket buffers hold (the sender's is made small): the
  // rest waits for the reader, which starts after 100 ms; every byte arrives,
  // in order.
  server_->set_option(asio::socket_base::send_buffer_size(16 * 1024));
  std::string big(size_t{2} * 1024 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  const std::array<asio::const_buffer, 2> bufs{asio::buffer(big), asio::buffer("END", 3)};
  std::string received;
  std::thread reader([&] {
    std::this_thread::sleep_for(milliseconds(100));
    received = client_->ReadUntil("END", milliseconds(8000));
  });
  EXPECT_FALSE(Write(bufs));
  reader.join();
  EXPECT_EQ(waits_, 1);
  ASSERT_EQ(received.size(), big.size() + 3);
  EXPECT_EQ(received.compare(0, big.size(), big), 0);
  EXPECT_EQ(received.substr(big.size()), "END");
}

TEST_F(WriteAllTest, MorePiecesThanOneSendTakesAllArrive) {
  std::vector<std::string> pieces;
  std::vector<asio::const_buffer> bufs;
  pieces.reserve(12);
  bufs.reserve(12);
  for (int i = 0; i < 12; ++i) pieces.push_back("piece" + std::to_string(i) + ";");
  for (const auto& p : pieces) bufs.emplace_back(asio::buffer(p));
  EXPECT_FALSE(Write(bufs));
  std::string expected;
  for (const auto& p : pieces) expected += p;
  EXPECT_EQ(client_->ReadUntil("piece11;", milliseconds(2000)), expected);
}

TEST_F(WriteAllTest, APeerThatIsGoneIsASystemError) {
  client_.reset();
  std::this_thread::sleep_for(milliseconds(20));
  // The first send may still be accepted (the close is answered with a reset);
  // by the second one the connection is known to be gone.
  const std::array<asio::const_buffer, 1> bufs{asio::buffer("x", 1)};
  auto ec = Write(bufs);
  if (!ec) {
    std::this_thread::sleep_for(milliseconds(20));
    ec = Write(bufs);
  }
  EXPECT_TRUE(ec == asio::error::broken_pipe || ec == asio::error::connection_reset)
      << ec.message();
}

}  // namespace
}  // namespace switchyard::http
