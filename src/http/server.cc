#include "http/server.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <list>
#include <memory_resource>
#include <thread>

#include "http/deadlines.h"
#include "http/message_read.h"
#include "http/write_all.h"

namespace switchyard::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";

void AppendHex(std::string& out, size_t n) {
  char buf[20];
  int i = 20;
  do {
    buf[--i] = "0123456789abcdef"[n & 0xF];
    n >>= 4;
  } while (n != 0);
  out.append(buf + i, static_cast<size_t>(20 - i));
}

bool IsTimeout(const boost::system::error_code& ec) {
  return ec == beast::error::timeout;
}

// How long a connection closed after an error answer keeps draining what the
// client is still sending: closing with unread input makes the kernel send a
// reset, which can destroy the answer before the client reads it.
constexpr std::chrono::milliseconds kLingerTime{1000};
// A request head of ~10 fields fits (each field is one Beast element: ~50 bytes
// plus its name and value).
constexpr size_t kHeadArenaBytes = 2048;

}  // namespace

// A client connection: lives in its Session coroutine's frame.
class Connection {
 public:
  Connection(Server& server, Socket socket, Deadlines& deadlines)
      : server_(server), socket_(std::move(socket)), deadline_(deadlines), watch_due_(deadlines) {}

  // The disconnect watch: once a handler has run for Server::kWatchDelay, a
  // one-byte MSG_PEEK receive waits on the socket. End of file or an error
  // fires `token`; a byte (the next pipelined request) ends the watch and
  // stays unread. A handler that ends sooner is never watched: the delay is a
  // deadline (no timer, no system call), the receive costs a recv. A plain
  // callback, not a coroutine: no frame, and (unlike async_wait, which
  // re-arms epoll with EPOLL_CTL_MOD each time) a receive: one non-blocking
  // recv, then it waits in the reactor as it is.
  // Callbacks carry the generation of the request they watch: one that
  // completes after its request ended (operation_aborted) does nothing.
  void StartWatch(CancelToken& token);
  // Ends the current request's watch (or its pending start); a pending
  // receive is cancelled.
  void StopWatch();
  // Receives started and not completed yet: the Session may only end (and
  // destroy this object) once this is 0.
  size_t watch_ops() const { return watch_ops_; }

  // Bounds the connection's current wait: idle, head, body, a write, linger
  // (one at a time). Read deadlines cancel the read, so a 408 can still go
  // out; the others close the socket, as beast's stream timeouts did.
  void ArmRead(std::chrono::milliseconds timeout) {
    read_expired_ = false;
    deadline_.ArmAfter(timeout, OnReadDeadline, this);
  }
  // The read armed last ran out of time (ArmRead clears it).
  bool read_expired() const { return read_expired_; }
  void ArmClose(std::chrono::milliseconds timeout) {
    deadline_.ArmAfter(timeout, CloseSocket, &socket_);
  }

  Server& server_;
  Socket socket_;
  Deadline deadline_;  // after socket_: its action uses it
  bool idle_ = true;   // waiting for a request: may be closed on shutdown
  bool closing_ = false;
  // The response writers' buffer for heads and held chunks, kept across the
  // connection's requests (one writer at a time) so it is allocated once.
  std::string write_buf_;

 private:
  // Cancels the read, then again at each tick until the reader disarms: when
  // the deadline passes with a read's completion already queued, the cancel
  // finds nothing pending, and a read loop (ReadParsed: the head or the body) would
  // go on with its next read unbounded.
  static void OnReadDeadline(void* self);
  static void OnWatchDue(void* self);
  void ArmWatch();
  void OnWatch(uint64_t generation, const boost::system::error_code& ec);

  Deadline watch_due_;  // when the current request's watch starts
  uint64_t watch_generation_ = 0;
  CancelToken* watch_token_ = nullptr;  // null: no live watch
  size_t watch_ops_ = 0;
  char watch_byte_ = 0;  // MSG_PEEK target; never consumed

  bool read_expired_ = false;
};

void Connection::OnReadDeadline(void* self) {
  auto* conn = static_cast<Connection*>(self);
  conn->read_expired_ = true;
  boost::system::error_code ignored;
  conn->socket_.cancel(ignored);
  // A time long past: the next tick.
  conn->deadline_.ArmAt(Deadline::Clock::time_point{}, OnReadDeadline, conn);
}

