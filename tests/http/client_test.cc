// http::UpstreamClient against FakeUpstream (and a raw socket server): pooling,
// stale-connection recovery, streaming reads, timeouts, cancellation, TLS errors
// and TLS verification (against a loopback HTTPS server with a fresh certificate).
#include "http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_upstream.h"
#include "support/process.h"

namespace switchyard::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeResponse;
using testing::FakeUpstream;
using testing::JsonResponse;
using testing::SseResponse;

// What one exchange produced, collected on the loop.
struct Fetched {
  core::Status status;  // of Send, or of the body read
  int http_status = 0;
  std::string body;
  std::vector<std::string> pieces;
  bool reused = false;
  std::string content_type;
};

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    auto tls = UpstreamClient::MakeTlsContext();
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = std::move(*tls);
    client_ = std::make_unique<UpstreamClient>(ctx_, *tls_);
  }

  // Runs `body` as a coroutine on ctx_ in this thread until it finishes.
  void Run(const std::function<awaitable<void>()>& body) {
    bool done = false;
    asio::co_spawn(ctx_, body(), [&](const std::exception_ptr& e) {
      done = true;
      if (e) std::rethrow_exception(e);
    });
    ctx_.restart();
    ctx_.run();
    ASSERT_TRUE(done);
  }

  static Origin OriginFor(uint16_t port, bool tls = false) {
    Origin o;
    o.tls = tls;
    o.host = "127.0.0.1";
    o.port = port;
    return o;
  }

  // Sends one request and reads the whole body piece by piece.
  Fetched Fetch(UpstreamRequest req, CancelToken* cancel = nullptr) {
    Fetched out;
    Run([&]() -> awaitable<void> {
      auto resp = co_await client_->Send(req, cancel);
      if (!resp.ok()) {
        out.status = resp.status();
        co_return;
      }
      out.http_status = resp->status();
      out.reused = resp->reused_connection();
      out.content_type = std::string(resp->Header("content-type"));
      for (;;) {
        auto piece = co_await resp->ReadSome();
        if (!piece.ok()) {
          out.status = piece.status();
          co_return;
        }
        if (piece->empty()) break;
        out.pieces.emplace_back(*piece);
        out.body.append(*piece);
      }
    });
    return out;
  }

  // Three GETs to a server that closes every connection after its response,
  // 50 ms apart (the close has arrived by the next request).
  void FetchThreeFromAClosingServer(const Origin& origin) {
    for (int i = 0; i < 3; ++i) {
      if (i > 0) std::this_thread::sleep_for(milliseconds(50));
      UpstreamRequest req;
      req.origin = &origin;
      req.method = "GET";
      req.target = "/";
      Fetched f = Fetch(req);
      EXPECT_TRUE(f.status.ok()) << "request " << i << ": " << f.status.ToString();
      EXPECT_EQ(f.body, "ok");
      EXPECT_FALSE(f.reused);
    }
  }

  UpstreamRequest Post(const Origin& origin, std::string_view body = R"({"q":1})") {
    UpstreamRequest r;
    r.origin = &origin;
    r.target = "/v1/chat/completions";
    r.body = body;
    return r;
  }

  asio::io_context ctx_{1};
  std::unique_ptr<asio::ssl::context> tls_;
  std::unique_ptr<UpstreamClient> client_;
};

TEST_F(ClientTest, SendsTheRequestAsGiven) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(R"({"ok":true})"));
  const Origin origin = OriginFor(up.port());
  HeaderList extra{{"Authorization", "Bearer k"}, {"X-Extra", "1"}};
  UpstreamRequest req = Post(origin);
  req.headers = &extra;
  Fetched f = Fetch(req);
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.http_status, 200);
  EXPECT_EQ(f.body, R"({"ok":true})");
  EXPECT_EQ(f.content_type, "application/json");
  ASSERT_EQ(up.request_count(), 1u);
  auto rec = up.requests()[0];
  EXPECT_EQ(rec.method, "POST");
  EXPECT_EQ(rec.target, "/v1/chat/completions");
  EXPECT_EQ(rec.body, R"({"q":1})");
  EXPECT_EQ(rec.headers["host"], "127.0.0.1:" + std::to_string(up.port()));
  EXPECT_EQ(rec.headers["content-type"], "application/json");
  EXPECT_EQ(rec.headers["content-length"], "7");
  EXPECT_EQ(rec.headers["authorization"], "Bearer k");
  EXPECT_EQ(rec.headers["x-extra"], "1");
}

