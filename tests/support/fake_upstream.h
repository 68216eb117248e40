// FakeUpstream: a real, scripted HTTP/1.1 server on 127.0.0.1 for tests.
//
// It listens on an ephemeral port as soon as it is constructed and serves every
// accepted connection on its own thread (keep-alive, pipelined requests,
// Content-Length and chunked request bodies). Each request is recorded and
// answered with the next scripted response (FIFO), else the handler's answer,
// else the default response. Responses can inject faults: delays before the
// head, between chunks or between body bytes, a TCP reset mid-stream, or a close
// without any response.
//
// Ownership: the object owns its sockets and threads; the destructor wakes every
// thread, closes every connection and joins them (it never hangs on a client).
// Thread-safety: every public method may be called from any thread. The handler
// runs on connection threads, possibly concurrently, without any lock held.
// Errors: if the listening socket cannot be created, status() says why and
// port() is 0; nothing else fails (client misbehaviour is counted, not thrown).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace switchyard::testing {

struct RecordedRequest {
  std::string method;                          // e.g. "POST"
  std::string target;                          // e.g. "/v1/chat/completions?x=1"
  std::map<std::string, std::string> headers;  // lower-cased names; repeats joined by ", "
  std::string body;                            // fully read and de-chunked
};

struct FakeResponse {
  int status = 200;
  // Sent verbatim, e.g. {"content-type", "application/json"}. Content-Length or
  // Transfer-Encoding is added unless given here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                              // used when `chunks` is empty
  std::vector<std::string> chunks;               // non-empty: chunked, one HTTP chunk each
  std::chrono::milliseconds chunk_delay{0};      // sleep before each chunk
  std::chrono::milliseconds head_delay{0};       // sleep before sending the status line
  std::chrono::milliseconds body_byte_delay{0};  // non-chunked body sent one byte per delay
  // After the chunks, abort the connection with a TCP RST (SO_LINGER 0) and no
  // terminating chunk.
  bool reset_after_chunks = false;
  bool close_without_response = false;  // read the request, close, send nothing
  bool keep_alive = true;               // false: "connection: close" and close after
};

// 200-style JSON answer with content-type application/json.
FakeResponse JsonResponse(std::string body, int status = 200);
// Server-sent events: content-type text/event-stream, one HTTP chunk per frame
// (frames are sent verbatim, e.g. "data: {...}\n\n"), `delay` before each.
FakeResponse SseResponse(std::vector<std::string> frames, std::chrono::milliseconds delay = {});

class FakeUpstream {
 public:
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;

  FakeUpstream();
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  // OK unless the listening socket could not be set up.
  const core::Status& status() const;
  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  // Appends to the FIFO script; each request consumes one entry.
  void Enqueue(FakeResponse r);
  // Used when the script is empty and no handler is set. Initially
  // 500 {"error":"no scripted response"}.
  void SetDefault(FakeResponse r);
  // Used when the script is empty; replaces the default. Empty function clears it.
  void SetHandler(Handler h);

  std::vector<RecordedRequest> requests() const;  // in arrival order
  size_t request_count() const;
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const;
  size_t connections_accepted() const;

  // Times a client went away while a response was pending: during head_delay,
  // chunk_delay or body_byte_delay (seen by polling the socket), or when a
  // write failed (EPIPE / reset). Counted at most once per response. A client
  // that closes after a response was fully written is not counted; a client that
  // only half-closes (shutdown SHUT_WR) during a delay is counted.
  size_t client_aborts() const;
  bool WaitForClientAborts(size_t n, std::chrono::milliseconds timeout) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::testing