void Connection::StartWatch(CancelToken& token) {
  ++watch_generation_;
  watch_token_ = &token;
  watch_due_.ArmAfter(Server::kWatchDelay, OnWatchDue, this);
}

void Connection::OnWatchDue(void* self) {
  auto* conn = static_cast<Connection*>(self);
  if (conn->watch_token_ == nullptr) return;
  conn->server_.watches_started_.fetch_add(1, std::memory_order_relaxed);
  // asio first tries the receive at once (a reactor read op is speculative
  // until a read returns 0 bytes), and posts the result if it completes: an
  // end of file or pipelined bytes that came with (or after) the request,
  // which the edge-triggered epoll has already reported, are seen too.
  // Otherwise the op waits in the reactor without an epoll_ctl.
  conn->ArmWatch();
}

void Connection::ArmWatch() {
  ++watch_ops_;
  socket_.async_receive(asio::buffer(&watch_byte_, 1), asio::socket_base::message_peek,
                        [this, gen = watch_generation_](const boost::system::error_code& ec,
                                                        size_t /*n*/) { OnWatch(gen, ec); });
}

void Connection::OnWatch(uint64_t generation, const boost::system::error_code& ec) {
  --watch_ops_;
  if (generation != watch_generation_ || watch_token_ == nullptr) return;  // request over
  if (ec == asio::error::operation_aborted) {
    // Not StopWatch: something else cancelled the socket's operations (or a
    // write timeout closed it); keep watching. A closed socket fails at once.
    ArmWatch();
    return;
  }
  CancelToken* token = watch_token_;
  watch_token_ = nullptr;
  if (ec) token->Cancel();  // end of file or an error: the client is gone
  // else a byte of the next request arrived: stop watching, leave it unread
}

void Connection::StopWatch() {
  watch_due_.Disarm();
  watch_token_ = nullptr;
  if (watch_ops_ != 0) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }
}

struct Server::Loop {
  Loop(asio::io_context& c, size_t i)
      : ctx(c), deadlines(Deadlines::Of(c)), index(i), acceptor(c) {}
  asio::io_context& ctx;
  Deadlines& deadlines;  // the loop's, shared with its upstream client
  size_t index;
  Acceptor acceptor;
  std::list<Connection*> connections;  // touched only on this loop
};

std::string_view ServerRequest::Header(std::string_view name) const {
  if (headers == nullptr) return {};
  auto it = headers->find(name);
  if (it == headers->end()) return {};
  return it->value();
}

// ---------------------------------------------------------------- writer

ResponseWriter::ResponseWriter(Connection& conn) : conn_(conn), scratch_(conn.write_buf_) {
  scratch_.clear();
}

void ResponseWriter::AppendHead(std::string& out, int status, std::string_view content_type,
                                const ResponseHeaders& extra, bool chunked,
                                size_t content_length) const {
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(bhttp::obsolete_reason(static_cast<bhttp::status>(status)));
  out.append(kCrlf);
  if (!content_type.empty()) {
    out.append("Content-Type: ");
    out.append(content_type);
    out.append(kCrlf);
  }
  if (chunked) {
    out.append("Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n");
  } else {
    out.append("Content-Length: ");
    out.append(std::to_string(content_length));
    out.append(kCrlf);
  }
  for (const auto& [name, value] : extra) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append(kCrlf);
  }
  if (close_ || conn_.server_.draining()) out.append("Connection: close\r\n");
  out.append(kCrlf);
}

awaitable<bool> ResponseWriter::Send(int status, std::string_view content_type,
                                     std::string_view body, const ResponseHeaders& extra) {
  if (started_ || failed_) co_return false;
  started_ = true;
  scratch_.clear();
  AppendHead(scratch_, status, content_type, extra, false, body.size());
  std::array<asio::const_buffer, 2> bufs{asio::buffer(scratch_),
                                         asio::buffer(head_only_ ? std::string_view() : body)};
  boost::system::error_code ec;
  first_byte_ = std::chrono::steady_clock::now();
  co_await WriteAll(conn_.socket_, bufs, ec, [this] { ArmWriteDeadline(); });
  if (!WriteDone(ec)) co_return false;
  body_bytes_ = body.size();
  complete_ = true;
  co_return true;
}

