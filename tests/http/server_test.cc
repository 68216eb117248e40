// http::Server over loopback: keep-alive, limits, timeouts, Expect: 100-continue,
// streaming, client-disconnect cancellation and graceful shutdown.
#include "http/server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "http/event_loops.h"
#include "raw_socket.h"
#include "support/http_client.h"

namespace switchyard::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::HttpConnection;
using testing::HttpRequest;
using testing::HttpResult;
using testing::RawExchange;
using testing::RawSocket;

// Polls `pred` every 2 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& pred, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

class ServerTest : public ::testing::Test {
 protected:
  void TearDown() override { Stop(); }

  // Options on port 0 (any free port).
  static ServerOptions Opts() {
    ServerOptions o;
    o.port = 0;
    return o;
  }

  void Start(const ServerOptions& options = Opts()) {
    server_ = std::make_unique<Server>(
        loops_, options, [this](ServerRequest& req, ResponseWriter& w) { return Handle(req, w); },
        [](int status, std::string_view message) {
          return ErrorBody{"text/plain", std::to_string(status) + " " + std::string(message)};
        });
    auto s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    loops_.Start();
  }
  void Stop() {
    if (server_) server_->BeginShutdown();
    loops_.Stop();
    server_.reset();
  }
  uint16_t port() const { return server_->port(); }

  awaitable<void> Handle(ServerRequest& req, ResponseWriter& w) {
    {
      std::lock_guard lock(mu_);
      ++handlers_started_;
    }
    cv_.notify_all();
    const std::string target(req.target);
    if (target == "/stream") {
      co_await w.BeginStream(200, "text/plain");
      co_await w.WriteChunk("one");
      co_await w.WriteChunk("");  // ignored: an empty chunk would end the stream
      co_await w.WriteChunk("two");
      co_await w.WriteChunk("three");
      co_await w.EndStream();
      co_return;
    }
    if (target == "/stream-held") {
      // Chunks held for the next write still reach the client, in order.
      co_await w.BeginStream(200, "text/plain");
      co_await w.WriteChunk("one", StreamFlush::kWithNext);
      co_await w.WriteChunk("two");
      co_await w.WriteChunk("three", StreamFlush::kWithNext);
      co_await w.EndStream();
      co_return;
    }
    if (target == "/stream-unended") {
      // Returns without EndStream(): what is held goes out, then the close.
      co_await w.BeginStream(200, "text/plain");
      co_await w.WriteChunk("held", StreamFlush::kWithNext);
      co_return;
    }
    if (target == "/wait" || target == "/slow") {
      asio::steady_timer timer(co_await asio::this_coro::executor,
                               target == "/wait" ? seconds(10) : milliseconds(300));
      const size_t handle = w.cancel_token().Register([&timer] { timer.cancel(); });
      boost::system::error_code ec;
      co_await timer.async_wait(Redirect(ec));
      w.cancel_token().Unregister(handle);
      if (w.cancel_token().cancelled()) {
        {
          std::lock_guard lock(mu_);
          ++handlers_cancelled_;
        }
        cv_.notify_all();
        co_return;
      }
      co_await w.Send(200, "text/plain", "waited");
      co_return;
    }
    if (target == "/big") {
      // More than the socket buffers hold: a client that does not read stalls the write.
      const std::string big(size_t{16} * 1024 * 1024, 'x');
      const bool sent = co_await w.Send(200, "text/plain", big);
      {
        std::lock_guard lock(mu_);
        big_sent_ = sent;
      }
      cv_.notify_all();
      co_return;
    }
    if (target == "/throw") throw std::runtime_error("handler bug");
    // (A named list: GCC 12 miscompiles braced temporaries in co_await.)
    const ResponseHeaders extra{{"x-echo-header", std::string(req.Header("x-test"))}};
    const std::string body = std::string(req.method_text) + " " + target + " " + req.body;
    co_await w.Send(200, "text/plain", body, extra);
  }

