#include "http/client.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <limits>
#include <optional>

#include <boost/asio/ssl/host_name_verification.hpp>

#include "http/deadlines.h"
#include "http/message_read.h"
#include "http/write_all.h"

namespace switchyard::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReadBuffer = size_t{16} * 1024;

// A failure on a reused connection before any byte of the response arrived:
// the upstream closed the idle connection; try again on a fresh one.
bool IsStaleConnection(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

}  // namespace

struct UpstreamConnection {
  explicit UpstreamConnection(Deadlines& deadlines) : deadline(deadlines) {}

  Origin origin;
  std::optional<Socket> plain;
  std::optional<beast::ssl_stream<Socket>> tls;
  // Raw bytes read from the socket. Connect() reserves kReadBuffer: beast sizes each read
  // by the free capacity (512 bytes for a fresh buffer), which split a 3 KB
  // streamed answer into seven reads and seven writes to the client.
  beast::flat_buffer buffer;
  // Decoded body bytes for ReadSome(); allocated once per connection (not per
  // request) and not zeroed: the parser writes before anything reads.
  std::unique_ptr<char[]> body_buf = std::make_unique_for_overwrite<char[]>(kReadBuffer);
  Clock::time_point idle_since;
  // Bounds the current connect, exchange or body read (one at a time): at its
  // time it closes the socket, as beast's stream timeouts did, and the failed
  // operation is reported as a timeout. Declared after the streams: its
  // action uses the socket.
  Deadline deadline;

  Socket& tcp() { return tls ? tls->next_layer() : *plain; }
  void ArmClose(Clock::time_point at) { deadline.ArmAt(at, CloseSocket, &tcp()); }
  // Cancels the pending operations (the CancelToken's callback).
  void Cancel() {
    boost::system::error_code ignored;
    tcp().cancel(ignored);
  }
  void Close() {
    boost::system::error_code ignored;
    tcp().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close(ignored);
  }
};

struct UpstreamResponse::State {
  UpstreamClient* client = nullptr;
  std::unique_ptr<UpstreamConnection> conn;
  bhttp::response_parser<bhttp::buffer_body> parser;
  Clock::time_point deadline;
  CancelToken* cancel = nullptr;
  size_t cancel_handle = CancelToken::kNone;
  bool broken = false;
  std::optional<core::Status> deferred_error;  // returned by the next ReadSome()

  ~State() {
    if (cancel != nullptr) cancel->Unregister(cancel_handle);
    if (conn && client != nullptr && !broken && parser.is_done() && parser.keep_alive()) {
      client->Release(std::move(conn));
    } else if (conn) {
      conn->Close();
    }
  }
};

// ---------------------------------------------------------------- response

UpstreamResponse::UpstreamResponse(std::unique_ptr<State> state) : state_(std::move(state)) {}
UpstreamResponse::UpstreamResponse(UpstreamResponse&&) noexcept = default;
UpstreamResponse& UpstreamResponse::operator=(UpstreamResponse&&) noexcept = default;
UpstreamResponse::~UpstreamResponse() = default;

int UpstreamResponse::status() const {
  return static_cast<int>(state_->parser.get().result_int());
}

std::string_view UpstreamResponse::Header(std::string_view name) const {
  const auto& fields = state_->parser.get().base();
  auto it = fields.find(name);
  return it == fields.end() ? std::string_view{} : std::string_view(it->value());
}

bool UpstreamResponse::done() const {
  return state_->parser.is_done();
}