awaitable<bool> ResponseWriter::BeginStream(int status, std::string_view content_type,
                                            const ResponseHeaders& extra) {
  if (started_ || failed_) co_return false;
  started_ = true;
  // The head waits in scratch_ for the first chunk (or the end of the stream):
  // one write instead of two when the upstream's head and first event arrive
  // together, which is how both loopback and real upstreams answer.
  scratch_.clear();
  AppendHead(scratch_, status, content_type, extra, true, 0);
  first_byte_ = std::chrono::steady_clock::now();
  co_return true;
}

awaitable<bool> ResponseWriter::WriteOut(std::span<const asio::const_buffer> bufs) {
  if (!head_sent_) {
    first_byte_ = std::chrono::steady_clock::now();
    head_sent_ = true;
  }
  boost::system::error_code ec;
  co_await WriteAll(conn_.socket_, bufs, ec, [this] { ArmWriteDeadline(); });
  scratch_.clear();
  co_return WriteDone(ec);
}

void ResponseWriter::ArmWriteDeadline() {
  conn_.ArmClose(conn_.server_.options().write_timeout);
}

bool ResponseWriter::WriteDone(const boost::system::error_code& ec) {
  conn_.deadline_.Disarm();
  if (!ec) return true;
  failed_ = true;
  cancel_.Cancel();
  return false;
}

awaitable<bool> ResponseWriter::WriteChunk(std::string_view data, StreamFlush flush) {
  if (!started_ || failed_ || complete_) co_return false;
  if (data.empty()) co_return true;  // an empty chunk would end the stream
  if (head_only_) {
    body_bytes_ += data.size();
    co_return true;
  }
  AppendHex(scratch_, data.size());
  scratch_.append(kCrlf);
  if (flush == StreamFlush::kWithNext) {
    // Held (with the head, if still waiting) until the next write.
    scratch_.append(data);
    scratch_.append(kCrlf);
    body_bytes_ += data.size();
    co_return true;
  }
  const std::array<asio::const_buffer, 3> bufs{asio::buffer(scratch_), asio::buffer(data),
                                               asio::buffer(kCrlf.data(), kCrlf.size())};
  if (!co_await WriteOut(bufs)) co_return false;
  body_bytes_ += data.size();
  co_return true;
}

awaitable<bool> ResponseWriter::EndStream(const ResponseHeaders& trailers) {
  if (!started_ || failed_ || complete_) co_return false;
  if (!head_only_) {
    scratch_.append("0\r\n");
    for (const auto& [name, value] : trailers) {
      scratch_.append(name);
      scratch_.append(": ");
      scratch_.append(value);
      scratch_.append(kCrlf);
    }
    scratch_.append(kCrlf);
  }
  if (!scratch_.empty()) {  // a HEAD request's answer still owes its head
    const std::array<asio::const_buffer, 1> bufs{asio::buffer(scratch_)};
    if (!co_await WriteOut(bufs)) co_return false;
  }
  complete_ = true;
  co_return true;
}

awaitable<void> ResponseWriter::FlushHeld() {
  if (failed_ || complete_ || scratch_.empty() || !started_) co_return;
  const std::array<asio::const_buffer, 1> bufs{asio::buffer(scratch_)};
  co_await WriteOut(bufs);
}

// ---------------------------------------------------------------- server

Server::Server(EventLoops& loops, ServerOptions options, Handler handler, ErrorBodyFn error_body)
    : loops_(loops),
      options_(std::move(options)),
      handler_(std::move(handler)),
      error_body_(std::move(error_body)) {
  for (size_t i = 0; i < loops_.size(); ++i) {
    per_loop_.push_back(std::make_unique<Loop>(loops_.context(i), i));
  }
}

Server::~Server() = default;