  bool WaitForHandlers(int started, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return handlers_started_ >= started; });
  }
  bool WaitForCancelled(int n, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return handlers_cancelled_ >= n; });
  }

  std::optional<bool> WaitForBigSend(milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return big_sent_.has_value(); });
    return big_sent_;
  }

  EventLoops loops_{2};
  std::unique_ptr<Server> server_;
  std::optional<bool> big_sent_;
  std::mutex mu_;
  std::condition_variable cv_;
  int handlers_started_ = 0;
  int handlers_cancelled_ = 0;
};

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Start();
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  for (int i = 0; i < 25; ++i) {
    HttpResult r = (*conn)->Request("POST", "/echo", "body" + std::to_string(i), {{"x-test", "v"}});
    ASSERT_TRUE(r.error.ok()) << r.error.ToString();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /echo body" + std::to_string(i));
    EXPECT_EQ(r.headers["x-echo-header"], "v");
    EXPECT_EQ(r.headers.count("connection"), 0u);
  }
  EXPECT_TRUE((*conn)->open());
  EXPECT_EQ(server_->total_connections(), 1u);
}

TEST_F(ServerTest, BodyOverLimitGets413AndClose) {
  ServerOptions o = Opts();
  o.max_body_bytes = 16;
  Start(o);
  HttpResult ok = HttpRequest(port(), "POST", "/echo", std::string(16, 'a'));
  EXPECT_EQ(ok.status, 200);

  HttpResult r =
      HttpRequest(port(), "POST", "/echo", std::string(17, 'a'), {{"connection", "keep-alive"}});
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, "413 request body exceeds 16 bytes");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(r.headers["content-type"], "text/plain");
}

TEST_F(ServerTest, LargeBodyOverLimitStillGets413) {
  // The client keeps sending after the server gave up on the body: the 413 must
  // still reach it (no reset that destroys the response).
  ServerOptions o = Opts();
  o.max_body_bytes = 1024;
  Start(o);
  HttpResult r = HttpRequest(port(), "POST", "/echo", std::string(size_t{512} * 1024, 'a'));
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, "413 request body exceeds 1024 bytes");
}

TEST_F(ServerTest, ChunkedBodyOverLimitGets413) {
  ServerOptions o = Opts();
  o.max_body_bytes = 16;
  Start(o);
  const std::string reply = RawExchange(port(),
                                        "POST /echo HTTP/1.1\r\nHost: x\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n"
                                        "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n",
                                        seconds(5));
  EXPECT_EQ(reply,
            "HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\n"
            "Content-Length: 33\r\nConnection: close\r\n\r\n"
            "413 request body exceeds 16 bytes");
}

TEST_F(ServerTest, HeadOverLimitGets431) {
  ServerOptions o = Opts();
  o.max_header_bytes = 256;
  Start(o);
  HttpResult r = HttpRequest(port(), "GET", "/echo", "", {{"x-big", std::string(300, 'b')}});
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.body, "431 request head exceeds 256 bytes");
  EXPECT_EQ(r.headers["connection"], "close");
}

TEST_F(ServerTest, MalformedRequestLineGets400) {
  Start();
  const std::string reply = RawExchange(port(), "GARBAGE\r\n\r\n", seconds(5));
  EXPECT_EQ(reply,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 38\r\n"
            "Connection: close\r\n\r\n400 malformed HTTP request: bad method");
  const std::string version =
      RawExchange(port(), "GET / HTTP/9.9.9\r\nHost: x\r\n\r\n", seconds(5));
  EXPECT_TRUE(version.starts_with("HTTP/1.1 400 Bad Request\r\n")) << version;
}

