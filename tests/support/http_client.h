// A tiny synchronous HTTP/1.1 client for tests, talking to 127.0.0.1:<port>.
//
// Every call takes a timeout that bounds the whole exchange, so no call hangs.
// Transport failures come back in `error` (never thrown):
//   Unavailable       "connect to 127.0.0.1:<port>: Connection refused",
//                     "read response from 127.0.0.1:<port>: end of stream" (closed
//                     before any response byte), "...: partial message" (closed mid
//                     response), "...: Connection reset by peer", ...
//   DeadlineExceeded  "timed out after <n> ms waiting for 127.0.0.1:<port>"
// An HTTP error status (4xx/5xx) is not a transport failure: `error` stays OK.
// Whatever was received before a failure (status, headers, body) is kept.
//
// Requests carry "host: 127.0.0.1:<port>" and, when a body is given or the method
// is POST/PUT/PATCH, "content-length", unless `headers` sets them. One-shot
// calls also send "connection: close" unless `headers` sets "connection".
//
// Thread-safety: the free functions are thread-safe; an HttpConnection must be
// used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace switchyard::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  int status = 0;                              // 0 when no response head arrived
  std::map<std::string, std::string> headers;  // lower-cased names; repeats joined by ", "
  std::string body;                            // de-chunked
  core::Status error;                          // transport failure, see above
};

HttpResult HttpRequest(uint16_t port, std::string method, std::string target, std::string body = "",
                       HeaderList headers = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

struct StreamResult {
  int status = 0;
  std::map<std::string, std::string> headers;
  // Chunked responses: one piece per HTTP chunk (decoded data). Otherwise: one
  // piece per read that delivered body bytes. Concatenated they equal `body`.
  std::vector<std::string> pieces;
  // When each piece was complete, parallel to `pieces`.
  std::vector<std::chrono::steady_clock::time_point> arrival_times;
  std::chrono::steady_clock::time_point started;  // just before connecting
  std::string body;
  core::Status error;
};

// POSTs `body` to `target` and reads the response piece by piece.
StreamResult HttpStream(uint16_t port, std::string target, std::string body,
                        HeaderList headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Like HttpStream, but closes the socket (a client abort) as soon as at least
// `abort_after_bytes` body bytes arrived (0: right after the response head).
// If the response ends first, it returns normally. `error` stays OK after an abort.
StreamResult HttpStreamAbortAfter(uint16_t port, std::string target, std::string body,
                                  size_t abort_after_bytes, HeaderList headers = {},
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Sends `raw` verbatim and returns every byte the server sends until it closes
// the connection or `timeout` passes. Returns "" if the connection fails.
std::string RawExchange(uint16_t port, std::string_view raw, std::chrono::milliseconds timeout);

// A persistent keep-alive connection: several requests on one socket.
class HttpConnection {
 public:
  // Errors: as for HttpRequest's connect failures.
  static core::Result<std::unique_ptr<HttpConnection>> Connect(
      uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request and reads its response. After a transport failure or a
  // response that ends the connection ("connection: close"), open() is false and
  // later calls fail with Unavailable "connection to 127.0.0.1:<port> is closed".
  HttpResult Request(std::string method, std::string target, std::string body = "",
                     HeaderList headers = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool open() const;

 private:
  struct State;
  explicit HttpConnection(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace switchyard::testing