TEST_F(ClientTest, PoolReusesOneConnectionForSequentialRequests) {
  FakeUpstream up;
  up.SetDefault(JsonResponse(R"({"n":1})"));
  const Origin origin = OriginFor(up.port());
  for (int i = 0; i < 5; ++i) {
    Fetched f = Fetch(Post(origin));
    ASSERT_TRUE(f.status.ok()) << f.status.ToString();
    EXPECT_EQ(f.http_status, 200);
    EXPECT_EQ(f.reused, i > 0) << "request " << i;
  }
  EXPECT_EQ(up.request_count(), 5u);
  EXPECT_EQ(up.connections_accepted(), 1u);
  EXPECT_EQ(client_->connections_opened(), 1u);
  EXPECT_EQ(client_->idle_connections(), 1u);
}

TEST_F(ClientTest, ChunkedResponsesAreReusedToo) {
  FakeUpstream up;
  up.SetDefault(SseResponse({"data: 1\n\n", "data: 2\n\n"}));
  const Origin origin = OriginFor(up.port());
  for (int i = 0; i < 3; ++i) {
    Fetched f = Fetch(Post(origin));
    ASSERT_TRUE(f.status.ok()) << f.status.ToString();
    EXPECT_EQ(f.body, "data: 1\n\ndata: 2\n\n");
  }
  EXPECT_EQ(up.connections_accepted(), 1u);
}

TEST_F(ClientTest, ConnectionCloseIsNotPooled) {
  FakeUpstream up;
  FakeResponse closing = JsonResponse(R"({"n":1})");
  closing.keep_alive = false;
  up.Enqueue(closing);
  up.Enqueue(JsonResponse(R"({"n":2})"));
  const Origin origin = OriginFor(up.port());
  Fetched first = Fetch(Post(origin));
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(client_->idle_connections(), 0u);
  Fetched second = Fetch(Post(origin));
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(second.body, R"({"n":2})");
  EXPECT_FALSE(second.reused);
  EXPECT_EQ(up.connections_accepted(), 2u);
}

TEST_F(ClientTest, StalePooledConnectionIsRetriedOnAFreshOne) {
  // The upstream drops the kept-alive connection when the second request
  // arrives on it; the client re-sends on a new connection.
  FakeUpstream up;
  up.Enqueue(JsonResponse(R"({"n":1})"));
  FakeResponse drop;
  drop.close_without_response = true;
  up.Enqueue(drop);
  up.Enqueue(JsonResponse(R"({"n":2})"));
  const Origin origin = OriginFor(up.port());
  ASSERT_TRUE(Fetch(Post(origin)).status.ok());
  Fetched second = Fetch(Post(origin));
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(second.body, R"({"n":2})");
  EXPECT_FALSE(second.reused);
  EXPECT_EQ(up.request_count(), 3u);
  EXPECT_EQ(up.connections_accepted(), 2u);
  EXPECT_EQ(client_->stale_retries(), 1u);
}

TEST_F(ClientTest, CloseWithoutResponseOnAFreshConnectionIsAnError) {
  FakeUpstream up;
  FakeResponse drop;
  drop.close_without_response = true;
  up.Enqueue(drop);
  const Origin origin = OriginFor(up.port());
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(f.status.message(), "request to " + origin.Key() + " failed: end of stream");
  EXPECT_EQ(up.request_count(), 1u);  // not re-sent: the connection was new
}

// A server that answers each connection's first request and then closes it,
// without announcing "Connection: close": the pooled connection goes stale.
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
      : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~OneShotServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++accepted_;
      std::string in;
      char buf[1024];
      while (in.find("\r\n\r\n") == std::string::npos) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 5000) <= 0) break;
        const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      ::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);  // one send: one segment
      ::close(c);
    }
  }
  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Chunks that arrived together are handed on together: one ReadSome() for the
// whole burst (one write to the client), not one per HTTP chunk.
TEST_F(ClientTest, ChunksAlreadyBufferedComeBackInOnePiece) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n9\r\ndata: c\n\n\r\n0\r\n\r\n");
  const Origin origin = OriginFor(server.port());
  Fetched f = Fetch(Post(origin));
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.body, "data: a\n\ndata: b\n\ndata: c\n\n");
  ASSERT_EQ(f.pieces.size(), 1u);
}

// A burst bigger than beast's default 512-byte read still comes back whole:
// the connection's read buffer is reserved, so one read takes it all.
TEST_F(ClientTest, ABurstOfManyChunksComesBackInOnePiece) {
  std::string reply =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string expected;
  for (int i = 0; i < 12; ++i) {
    const std::string event = "data: " + std::string(290, static_cast<char>('a' + i)) + "\n\n";
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", event.size());
    reply += size + event + "\r\n";
    expected += event;
  }
  reply += "0\r\n\r\n";
  OneShotServer server(reply);
  Fetched f = Fetch(Post(OriginFor(server.port())));
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.body, expected);
  EXPECT_EQ(f.pieces.size(), 1u);
}

