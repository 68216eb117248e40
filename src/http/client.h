// UpstreamClient: HTTP/1.1 client with a keep-alive pool, for one event loop.
//
// Plain and TLS origins (system CA store, certificate and host-name
// verification on). Responses are pulled: Send() returns once the response head
// has arrived; the body is read piece by piece with ReadSome() (chunked
// transfer decoded), so a streamed answer is relayed as it arrives. When a
// response has been read to the end on a keep-alive connection, the connection
// goes back to the pool.
//
// Threading: an UpstreamClient and every UpstreamResponse it returns belong to
// one event loop and must only be used there. The client must outlive its
// responses.
//
// Errors (all carry a message naming the origin):
//   Unavailable       connect refused/reset, TLS failure, malformed response,
//                     connection closed before the response ended
//   DeadlineExceeded  connect, first-byte or total timeout
//   Cancelled         the CancelToken fired
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "http/asio.h"
#include "http/cancel.h"
#include "http/deadlines.h"
#include "http/server.h"
#include "http/url.h"

namespace switchyard::http {

struct ClientOptions {
  size_t max_idle_per_origin = 64;                   // pooled idle connections per origin
  std::chrono::milliseconds idle_keepalive{30'000};  // drop pooled connections idle longer
  std::chrono::seconds dns_ttl{30};                  // cache of resolved addresses
  // A pooled connection idle at least this long is checked for a close from the upstream
  // (a recv with MSG_PEEK) before it carries a request. Upstreams close idle connections
  // after seconds (uvicorn, Node, llama.cpp: 5 s), so a connection back in the pool for
  // less is used without the check, one system call saved per request; if it was closed
  // after all, the request fails before any response byte and is sent again on a fresh
  // connection (stale_retries()).
  std::chrono::milliseconds recheck_idle_after{1'000};
};

struct UpstreamRequest {
  const Origin* origin = nullptr;  // must outlive the call
  std::string_view method = "POST";
  std::string_view target;              // path and query
  const HeaderList* headers = nullptr;  // extra headers; Host and Content-Length are added
  std::string_view content_type = "application/json";
  std::string_view body;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds first_byte_timeout{60'000};
  std::chrono::milliseconds total_timeout{600'000};
};

struct UpstreamConnection;
class UpstreamClient;

class UpstreamResponse {
 public:
  UpstreamResponse(UpstreamResponse&&) noexcept;
  UpstreamResponse& operator=(UpstreamResponse&&) noexcept;
  ~UpstreamResponse();

  int status() const;
  std::string_view Header(std::string_view name) const;
  bool reused_connection() const { return reused_; }
  bool done() const;

  // The next piece of the decoded body; an empty view once the body is
  // complete. The view is valid until the next call.
  awaitable<core::Result<std::string_view>> ReadSome();
  // The whole remaining body; Unavailable if it exceeds `limit` bytes. The
  // string's capacity covers `spare` bytes past the body when the length is
  // known up front (a parser's padding: no reallocation and copy later).
  awaitable<core::Result<std::string>> ReadAll(size_t limit, size_t spare = 0);

 private:
  friend class UpstreamClient;
  struct State;
  explicit UpstreamResponse(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  bool reused_ = false;
};

class UpstreamClient {
 public:
  UpstreamClient(asio::io_context& ctx, asio::ssl::context& tls, ClientOptions options = {});
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // Sends the request and waits for the response head. `cancel` may be null.
  awaitable<core::Result<UpstreamResponse>> Send(const UpstreamRequest& request,
                                                 CancelToken* cancel);

  size_t idle_connections() const;
  uint64_t connections_opened() const { return connections_opened_; }
  // Requests sent again on a fresh connection because a pooled one turned out closed.
  uint64_t stale_retries() const { return stale_retries_; }

  // What a TLS context trusts.
  enum class TrustStore {
    kSystem,  // the system CA store (OpenSSL's default CA file and directory)
    // Nothing: every TLS handshake fails verification. For a process with no
    // https upstream, which then skips parsing the whole CA bundle at start
    // (150 certificates on Debian: 1-1.5 MB of RSS, ~250M instructions).
    kNone,
  };
  // Creates the TLS context every client shares: TLS 1.2+, peer verification
  // (always on) against `trust`. Errors: FailedPrecondition "TLS set-up failed: ...".
  static core::Result<std::unique_ptr<asio::ssl::context>> MakeTlsContext(
      TrustStore trust = TrustStore::kSystem);

 private:
  friend class UpstreamResponse;
  awaitable<core::Result<std::unique_ptr<UpstreamConnection>>> Connect(
      const Origin& origin, std::chrono::steady_clock::time_point deadline, CancelToken* cancel);
  awaitable<core::Result<std::vector<tcp::endpoint>>> Resolve(const Origin& origin);
  // A pooled connection to `origin` that is still usable at `now`, or null.
  std::unique_ptr<UpstreamConnection> TakeIdle(const Origin& origin,
                                               std::chrono::steady_clock::time_point now);
  void Release(std::unique_ptr<UpstreamConnection> conn);

  asio::io_context& ctx_;
  Deadlines& deadlines_;  // the loop's (Deadlines::Of(ctx)), shared with its server
  asio::ssl::context& tls_;
  ClientOptions options_;
  Resolver resolver_;
  struct DnsEntry {
    std::vector<tcp::endpoint> endpoints;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, DnsEntry> dns_;
  // Keyed by the origin itself: looking a pool up builds no string.
  struct OriginHash {
    size_t operator()(const Origin& o) const {
      return std::hash<std::string_view>{}(o.host) ^ (static_cast<size_t>(o.port) << 1) ^
             static_cast<size_t>(o.tls);
    }
  };
  std::unordered_map<Origin, std::vector<std::unique_ptr<UpstreamConnection>>, OriginHash> idle_;
  uint64_t connections_opened_ = 0;
  uint64_t stale_retries_ = 0;
};

}  // namespace switchyard::http