TEST_F(ServerTest, HalfAHeadTimesOutWith408AndClose) {
  ServerOptions o = Opts();
  o.header_timeout = milliseconds(100);
  Start(o);
  RawSocket sock(port());
  ASSERT_TRUE(sock.connected());
  ASSERT_TRUE(sock.Send("GET /echo HTTP/1.1\r\nHost: x\r\n"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  EXPECT_TRUE(sock.peer_closed());
  EXPECT_EQ(reply,
            "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 43\r\n"
            "Connection: close\r\n\r\n408 request head not received within 100 ms");
}

TEST_F(ServerTest, SlowBodyTimesOutWith408AndClose) {
  ServerOptions o = Opts();
  o.body_timeout = milliseconds(100);
  Start(o);
  RawSocket sock(port());
  ASSERT_TRUE(sock.connected());
  ASSERT_TRUE(sock.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  EXPECT_TRUE(sock.peer_closed());
  EXPECT_EQ(reply,
            "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 43\r\n"
            "Connection: close\r\n\r\n408 request body not received within 100 ms");
}

TEST_F(ServerTest, AClientThatDoesNotReadFailsTheWriteAfterTheWriteTimeout) {
  ServerOptions o = Opts();
  o.write_timeout = milliseconds(200);
  Start(o);
  RawSocket client(port());
  ASSERT_TRUE(client.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto start = std::chrono::steady_clock::now();
  const std::optional<bool> sent = WaitForBigSend(seconds(5));
  ASSERT_TRUE(sent.has_value()) << "the write never gave up";
  EXPECT_FALSE(*sent);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions o = Opts();
  o.idle_timeout = milliseconds(100);
  Start(o);
  RawSocket sock(port());
  ASSERT_TRUE(sock.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  EXPECT_TRUE(sock.peer_closed());
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(reply.ends_with("GET /echo ")) << reply;
}

TEST_F(ServerTest, Expect100ContinueIsAnsweredBeforeTheBody) {
  Start();
  RawSocket sock(port());
  ASSERT_TRUE(sock.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_EQ(sock.ReadUntil("\r\n\r\n", seconds(5)), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(sock.Send("hello"));
  const std::string reply = sock.ReadUntil("POST /echo hello", seconds(5));
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\nPOST /echo hello")) << reply;
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  const std::string reply = RawExchange(port(),
                                        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                                        "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                        seconds(5));
  const size_t a = reply.find("GET /a ");
  const size_t b = reply.find("GET /b ");
  ASSERT_NE(a, std::string::npos) << reply;
  ASSERT_NE(b, std::string::npos) << reply;
  EXPECT_LT(a, b);
  EXPECT_TRUE(reply.ends_with("Connection: close\r\n\r\nGET /b ")) << reply;
}

TEST_F(ServerTest, HeadRequestGetsNoBodyAndKeepsTheConnectionUsable) {
  Start();
  RawSocket sock(port());
  ASSERT_TRUE(
      sock.Send("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  // The HEAD answer declares the length of the body it would have sent
  // ("HEAD /echo ") but carries none; the next response follows at once.
  EXPECT_EQ(reply.find("HTTP/1.1 200 OK\r\n"), 0u) << reply;
  const size_t second = reply.find("HTTP/1.1 200 OK\r\n", 1);
  ASSERT_NE(second, std::string::npos) << reply;
  const std::string head_answer = reply.substr(0, second);
  EXPECT_TRUE(head_answer.ends_with("Content-Length: 11\r\nx-echo-header: \r\n\r\n"))
      << head_answer;
  EXPECT_TRUE(reply.ends_with("\r\n\r\nGET /second ")) << reply;
}

TEST_F(ServerTest, StreamedResponseIsChunked) {
  Start();
  auto r = testing::HttpStream(port(), "/stream", "");
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r.headers["cache-control"], "no-cache");
  EXPECT_EQ(r.pieces, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(ServerTest, HeldChunksGoOutWithTheNextWrite) {
  Start();
  auto r = testing::HttpStream(port(), "/stream-held", "");
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  std::string body;
  for (const auto& p : r.pieces) body += p;
  EXPECT_EQ(body, "onetwothree");
}

TEST_F(ServerTest, StreamLeftUnendedStillSendsWhatItHeldThenCloses) {
  Start();
  RawSocket sock(port());
  ASSERT_TRUE(sock.Send("GET /stream-unended HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  EXPECT_EQ(reply.find("HTTP/1.1 200 OK\r\n"), 0u) << reply;
  // The held chunk arrives; no last chunk follows, so the client sees the
  // body cut short by the close instead of a complete (truncated) answer.
  EXPECT_TRUE(reply.ends_with("\r\n\r\n4\r\nheld\r\n")) << reply;
}

TEST_F(ServerTest, HeadOfAStreamGoesOutAtTheEndWithoutABody) {
  Start();
  RawSocket sock(port());
  ASSERT_TRUE(
      sock.Send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  EXPECT_EQ(reply.find("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                       "Transfer-Encoding: chunked\r\n"),
            0u)
      << reply;
  const size_t second = reply.find("HTTP/1.1 200 OK\r\n", 1);
  ASSERT_NE(second, std::string::npos) << reply;
  EXPECT_TRUE(reply.substr(0, second).ends_with("\r\n\r\n")) << reply;
  EXPECT_EQ(reply.substr(0, second).find("one"), std::string::npos) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\nGET /second ")) << reply;
}

TEST_F(ServerTest, ClientDisconnectFiresTheCancelToken) {
  Start();
  HttpResult r = HttpRequest(port(), "GET", "/wait", "", {}, milliseconds(200));
  EXPECT_EQ(r.error.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(WaitForCancelled(1, seconds(5)));
  EXPECT_TRUE(WaitUntil([&] { return server_->active_requests() == 0; }, seconds(5)));
}

TEST_F(ServerTest, ClientThatClosesRightAfterItsRequestCancelsIt) {
  // The close can reach the server together with the request, so epoll
  // reports both at once: the watch must still see it.
  Start();
  {
    RawSocket sock(port());
    ASSERT_TRUE(sock.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  EXPECT_TRUE(WaitForCancelled(1, seconds(5)));
  EXPECT_TRUE(WaitUntil([&] { return server_->active_requests() == 0; }, seconds(5)));
}

TEST_F(ServerTest, ManyClientsThatGoAwayAreAllCancelled) {
  Start();
  for (int i = 0; i < 5; ++i) {
    HttpResult r = HttpRequest(port(), "GET", "/wait", "", {}, milliseconds(50));
    EXPECT_EQ(r.error.code(), core::StatusCode::kDeadlineExceeded);
  }
  EXPECT_TRUE(WaitForCancelled(5, seconds(5)));
  EXPECT_TRUE(WaitUntil([&] { return server_->active_requests() == 0; }, seconds(5)));
}

// A request answered within Server::kWatchDelay is never watched (no
// receive system call); one whose handler runs longer is.
TEST_F(ServerTest, OnlyHandlersThatRunLongAreWatched) {
  Start();
  for (int i = 0; i < 20; ++i) {
    HttpResult r = HttpRequest(port(), "GET", "/hello", "", {}, seconds(5));
    ASSERT_TRUE(r.error.ok()) << r.error.message();
  }
  // (Eager watching gives 20; a loaded machine may stretch one or two
  // handlers past the delay.)
  const uint64_t fast = server_->watches_started();
  EXPECT_LE(fast, 2u);
  HttpResult r = HttpRequest(port(), "GET", "/wait", "", {}, milliseconds(300));
  EXPECT_EQ(r.error.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(WaitForCancelled(1, seconds(5)));
  EXPECT_EQ(server_->watches_started(), fast + 1);
}

TEST_F(ServerTest, PipelinedRequestArrivingDuringTheHandlerIsReadNotCancelled) {
  Start();
  RawSocket sock(port());
  ASSERT_TRUE(sock.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitForHandlers(1, seconds(5)));
  // The next request arrives while /slow's handler runs: it stops the watch,
  // stays unread until /slow is answered, then is served on the same connection.
  ASSERT_TRUE(sock.Send("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string reply = sock.ReadToEnd(seconds(5));
  const size_t waited = reply.find("\r\n\r\nwaited");
  const size_t b = reply.find("GET /b ");
  ASSERT_NE(waited, std::string::npos) << reply;
  ASSERT_NE(b, std::string::npos) << reply;
  EXPECT_LT(waited, b);
  EXPECT_TRUE(reply.ends_with("Connection: close\r\n\r\nGET /b ")) << reply;
  std::lock_guard lock(mu_);
  EXPECT_EQ(handlers_cancelled_, 0);
  EXPECT_EQ(server_->total_connections(), 1u);
}

TEST_F(ServerTest, StoppingTheLoopsDuringAHandlerLeavesNothingToRunLater) {
  // The loops stop with a handler (and its watch) pending; destroying the
  // server and then the loops must not run the watch on a dead connection
  // (run under ASan to see it).
  Start();
  RawSocket sock(port());
  ASSERT_TRUE(sock.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitForHandlers(1, seconds(5)));
  EXPECT_EQ(server_->active_requests(), 1u);
  Stop();
  std::lock_guard lock(mu_);
  EXPECT_EQ(handlers_cancelled_, 0);
}

TEST_F(ServerTest, HandlerExceptionGets500) {
  Start();
  HttpResult r = HttpRequest(port(), "GET", "/throw");
  ASSERT_TRUE(r.error.ok()) << r.error.ToString();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "500 internal error while handling the request");
  EXPECT_EQ(r.headers["connection"], "close");
}

TEST_F(ServerTest, ShutdownClosesIdleConnectionsAndRefusesNewOnes) {
  Start();
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ((*conn)->Request("GET", "/echo").status, 200);
  EXPECT_EQ(server_->open_connections(), 1u);

  server_->BeginShutdown();
  EXPECT_TRUE(server_->draining());
  EXPECT_TRUE(WaitUntil([&] { return server_->open_connections() == 0; }, seconds(5)));
  HttpResult again = (*conn)->Request("GET", "/echo");
  EXPECT_FALSE(again.error.ok());
  // Each loop closes its acceptor when it runs the posted shutdown: a connect
  // racing that is reset rather than refused, but none is answered.
  const std::string refused =
      "connect to 127.0.0.1:" + std::to_string(port()) + ": Connection refused";
  EXPECT_TRUE(WaitUntil(
      [&] {
        HttpResult fresh = HttpRequest(port(), "GET", "/echo", "", {}, seconds(2));
        EXPECT_EQ(fresh.status, 0) << fresh.body;
        return fresh.error.message() == refused;
      },
      seconds(5)));
  EXPECT_TRUE(server_->WaitIdle(std::chrono::steady_clock::now() + seconds(1)));
}

TEST_F(ServerTest, InFlightRequestCompletesDuringShutdown) {
  Start();
  HttpResult slow;
  std::thread client([&] { slow = HttpRequest(port(), "GET", "/slow"); });
  ASSERT_TRUE(WaitForHandlers(1, seconds(5)));
  EXPECT_EQ(server_->active_requests(), 1u);
  server_->BeginShutdown();
  EXPECT_TRUE(server_->WaitIdle(std::chrono::steady_clock::now() + seconds(5)));
  client.join();
  ASSERT_TRUE(slow.error.ok()) << slow.error.ToString();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, "waited");
  EXPECT_EQ(slow.headers["connection"], "close");
}

TEST_F(ServerTest, StartFailsWhenThePortIsTaken) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const uint16_t taken = ntohs(addr.sin_port);

  ServerOptions o = Opts();
  o.port = taken;
  Server server(loops_, o, nullptr, nullptr);
  core::Status s = server.Start();
  ::close(fd);
  EXPECT_EQ(s.code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "cannot listen on 127.0.0.1:" + std::to_string(taken) + ": Address already in use");
}

TEST_F(ServerTest, StartFailsWhenAnotherServerListensOnThePort) {
  Start();
  ServerOptions o = Opts();
  o.port = port();
  EventLoops other_loops(2);
  Server second(other_loops, o, nullptr, nullptr);
  core::Status s = second.Start();
  EXPECT_EQ(s.code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "cannot listen on 127.0.0.1:" + std::to_string(port()) + ": Address already in use");
  // The first server still owns every connection.
  EXPECT_EQ(HttpRequest(port(), "GET", "/echo").status, 200);
}

// Each loop's thread carries its name for top -H, ps -L and perf.
TEST(EventLoopsTest, ThreadsAreNamedForTheKernel) {
  EventLoops loops(2);
  loops.Start();
  const auto names = [] {
    std::multiset<std::string> out;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      out.insert(name);
    }
    return out;
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::multiset<std::string> seen = names();
  while ((seen.count("sy-loop-0") == 0 || seen.count("sy-loop-1") == 0) &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    seen = names();
  }
  EXPECT_GE(seen.count("sy-loop-0"), 1u);
  EXPECT_GE(seen.count("sy-loop-1"), 1u);
  loops.Stop();
}

TEST_F(ServerTest, AFixedPortCanBeReusedAfterAServerStopped) {
  uint16_t fixed = 0;
  {
    EventLoops loops(1);
    Server first(
        loops, Opts(), [this](ServerRequest& req, ResponseWriter& w) { return Handle(req, w); },
        nullptr);
    ASSERT_TRUE(first.Start().ok());
    loops.Start();
    fixed = first.port();
    EXPECT_EQ(HttpRequest(fixed, "GET", "/echo").status, 200);  // leaves TIME_WAIT behind
    first.BeginShutdown();
    loops.Stop();
  }
  ServerOptions o = Opts();
  o.port = fixed;
  Start(o);
  EXPECT_EQ(port(), fixed);
  EXPECT_EQ(HttpRequest(fixed, "GET", "/echo").status, 200);
}

TEST_F(ServerTest, StartRejectsAHostThatIsNotAnAddress) {
  ServerOptions o = Opts();
  o.host = "not-an-ip";
  o.port = 0;
  Server server(loops_, o, nullptr, nullptr);
  core::Status s = server.Start();
  EXPECT_EQ(s.code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "cannot listen on not-an-ip:0: not an IP address");
}

}  // namespace
}  // namespace switchyard::http