core::Status Server::Start() {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(options_.host, ec);
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  if (ec) return core::FailedPrecondition("cannot listen on " + where + ": not an IP address");
  uint16_t port = options_.port;
  if (port != 0) {
    // Every acceptor sets SO_REUSEPORT, which would also let this server share
    // a port another process (e.g. a second switchyard) is listening on and
    // silently take part of its connections. A probe bind without it fails
    // with EADDRINUSE when anything listens there.
    Acceptor probe(per_loop_.front()->ctx);
    const tcp::endpoint ep(addr, port);
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec) return core::FailedPrecondition("cannot listen on " + where + ": " + ec.message());
    probe.close(ec);
  }
  for (auto& loop : per_loop_) {
    tcp::endpoint ep(addr, port);
    auto& acc = loop->acceptor;
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (::setsockopt(acc.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        ec.assign(errno, boost::system::system_category());
      }
    }
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(options_.backlog, ec);
    if (ec) {
      for (auto& l : per_loop_) {
        boost::system::error_code ignored;
        l->acceptor.close(ignored);
      }
      return core::FailedPrecondition("cannot listen on " + where + ": " + ec.message());
    }
    if (port == 0) port = acc.local_endpoint().port();
  }
  port_ = port;
  for (auto& loop : per_loop_) {
    asio::co_spawn(loop->ctx, AcceptLoop(*loop), asio::detached);
  }
  return core::Status::Ok();
}

void Server::BeginShutdown() {
  draining_.store(true);
  for (auto& loop : per_loop_) {
    asio::post(loop->ctx, [l = loop.get()] {
      boost::system::error_code ignored;
      l->acceptor.close(ignored);
      for (Connection* c : l->connections) {
        if (c->idle_) {
          c->closing_ = true;
          c->socket_.shutdown(tcp::socket::shutdown_both, ignored);
          c->socket_.cancel(ignored);
        }
      }
    });
  }
}