TEST_F(ClientTest, MalformedBufferedChunkIsUnavailable) {
  OneShotServer server(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "9\r\ndata: a\n\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n");
  const Origin origin = OriginFor(server.port());
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(f.status.message(), origin.Key() + ": malformed response body: bad chunk");
  EXPECT_EQ(f.body, "data: a\n\n");  // what parsed cleanly is handed on first
}

TEST_F(ClientTest, ConnectionClosedWhileIdleInThePoolIsReplaced) {
  // Idle longer than recheck_idle_after: the pooled connection is checked,
  // found closed and dropped before anything is sent on it.
  ClientOptions options;
  options.recheck_idle_after = milliseconds(0);
  client_ = std::make_unique<UpstreamClient>(ctx_, *tls_, options);
  OneShotServer server;
  const Origin origin = OriginFor(server.port());
  FetchThreeFromAClosingServer(origin);
  EXPECT_EQ(server.accepted(), 3);
  EXPECT_EQ(client_->stale_retries(), 0u);
}

TEST_F(ClientTest, RecentlyPooledConnectionIsUsedUncheckedAndRetriedWhenClosed) {
  // Back in the pool for less than recheck_idle_after (1 s by default): used
  // without the check; the upstream had closed it, so the request fails before
  // any response byte and goes again on a fresh connection.
  OneShotServer server;
  const Origin origin = OriginFor(server.port());
  FetchThreeFromAClosingServer(origin);
  EXPECT_EQ(server.accepted(), 3);
  EXPECT_EQ(client_->stale_retries(), 2u);
}

TEST_F(ClientTest, StreamedBodyArrivesPieceByPiece) {
  FakeUpstream up;
  up.Enqueue(SseResponse({"data: a\n\n", "data: b\n\n", "data: c\n\n"}, milliseconds(40)));
  const Origin origin = OriginFor(up.port());
  Fetched f = Fetch(Post(origin));
  ASSERT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.body, "data: a\n\ndata: b\n\ndata: c\n\n");
  EXPECT_GE(f.pieces.size(), 2u);
  EXPECT_EQ(f.content_type, "text/event-stream");
}

TEST_F(ClientTest, ConnectionRefusedIsUnavailable) {
  const uint16_t port = testing::FreePort();
  ASSERT_NE(port, 0);
  const Origin origin = OriginFor(port);
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(f.status.message(), "connect to " + origin.Key() + " failed: Connection refused");
}

TEST_F(ClientTest, UnresolvableHostIsUnavailable) {
  Origin origin;
  origin.host = "no-such-host.invalid";
  origin.port = 80;
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_TRUE(f.status.message().starts_with("cannot resolve no-such-host.invalid: "))
      << f.status.message();
}