awaitable<core::Result<std::string_view>> UpstreamResponse::ReadSome() {
  State& s = *state_;
  auto where = [&s] { return s.conn ? s.conn->origin.Key() : std::string("upstream"); };
  for (;;) {
    if (s.deferred_error) co_return *s.deferred_error;
    if (s.parser.is_done()) co_return std::string_view{};
    if (s.broken || !s.conn) co_return core::Unavailable(where() + ": connection already failed");
    auto& body = s.parser.get().body();
    body.data = s.conn->body_buf.get();
    body.size = kReadBuffer;
    boost::system::error_code ec;
    // What the buffer holds settles the call without a read (and a deadline).
    const bool read = !ParseBuffered(s.conn->buffer, s.parser, ReadUntil::kSome, ec);
    if (read) {
      s.conn->ArmClose(s.deadline);
      if (s.conn->tls) {
        co_await ReadParsed(*s.conn->tls, s.conn->buffer, s.parser, ReadUntil::kSome, ec);
      } else {
        co_await ReadParsed(*s.conn->plain, s.conn->buffer, s.parser, ReadUntil::kSome, ec);
      }
      s.conn->deadline.Disarm();
    }
    if (ec == bhttp::error::need_buffer) ec = {};
    // Expired after the read completed: the socket is closed all the same.
    const bool timed_out = read && s.conn->deadline.expired();
    if (ec || timed_out) {
      s.broken = true;
      if (s.cancel != nullptr && s.cancel->cancelled()) {
        co_return core::Cancelled(where() + ": cancelled because the client went away");
      }
      if (timed_out) {
        co_return core::DeadlineExceeded(where() +
                                         ": response not complete within the total timeout");
      }
      co_return core::Unavailable(where() + ": connection failed mid-response: " + ec.message());
    }
    // async_read_some stops at the end of each chunk of a chunked body. Parse
    // the chunks already in the connection's buffer too, so a burst of SSE
    // events is handed on (and written to the client) at once instead of one
    // trip through the event loop and one send per chunk.
    while (!s.parser.is_done() && body.size > 0 && s.conn->buffer.size() > 0) {
      boost::system::error_code pec;
      const size_t used = s.parser.put(s.conn->buffer.data(), pec);
      s.conn->buffer.consume(used);
      if (pec == bhttp::error::need_more || pec == bhttp::error::need_buffer) break;
      if (pec) {
        // Hand on what parsed cleanly; the next call reports the error.
        s.broken = true;
        s.deferred_error =
            core::Unavailable(where() + ": malformed response body: " + pec.message());
        break;
      }
      if (used == 0) break;
    }
    const size_t n = kReadBuffer - body.size;
    if (n > 0) co_return std::string_view(s.conn->body_buf.get(), n);
    if (s.deferred_error) co_return *s.deferred_error;
  }
}

awaitable<core::Result<std::string>> UpstreamResponse::ReadAll(size_t limit, size_t spare) {
  std::string out;
  if (const auto length = state_->parser.content_length(); length && *length <= limit) {
    out.reserve(static_cast<size_t>(*length) + spare);
  }
  for (;;) {
    auto piece = co_await ReadSome();
    if (!piece.ok()) co_return piece.take_status();
    if (piece->empty()) co_return out;
    if (out.size() + piece->size() > limit) {
      state_->broken = true;
      co_return core::Unavailable("upstream response body exceeds " + std::to_string(limit) +
                                  " bytes");
    }
    out.append(*piece);
  }
}

// ---------------------------------------------------------------- client

UpstreamClient::UpstreamClient(asio::io_context& ctx, asio::ssl::context& tls,
                               ClientOptions options)
    : ctx_(ctx), deadlines_(Deadlines::Of(ctx)), tls_(tls), options_(options), resolver_(ctx) {}

UpstreamClient::~UpstreamClient() = default;

core::Result<std::unique_ptr<asio::ssl::context>> UpstreamClient::MakeTlsContext(TrustStore trust) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (!ec && trust == TrustStore::kSystem) ctx->set_default_verify_paths(ec);
  if (!ec) ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return core::FailedPrecondition("TLS set-up failed: " + ec.message());
  return ctx;
}

size_t UpstreamClient::idle_connections() const {
  size_t n = 0;
  for (const auto& [key, conns] : idle_) n += conns.size();
  return n;
}

