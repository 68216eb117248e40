// Server: the HTTP/1.1 front door.
//
// One acceptor per event loop (SO_REUSEPORT), one coroutine per connection,
// keep-alive, limits (head and body size) and timeouts (idle, head, body,
// write; coarse per-loop deadlines, http/deadlines.h). The server knows nothing of JSON or routing:
// it reads a request, hands it to the Handler with a ResponseWriter, and watches the client so the
// handler's CancelToken fires if the client goes away mid-request.
//
// Threading: Start()/BeginShutdown()/WaitIdle() are called from the owning
// (main) thread; everything else runs on the loops.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "core/status.h"
#include "http/asio.h"
#include "http/cancel.h"
#include "http/event_loops.h"
#include "http/stream_flush.h"

namespace switchyard::http {

// Header fields of an upstream request (http/client.h): names and values owned.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A header field a handler adds to a response. The name is not copied: it must
// outlive the response (the names handlers use are literals); the value is.
// (On the request path the decision headers' names, 18-25 bytes, were a heap
// allocation each, and again for every copy of the list.) The list keeps up to
// 8 fields in place, as many as a chat answer's decision headers: no allocation.
struct ResponseHeader {
  // (A constructor, not an aggregate: small_vector constructs elements with
  // T(args...), which Clang before 16 cannot do for aggregates.)
  ResponseHeader(std::string_view n, std::string v) : name(n), value(std::move(v)) {}
  std::string_view name;
  std::string value;
};
using ResponseHeaders = boost::container::small_vector<ResponseHeader, 8>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port (see Server::port())
  size_t max_body_bytes = size_t{8} * 1024 * 1024;
  size_t max_header_bytes = size_t{16} * 1024;
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds header_timeout{10'000};  // from first byte to end of head
  std::chrono::milliseconds body_timeout{30'000};    // to receive the whole body
  std::chrono::milliseconds write_timeout{60'000};   // one write to a slow reader
  int backlog = 1024;
};

struct ServerRequest {
  bhttp::verb method = bhttp::verb::unknown;
  std::string_view method_text;
  std::string_view target;
  const ArenaFields* headers = nullptr;
  std::string body;
  size_t loop = 0;                                 // index of the event loop the request runs on
  std::chrono::steady_clock::time_point received;  // when the head was complete

  std::string_view Header(std::string_view name) const;
};

class Connection;

// Writes one response. Either Send() once, or BeginStream() + WriteChunk()* +
// EndStream(). Every method returns false when the client is gone; callers stop
// then. Not thread-safe (runs on the request's loop).
class ResponseWriter {
 public:
  explicit ResponseWriter(Connection& conn);

  awaitable<bool> Send(int status, std::string_view content_type, std::string_view body,
                       const ResponseHeaders& extra = {});
  // Starts a response with Transfer-Encoding: chunked. The head goes out with
  // the first chunk (or with EndStream()); from here on started() is true.
  awaitable<bool> BeginStream(int status, std::string_view content_type,
                              const ResponseHeaders& extra = {});
  // kWithNext holds the framed chunk (copied) until the next write.
  awaitable<bool> WriteChunk(std::string_view data, StreamFlush flush = StreamFlush::kNow);
  // Ends the chunked body; `trailers` (announced in BeginStream's `Trailer`
  // header by the caller) follow the last chunk.
  awaitable<bool> EndStream(const ResponseHeaders& trailers = {});
  // Sends what a stream still holds (its head, chunks written with kWithNext)
  // when the handler returns without ending it; the connection closes after.
  awaitable<void> FlushHeld();

  bool started() const { return started_; }    // the head went out: no retry now
  bool complete() const { return complete_; }  // a whole response went out
  bool failed() const { return failed_; }      // a write failed
  size_t body_bytes() const { return body_bytes_; }
  std::chrono::steady_clock::time_point first_byte_time() const { return first_byte_; }
  CancelToken& cancel_token() { return cancel_; }
  void set_close(bool c) { close_ = c; }
  // Answering a HEAD request: heads go out as usual, body bytes do not.
  void set_head_only(bool h) { head_only_ = h; }

 private:
  void AppendHead(std::string& out, int status, std::string_view content_type,
                  const ResponseHeaders& extra, bool chunked, size_t content_length) const;
  // Writes `bufs` (scratch_ first, if it holds anything) and clears scratch_.
  awaitable<bool> WriteOut(std::span<const asio::const_buffer> bufs);
  // For WriteAll: the write deadline, armed only when a write has to wait.
  void ArmWriteDeadline();
  // After a write: disarms the deadline; on an error marks the writer failed and
  // fires the cancel token. Returns whether the write succeeded.
  bool WriteDone(const boost::system::error_code& ec);

  Connection& conn_;
  CancelToken cancel_;
  bool started_ = false;
  bool complete_ = false;
  bool failed_ = false;
  bool close_ = false;
  bool head_only_ = false;
  size_t body_bytes_ = 0;
  std::chrono::steady_clock::time_point first_byte_{};
  bool head_sent_ = false;  // a stream's head has reached the socket
  std::string& scratch_;    // the head and chunks not yet written (the connection's)
};

using Handler = std::function<awaitable<void>(ServerRequest&, ResponseWriter&)>;
// Body (and content type) of errors the server produces itself: 400 malformed
// HTTP, 408 slow client, 413 body too large, 431 head too large, 500 handler bug.
struct ErrorBody {
  std::string content_type;
  std::string body;
};
using ErrorBodyFn = std::function<ErrorBody(int status, std::string_view message)>;

class Server {
 public:
  Server(EventLoops& loops, ServerOptions options, Handler handler, ErrorBodyFn error_body);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on every loop. Errors: FailedPrecondition naming the
  // address ("cannot listen on 127.0.0.1:8080: Address already in use").
  core::Status Start();
  uint16_t port() const { return port_; }
  const ServerOptions& options() const { return options_; }

  // Stops accepting, closes idle keep-alive connections, and makes busy ones
  // close after their current response. Thread-safe; returns at once.
  void BeginShutdown();
  // Blocks until no request is in flight or the deadline passes; true if idle.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline) const;

  size_t active_requests() const { return active_requests_.load(std::memory_order_relaxed); }
  size_t open_connections() const { return open_connections_.load(std::memory_order_relaxed); }
  uint64_t total_connections() const { return total_connections_.load(std::memory_order_relaxed); }
  // Client-disconnect watches started: one per request whose handler ran
  // longer than kWatchDelay (shorter ones are never watched).
  uint64_t watches_started() const { return watches_started_.load(std::memory_order_relaxed); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

  // How long a handler runs before its client's connection is watched for a
  // disconnect. Watching costs a receive system call (the MSG_PEEK), so
  // requests answered sooner (most, behind a fast upstream) never pay it; a
  // client that goes away is noticed this much (plus up to a deadline tick)
  // later, which matters only for long generations.
  static constexpr std::chrono::milliseconds kWatchDelay{50};

 private:
  friend class Connection;
  struct Loop;

  awaitable<void> AcceptLoop(Loop& loop);
  awaitable<void> Session(Loop& loop, Socket socket);
  awaitable<void> SendError(Connection& conn, int status, std::string_view message);
  // Answers a failed read of a request's head or body (431/413/408/400), or
  // nothing when the client simply went away.
  awaitable<void> SendReadError(Connection& conn, boost::system::error_code ec, bool body);

  EventLoops& loops_;
  ServerOptions options_;
  Handler handler_;
  ErrorBodyFn error_body_;
  std::vector<std::unique_ptr<Loop>> per_loop_;
  uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<size_t> active_requests_{0};
  std::atomic<size_t> open_connections_{0};
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<uint64_t> watches_started_{0};
};

}  // namespace switchyard::http