bool Server::WaitIdle(std::chrono::steady_clock::time_point deadline) const {
  while (active_requests_.load() != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

awaitable<void> Server::AcceptLoop(Loop& loop) {
  for (;;) {
    boost::system::error_code ec;
    Socket socket = co_await loop.acceptor.async_accept(Redirect(ec));
    if (ec) {
      if (!loop.acceptor.is_open() || draining_.load()) co_return;
      // EMFILE and friends: back off briefly rather than spin.
      SteadyTimer t(loop.ctx.get_executor(), std::chrono::milliseconds(10));
      co_await t.async_wait(Redirect(ec));
      continue;
    }
    if (draining_.load()) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(loop.ctx, Session(loop, std::move(socket)), asio::detached);
  }
}

awaitable<void> Server::SendError(Connection& conn, int status, std::string_view message) {
  ErrorBody eb =
      error_body_ ? error_body_(status, message) : ErrorBody{"text/plain", std::string(message)};
  ResponseWriter w(conn);
  w.set_close(true);
  co_await w.Send(status, eb.content_type, eb.body);
}

awaitable<void> Server::SendReadError(Connection& conn, boost::system::error_code ec, bool body) {
  // The client closing (or a message cut short while reading the body) gets no answer.
  if (ec == asio::error::eof || (!body && ec == bhttp::error::end_of_stream) ||
      (body && ec == bhttp::error::partial_message)) {
    co_return;
  }
  if (ec == bhttp::error::header_limit) {
    co_await SendError(
        conn, 431, "request head exceeds " + std::to_string(options_.max_header_bytes) + " bytes");
  } else if (ec == bhttp::error::body_limit) {
    co_await SendError(
        conn, 413, "request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes");
  } else if (IsTimeout(ec)) {
    const auto limit = body ? options_.body_timeout : options_.header_timeout;
    co_await SendError(conn, 408,
                       std::string("request ") + (body ? "body" : "head") +
                           " not received within " + std::to_string(limit.count()) + " ms");
  } else {
    co_await SendError(conn, 400, "malformed HTTP request: " + ec.message());
  }
}

awaitable<void> Server::Session(Loop& loop, Socket socket) {
  Connection conn(*this, std::move(socket), loop.deadlines);
  loop.connections.push_front(&conn);
  const auto self_it = loop.connections.begin();
  open_connections_.fetch_add(1, std::memory_order_relaxed);
  total_connections_.fetch_add(1, std::memory_order_relaxed);
  beast::flat_buffer buffer;
  // The request head's fields (and target) live here, reset per request; a head
  // that outgrows it continues on the heap.
  std::array<std::byte, kHeadArenaBytes> head_arena_buffer;
  std::pmr::monotonic_buffer_resource head_arena(head_arena_buffer.data(),
                                                 head_arena_buffer.size());
  const auto executor = co_await asio::this_coro::executor;
  const size_t loop_index = loop.index;
  bool linger = false;  // an error answer went out; the client may still be sending

  for (;;) {
    boost::system::error_code ec;
    // Wait for the first byte of the next request (keep-alive idle time).
    conn.idle_ = true;
    if (draining_.load() || conn.closing_) break;
    if (buffer.size() == 0) {
      conn.ArmRead(options_.idle_timeout);
      const size_t n = co_await conn.socket_.async_read_some(buffer.prepare(4096), Redirect(ec));
      conn.deadline_.Disarm();
      if (ec) break;  // idle timeout, client closed, or shutdown
      buffer.commit(n);
    }
    conn.idle_ = false;

    head_arena.release();  // the previous request's parser is gone
    bhttp::request_parser<bhttp::string_body, FieldsAllocator> parser(
        std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldsAllocator(&head_arena)));
    parser.header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);
    // A head that arrived whole (the common case) is parsed without a read, so
    // without arming the head deadline.
    if (!ParseBuffered(buffer, parser, ReadUntil::kHeader, ec)) {
      conn.ArmRead(options_.header_timeout);
      co_await ReadParsed(conn.socket_, buffer, parser, ReadUntil::kHeader, ec);
      conn.deadline_.Disarm();
      if (ec && conn.read_expired()) ec = beast::error::timeout;
    }
    if (ec) {
      linger = true;
      co_await SendReadError(conn, ec, /*body=*/false);
      break;
    }
    const auto received = std::chrono::steady_clock::now();
    if (!parser.is_done()) {
      if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        conn.ArmClose(options_.write_timeout);
        co_await asio::async_write(conn.socket_, asio::buffer(kContinue.data(), kContinue.size()),
                                   Redirect(ec));
        conn.deadline_.Disarm();
        if (ec) break;
      }
      if (!ParseBuffered(buffer, parser, ReadUntil::kMessage, ec)) {
        conn.ArmRead(options_.body_timeout);
        co_await ReadParsed(conn.socket_, buffer, parser, ReadUntil::kMessage, ec);
        conn.deadline_.Disarm();
        if (ec && conn.read_expired()) ec = beast::error::timeout;
      }
      if (ec) {
        linger = true;
        co_await SendReadError(conn, ec, /*body=*/true);
        break;
      }
    }

    auto& msg = parser.get();
    const bool keep_alive = msg.keep_alive();
    ServerRequest req;
    req.method = msg.method();
    req.method_text = msg.method_string();
    req.target = msg.target();
    req.headers = &msg.base();
    req.body = std::move(msg.body());
    req.loop = loop_index;
    req.received = received;

    ResponseWriter writer(conn);
    if (!keep_alive) writer.set_close(true);
    if (req.method == bhttp::verb::head) writer.set_head_only(true);
    active_requests_.fetch_add(1, std::memory_order_relaxed);

    // Run the handler; meanwhile watch the socket so a client that goes away
    // cancels the work done on its behalf.
    bool handler_threw = false;
    conn.StartWatch(writer.cancel_token());
    try {
      co_await handler_(req, writer);
    } catch (...) {
      handler_threw = true;
    }
    conn.StopWatch();
    active_requests_.fetch_sub(1, std::memory_order_relaxed);

    // NOLINTNEXTLINE(readability-braces-around-statements): one line; clang 14 misreads co_await
    if (!writer.complete()) co_await writer.FlushHeld();
    if (handler_threw && !writer.started()) {
      co_await SendError(conn, 500, "internal error while handling the request");
      break;
    }
    if (!writer.complete() || !keep_alive || draining_.load() || writer.failed()) break;
  }

  boost::system::error_code ignored;
  conn.socket_.shutdown(tcp::socket::shutdown_send, ignored);
  if (linger && conn.socket_.is_open()) {
    // Discard input until the client closes (it has our answer by then) or
    // the linger time passes.
    conn.ArmClose(kLingerTime);
    std::array<char, size_t{16} * 1024> sink;
    for (;;) {
      boost::system::error_code rec;
      co_await conn.socket_.async_read_some(asio::buffer(sink), Redirect(rec));
      if (rec) break;
    }
    conn.deadline_.Disarm();
  }
  conn.socket_.close(ignored);
  // A watch's cancelled receive may still wait in the loop's queue, holding a
  // pointer to `conn`: let it run before the frame (and `conn`) goes away.
  while (conn.watch_ops() != 0) {
    co_await asio::post(executor, use_awaitable);
  }
  loop.connections.erase(self_it);
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace switchyard::http