awaitable<core::Result<std::vector<tcp::endpoint>>> UpstreamClient::Resolve(const Origin& origin) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(origin.host, ec);
  if (!ec) co_return std::vector<tcp::endpoint>{tcp::endpoint(addr, origin.port)};
  const std::string key = origin.host + ":" + std::to_string(origin.port);
  const auto now = Clock::now();
  if (auto it = dns_.find(key); it != dns_.end() && it->second.expires > now) {
    co_return it->second.endpoints;
  }
  auto results =
      co_await resolver_.async_resolve(origin.host, std::to_string(origin.port), Redirect(ec));
  if (ec) co_return core::Unavailable("cannot resolve " + origin.host + ": " + ec.message());
  std::vector<tcp::endpoint> eps;
  for (const auto& r : results) eps.push_back(r.endpoint());
  dns_[key] = DnsEntry{eps, now + options_.dns_ttl};
  co_return eps;
}

awaitable<core::Result<std::unique_ptr<UpstreamConnection>>> UpstreamClient::Connect(
    const Origin& origin, Clock::time_point deadline, CancelToken* cancel) {
  auto eps = co_await Resolve(origin);
  if (!eps.ok()) co_return eps.take_status();
  auto conn = std::make_unique<UpstreamConnection>(deadlines_);
  conn->buffer.reserve(kReadBuffer);
  conn->origin = origin;
  if (origin.tls) {
    conn->tls.emplace(ctx_, tls_);
  } else {
    conn->plain.emplace(ctx_);
  }
  size_t handle = CancelToken::kNone;
  if (cancel != nullptr) handle = cancel->Register([c = conn.get()] { c->Cancel(); });
  struct Unreg {
    CancelToken* t;
    size_t h;
    ~Unreg() {
      if (t != nullptr) t->Unregister(h);
    }
  } unreg{cancel, handle};

  boost::system::error_code ec;
  conn->ArmClose(deadline);
  // (A socket closed by the deadline ends the endpoint loop: operation_aborted.)
  co_await asio::async_connect(conn->tcp(), *eps, Redirect(ec));
  if (!ec) {
    conn->tcp().set_option(tcp::no_delay(true), ec);
    ec = {};
  }
  if (!ec && origin.tls) {
    if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), origin.host.c_str())) {
      co_return core::Unavailable("TLS to " + origin.Key() + ": cannot set SNI");
    }
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(origin.host));
    co_await conn->tls->async_handshake(asio::ssl::stream_base::client, Redirect(ec));
  }
  conn->deadline.Disarm();
  const bool timed_out = conn->deadline.expired();
  if (ec || timed_out) {
    if (cancel != nullptr && cancel->cancelled()) {
      co_return core::Cancelled("connect to " + origin.Key() + " cancelled: the client went away");
    }
    if (timed_out) {
      // Nothing was sent yet: the caller may retry (error_code "connect_timeout").
      core::Status timeout = core::DeadlineExceeded("connect to " + origin.Key() + " timed out");
      timeout.set_error_code("connect_timeout");
      co_return timeout;
    }
    co_return core::Unavailable("connect to " + origin.Key() + " failed: " + ec.message());
  }
  ++connections_opened_;
  co_return conn;
}