TEST_F(ClientTest, FirstByteTimeoutIsDeadlineExceeded) {
  FakeUpstream up;
  FakeResponse slow = JsonResponse("{}");
  slow.head_delay = seconds(5);
  up.Enqueue(slow);
  const Origin origin = OriginFor(up.port());
  UpstreamRequest req = Post(origin);
  req.first_byte_timeout = milliseconds(100);
  Fetched f = Fetch(req);
  EXPECT_EQ(f.status.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(f.status.message(), "no response from " + origin.Key() + " within 100 ms");
  EXPECT_TRUE(up.WaitForClientAborts(1, seconds(5)));
}

TEST_F(ClientTest, TotalTimeoutCutsASlowBody) {
  FakeUpstream up;
  up.Enqueue(SseResponse({"data: a\n\n", "data: b\n\n"}, milliseconds(400)));
  const Origin origin = OriginFor(up.port());
  UpstreamRequest req = Post(origin);
  req.total_timeout = milliseconds(600);
  Fetched f = Fetch(req);
  EXPECT_EQ(f.status.code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(f.status.message(), origin.Key() + ": response not complete within the total timeout");
  EXPECT_EQ(f.body, "data: a\n\n");
  EXPECT_EQ(client_->idle_connections(), 0u);
}

TEST_F(ClientTest, ResetMidStreamIsUnavailable) {
  FakeUpstream up;
  FakeResponse r = SseResponse({"data: a\n\n"});
  r.reset_after_chunks = true;
  up.Enqueue(r);
  const Origin origin = OriginFor(up.port());
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(f.status.message(),
            origin.Key() + ": connection failed mid-response: Connection reset by peer");
  EXPECT_EQ(f.body, "data: a\n\n");
  EXPECT_EQ(client_->idle_connections(), 0u);
}

TEST_F(ClientTest, CancelTokenAbortsAPendingRequest) {
  FakeUpstream up;
  FakeResponse slow = JsonResponse("{}");
  slow.head_delay = seconds(5);
  up.Enqueue(slow);
  const Origin origin = OriginFor(up.port());
  CancelToken cancel;
  asio::steady_timer fire(ctx_, milliseconds(50));
  fire.async_wait([&](boost::system::error_code) { cancel.Cancel(); });
  Fetched f = Fetch(Post(origin), &cancel);
  EXPECT_EQ(f.status.code(), core::StatusCode::kCancelled);
  EXPECT_EQ(f.status.message(), "request to " + origin.Key() + " cancelled: the client went away");
  EXPECT_TRUE(up.WaitForClientAborts(1, seconds(5)));
}

TEST_F(ClientTest, AlreadyCancelledTokenSendsNothing) {
  FakeUpstream up;
  const Origin origin = OriginFor(up.port());
  CancelToken cancel;
  cancel.Cancel();
  Fetched f = Fetch(Post(origin), &cancel);
  EXPECT_EQ(f.status.code(), core::StatusCode::kCancelled);
  EXPECT_EQ(up.request_count(), 0u);
}

TEST_F(ClientTest, ReadAllEnforcesItsLimit) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(std::string(100, 'x')));
  up.Enqueue(JsonResponse("small"));
  const Origin origin = OriginFor(up.port());
  core::Status status;
  std::string small;
  Run([&]() -> awaitable<void> {
    auto resp = co_await client_->Send(Post(origin), nullptr);
    if (!resp.ok()) co_return;
    auto all = co_await resp->ReadAll(10);
    status = all.status();
    auto again = co_await client_->Send(Post(origin), nullptr);
    if (!again.ok()) co_return;
    auto body = co_await again->ReadAll(10);
    if (body.ok()) small = *body;
  });
  EXPECT_EQ(status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "upstream response body exceeds 10 bytes");
  EXPECT_EQ(small, "small");
  EXPECT_EQ(up.connections_accepted(), 2u);  // the oversized answer's connection was dropped
}

// With a Content-Length, ReadAll sizes the string once, `spare` included
// (the JSON reader's padding then needs no reallocation).
TEST_F(ClientTest, ReadAllReservesTheSpareItIsAskedFor) {
  FakeUpstream up;
  const std::string payload(1000, 'y');
  up.Enqueue(JsonResponse(payload));
  const Origin origin = OriginFor(up.port());
  std::string body;
  Run([&]() -> awaitable<void> {
    auto resp = co_await client_->Send(Post(origin), nullptr);
    if (!resp.ok()) co_return;
    auto all = co_await resp->ReadAll(1 << 20, 64);
    if (all.ok()) body = std::move(*all);
  });
  EXPECT_EQ(body, payload);
  EXPECT_GE(body.capacity(), payload.size() + 64);
}

TEST_F(ClientTest, TlsAgainstAPlainPortFailsCleanly) {
  FakeUpstream up;
  up.SetDefault(JsonResponse("{}"));
  const Origin origin = OriginFor(up.port(), /*tls=*/true);
  UpstreamRequest req = Post(origin);
  req.connect_timeout = seconds(5);
  Fetched f = Fetch(req);
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_TRUE(f.status.message().starts_with(
      "connect to https://127.0.0.1:" + std::to_string(up.port()) + " failed: "))
      << f.status.message();
  EXPECT_EQ(client_->idle_connections(), 0u);
}

