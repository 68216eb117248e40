// A test fixture with one connected loopback TCP pair: server_, an asio socket on
// ctx_ (the side under test, driven by running ctx_), and client_, a blocking
// RawSocket peer the test writes to, reads from or closes (reset()).
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "http/asio.h"
#include "raw_socket.h"

namespace switchyard::http {

class LoopbackSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    acceptor_.emplace(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client_.emplace(acceptor_->local_endpoint().port());
    ASSERT_TRUE(client_->connected());
    server_.emplace(acceptor_->accept());
  }

  asio::io_context ctx_;
  std::optional<Acceptor> acceptor_;
  std::optional<testing::RawSocket> client_;
  std::optional<Socket> server_;
};

}  // namespace switchyard::http