std::unique_ptr<UpstreamConnection> UpstreamClient::TakeIdle(const Origin& origin,
                                                             Clock::time_point now) {
  auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& conns = it->second;
  while (!conns.empty()) {
    auto conn = std::move(conns.back());
    conns.pop_back();
    if (now - conn->idle_since > options_.idle_keepalive) {
      conn->Close();
      continue;
    }
    if (now - conn->idle_since < options_.recheck_idle_after) return conn;
    // An idle connection with something to read has been closed (EOF) or is
    // misbehaving; either way it cannot carry a new request.
    char byte = 0;
    const ssize_t n = ::recv(conn->tcp().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return conn;
    conn->Close();
  }
  return nullptr;
}

void UpstreamClient::Release(std::unique_ptr<UpstreamConnection> conn) {
  auto& conns = idle_[conn->origin];
  if (conns.size() >= options_.max_idle_per_origin) {
    conn->Close();
    return;
  }
  conn->buffer.clear();
  conn->idle_since = Clock::now();
  conns.push_back(std::move(conn));
}

awaitable<core::Result<UpstreamResponse>> UpstreamClient::Send(const UpstreamRequest& req,
                                                               CancelToken* cancel) {
  const Origin& origin = *req.origin;
  const auto start = Clock::now();
  const auto total_deadline = start + req.total_timeout;

  std::string head;
  head.reserve(256);
  head.append(req.method);
  head.push_back(' ');
  head.append(req.target);
  head.append(" HTTP/1.1\r\nHost: ");
  head.append(origin.HostHeader());
  head.append("\r\n");
  if (!req.body.empty() || req.method == "POST") {
    if (!req.content_type.empty()) {
      head.append("Content-Type: ");
      head.append(req.content_type);
      head.append("\r\n");
    }
    head.append("Content-Length: ");
    head.append(std::to_string(req.body.size()));
    head.append("\r\n");
  }
  if (req.headers != nullptr) {
    for (const auto& [name, value] : *req.headers) {
      head.append(name);
      head.append(": ");
      head.append(value);
      head.append("\r\n");
    }
  }
  head.append("\r\n");

  // At most one retry, and only when a pooled connection turned out stale.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (cancel != nullptr && cancel->cancelled()) {
      co_return core::Cancelled("request to " + origin.Key() + " cancelled: the client went away");
    }
    // Only the first attempt takes a pooled connection: `start` serves its
    // idle check and its first-byte deadline (counted from the start,
    // microseconds before the write); a new connection reads the clock after
    // connecting.
    std::unique_ptr<UpstreamConnection> conn = attempt == 0 ? TakeIdle(origin, start) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      auto connected = co_await Connect(
          origin, std::min(total_deadline, Clock::now() + req.connect_timeout), cancel);
      if (!connected.ok()) co_return connected.take_status();
      conn = std::move(*connected);
    }

    auto state = std::make_unique<UpstreamResponse::State>();
    state->client = this;
    state->deadline = total_deadline;
    state->cancel = cancel;
    UpstreamConnection* raw = conn.get();
    state->conn = std::move(conn);
    if (cancel != nullptr) {
      state->cancel_handle = cancel->Register([raw] { raw->Cancel(); });
    }
    state->parser.body_limit(std::numeric_limits<std::uint64_t>::max());

    boost::system::error_code ec;
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(req.body)};
    raw->ArmClose(
        std::min(total_deadline, (reused ? start : Clock::now()) + req.first_byte_timeout));
    if (raw->tls) {
      co_await asio::async_write(*raw->tls, bufs, Redirect(ec));
    } else {
      co_await WriteAll(*raw->plain, bufs, ec);
    }
    if (!ec) {
      if (raw->tls) {
        co_await ReadParsed(*raw->tls, raw->buffer, state->parser, ReadUntil::kHeader, ec);
      } else {
        co_await ReadParsed(*raw->plain, raw->buffer, state->parser, ReadUntil::kHeader, ec);
      }
    }
    raw->deadline.Disarm();
    const bool timed_out = raw->deadline.expired();
    if (ec || timed_out) {
      state->broken = true;
      if (cancel != nullptr && cancel->cancelled()) {
        co_return core::Cancelled("request to " + origin.Key() +
                                  " cancelled: the client went away");
      }
      if (reused && attempt == 0 && !timed_out && IsStaleConnection(ec)) {
        ++stale_retries_;
        continue;
      }
      if (timed_out) {
        co_return core::DeadlineExceeded("no response from " + origin.Key() + " within " +
                                         std::to_string(req.first_byte_timeout.count()) + " ms");
      }
      co_return core::Unavailable("request to " + origin.Key() + " failed: " + ec.message());
    }
    UpstreamResponse resp(std::move(state));
    resp.reused_ = reused;
    co_return resp;
  }
  co_return core::Unavailable("request to " + origin.Key() + " failed on a stale connection");
}

}  // namespace switchyard::http