// An HTTPS server on 127.0.0.1, one connection at a time on its own thread, with a
// certificate made for this run (self-signed, subjectAltName IP:127.0.0.1): answers
// every request 200 "ok" and closes. Counts the handshakes that failed.
class TlsUpstream {
 public:
  TlsUpstream() {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 3600);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("switchyard test"), -1, -1,
                               0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert_, cert_, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(cert_, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert_, key_, EVP_sha256());
    SSL_CTX_use_certificate(server_tls_.native_handle(), cert_);
    SSL_CTX_use_PrivateKey(server_tls_.native_handle(), key_);
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsUpstream() {
    stop_ = true;
    tcp::socket wake(io_);  // unblocks accept()
    boost::system::error_code ec;
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  uint16_t port() const { return port_; }
  X509* certificate() const { return cert_; }
  int failed_handshakes() const { return failed_handshakes_; }

 private:
  void Serve() {
    for (;;) {
      asio::ssl::stream<tcp::socket> tls(io_, server_tls_);
      boost::system::error_code ec;
      acceptor_.accept(tls.next_layer(), ec);
      if (ec || stop_) return;
      tls.handshake(asio::ssl::stream_base::server, ec);
      if (ec) {
        ++failed_handshakes_;
        continue;
      }
      std::string in;
      const size_t head = asio::read_until(tls, asio::dynamic_buffer(in), "\r\n\r\n", ec);
      if (ec) continue;
      size_t length = 0;
      if (const size_t at = in.find("content-length: "); at != std::string::npos && at < head) {
        length = std::stoul(in.substr(at + 16));
      }
      if (in.size() < head + length) {
        asio::read(tls, asio::dynamic_buffer(in), asio::transfer_exactly(head + length - in.size()),
                   ec);
      }
      const std::string_view answer =
          "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n"
          "connection: close\r\n\r\nok";
      asio::write(tls, asio::buffer(answer), ec);
      tls.shutdown(ec);
    }
  }

  asio::io_context io_;
  asio::ssl::context server_tls_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_{io_};
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_handshakes_{0};
  std::thread thread_;
};

// The fixture's client, over a context made with `trust`.
class ClientTlsTest : public ClientTest {
 protected:
  void UseTrustStore(UpstreamClient::TrustStore trust) {
    client_.reset();
    auto tls = UpstreamClient::MakeTlsContext(trust);
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    tls_ = std::move(*tls);
    client_ = std::make_unique<UpstreamClient>(ctx_, *tls_);
  }
  std::string VerifyFailed(uint16_t port) {
    return "connect to https://127.0.0.1:" + std::to_string(port) +
           " failed: certificate verify failed";
  }
};

TEST_F(ClientTlsTest, SystemTrustStoreRefusesAnUnknownCertificate) {
  TlsUpstream up;
  const Origin origin = OriginFor(up.port(), /*tls=*/true);
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(f.status.message(), VerifyFailed(up.port()));
  EXPECT_EQ(client_->idle_connections(), 0u);
}

TEST_F(ClientTlsTest, EmptyTrustStoreRefusesEveryCertificate) {
  UseTrustStore(UpstreamClient::TrustStore::kNone);
  TlsUpstream up;
  const Origin origin = OriginFor(up.port(), /*tls=*/true);
  Fetched f = Fetch(Post(origin));
  EXPECT_EQ(f.status.code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(f.status.message(), VerifyFailed(up.port()));
}

TEST_F(ClientTlsTest, TrustedCertificateIsAcceptedWithTheSameVerification) {
  // The empty store differs from the system one only in what it trusts: with the
  // server's certificate added, the same context completes the exchange.
  UseTrustStore(UpstreamClient::TrustStore::kNone);
  TlsUpstream up;
  ASSERT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(tls_->native_handle()), up.certificate()),
            1);
  const Origin origin = OriginFor(up.port(), /*tls=*/true);
  Fetched f = Fetch(Post(origin));
  EXPECT_TRUE(f.status.ok()) << f.status.ToString();
  EXPECT_EQ(f.http_status, 200);
  EXPECT_EQ(f.body, "ok");
  EXPECT_EQ(up.failed_handshakes(), 0);
}

TEST(MakeTlsContextTest, VerifiesPeersAndLoadsTheSystemStoreOnlyWhenAsked) {
  auto none = UpstreamClient::MakeTlsContext(UpstreamClient::TrustStore::kNone);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(SSL_CTX_get_verify_mode((*none)->native_handle()), SSL_VERIFY_PEER);
  EXPECT_EQ(
      sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store((*none)->native_handle()))),
      0);

  auto system = UpstreamClient::MakeTlsContext();
  ASSERT_TRUE(system.ok()) << system.status().ToString();
  EXPECT_EQ(SSL_CTX_get_verify_mode((*system)->native_handle()), SSL_VERIFY_PEER);
  const char* env = std::getenv(X509_get_default_cert_file_env());
  const std::string ca_file = env != nullptr ? env : X509_get_default_cert_file();
  if (access(ca_file.c_str(), R_OK) != 0) GTEST_SKIP() << "no system CA file " << ca_file;
  EXPECT_GT(sk_X509_OBJECT_num(
                X509_STORE_get0_objects(SSL_CTX_get_cert_store((*system)->native_handle()))),
            0);
}

}  // namespace
}  // namespace switchyard::http
