#include "support/fake_upstream.h"

#include <utility>  // must precede Asio headers with Boost 1.74

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "support/internal/socket_io.h"

namespace switchyard::testing {

namespace http = boost::beast::http;
using internal::Clock;
using internal::ErrorCode;
using internal::UniqueFd;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(60);   // waiting for / reading a request
constexpr auto kWriteTimeout = std::chrono::seconds(30);  // writing one piece of a response
constexpr std::uint64_t kMaxRequestBody = 256ull * 1024 * 1024;

// How serving one response ended.
enum class Outcome {
  kKeepOpen,  // response complete, connection reusable
  kClose,     // response complete (or deliberately cut); close the connection
  kAborted,   // the client went away while the response was pending
  kStopping,  // the server is shutting down
};

enum class Watch { kElapsed, kPeerClosed, kStopping };

// Sleeps for `delay` while watching the socket: returns early when the peer
// closed or reset the connection, or when the server is stopping.
Watch SleepWatchingPeer(int fd, std::chrono::milliseconds delay, int wake_fd) {
  const auto deadline = Clock::now() + delay;
  for (;;) {
    int timeout_ms = internal::PollTimeoutMs(deadline);
    pollfd fds[2] = {{fd, POLLIN | POLLRDHUP, 0}, {wake_fd, POLLIN, 0}};
    int rc = ::poll(fds, 2, timeout_ms);
    if (rc < 0 && errno != EINTR) return Watch::kPeerClosed;
    if (rc > 0) {
      if (fds[1].revents != 0) return Watch::kStopping;
      if ((fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) return Watch::kPeerClosed;
      if ((fds[0].revents & POLLIN) != 0) {
        char c;
        ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0) return Watch::kPeerClosed;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          return Watch::kPeerClosed;
        }
        // A pipelined request is waiting: the socket stays readable, so nap
        // instead of spinning on poll().
        if (n > 0 && internal::PollTimeoutMs(deadline) > 0) {
          std::this_thread::sleep_for(
              std::min<Clock::duration>(std::chrono::milliseconds(5), deadline - Clock::now()));
        }
      }
    }
    if (Clock::now() >= deadline) return Watch::kElapsed;
  }
}

std::string ReasonPhrase(int status) {
  auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  return reason.empty() ? std::string("Unknown") : std::string(reason);
}

std::string ChunkFrame(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string out(size);
  out.append(data);
  out.append("\r\n");
  return out;
}

}  // namespace

FakeResponse JsonResponse(std::string body, int status) {
  FakeResponse r;
  r.status = status;
  r.headers = {{"content-type", "application/json"}};
  r.body = std::move(body);
  return r;
}

FakeResponse SseResponse(std::vector<std::string> frames, std::chrono::milliseconds delay) {
  FakeResponse r;
  r.headers = {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}};
  r.chunks = std::move(frames);
  r.chunk_delay = delay;
  return r;
}

class FakeUpstream::Impl {
 public:
  Impl() {
    default_ = JsonResponse(R"({"error":"no scripted response"})", 500);
    wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd_.valid()) {
      status_ = core::Internal(std::string("fake upstream: eventfd: ") + std::strerror(errno));
      return;
    }
    listen_fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_fd_.valid()) {
      status_ = core::Internal(std::string("fake upstream: socket: ") + std::strerror(errno));
      return;
    }
    int one = 1;
    ::setsockopt(listen_fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listen_fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_.get(), SOMAXCONN) != 0 ||
        ::getsockname(listen_fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status_ = core::Internal(std::string("fake upstream: listen: ") + std::strerror(errno));
      listen_fd_.Reset();
      return;
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~Impl() {
    if (wake_fd_.valid()) {
      std::uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof(one));
    }
    if (acceptor_.joinable()) acceptor_.join();
    // The acceptor has stopped: conns_ is ours now.
    for (auto& c : conns_) c->thread.join();
  }

  const core::Status& status() const { return status_; }
  uint16_t port() const { return port_; }

  void Enqueue(FakeResponse r) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(r));
  }
  void SetDefault(FakeResponse r) {
    std::lock_guard<std::mutex> lock(mu_);
    default_ = std::move(r);
  }
  void SetHandler(Handler h) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(h);
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t request_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  size_t connections_accepted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }
  size_t client_aborts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return aborts_;
  }
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }
  bool WaitForClientAborts(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return aborts_ >= n; });
  }

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void AcceptLoop() {
    for (;;) {
      auto w = internal::WaitFd(listen_fd_.get(), POLLIN, Clock::time_point::max(), wake_fd_.get());
      if (w == internal::WaitResult::kWoken) return;
      if (w != internal::WaitResult::kReady) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd.valid()) {
        // EAGAIN/ECONNABORTED: try again. EMFILE and friends: back off briefly.
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        continue;
      }
      int one = 1;
      ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++connections_;
      }
      cv_.notify_all();
      ReapFinished();
      auto conn = std::make_unique<Connection>();
      Connection* raw = conn.get();
      raw->thread = std::thread([this, raw, sock = std::move(fd)]() mutable {
        Serve(std::move(sock));
        raw->done.store(true);
      });
      conns_.push_back(std::move(conn));
    }
  }

  void ReapFinished() {
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->done.load()) {
        (*it)->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Serve(UniqueFd sock) {
    boost::beast::flat_buffer buffer;
    internal::FdStream stream(sock.get(), wake_fd_.get());
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBody);
      parser.header_limit(1024 * 1024);
      stream.set_deadline(Clock::now() + kIdleTimeout);
      ErrorCode ec;
      http::read_header(stream, buffer, parser, ec);
      if (!ec && boost::beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        ec = internal::SendAll(sock.get(), "HTTP/1.1 100 Continue\r\n\r\n",
                               Clock::now() + kWriteTimeout, wake_fd_.get());
      }
      if (!ec) http::read(stream, buffer, parser, ec);
      if (ec) {
        if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message) {
          // Malformed request: answer like a strict server would.
          static constexpr std::string_view kBadRequest =
              "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
          (void)internal::SendAll(sock.get(), kBadRequest, Clock::now() + kWriteTimeout,
                                  wake_fd_.get());
          ::shutdown(sock.get(), SHUT_WR);
        }
        return;
      }
      auto& req = parser.get();
      RecordedRequest rec;
      rec.method = std::string(req.method_string());
      rec.target = std::string(req.target());
      for (const auto& field : req) {
        std::string name = internal::AsciiLower(field.name_string());
        auto [it, inserted] = rec.headers.emplace(name, std::string(field.value()));
        if (!inserted) it->second += ", " + std::string(field.value());
      }
      rec.body = std::move(req.body());
      const bool is_head = req.method() == http::verb::head;
      const bool client_keep_alive = req.keep_alive();

      FakeResponse response = NextResponse(std::move(rec));
      Outcome outcome = Respond(sock, response, is_head, client_keep_alive);
      if (outcome == Outcome::kAborted) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++aborts_;
        }
        cv_.notify_all();
      }
      if (outcome != Outcome::kKeepOpen) return;
    }
  }

  // Records the request and picks its response (script, then handler, then default).
  FakeResponse NextResponse(RecordedRequest rec) {
    Handler handler;
    std::optional<FakeResponse> picked;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rec);
      if (!script_.empty()) {
        picked = std::move(script_.front());
        script_.pop_front();
      } else if (handler_) {
        handler = handler_;
      } else {
        picked = default_;
      }
    }
    cv_.notify_all();
    if (picked) return std::move(*picked);
    return handler(rec);
  }

  // Maps a write error: the client going away is an abort, shutdown is not.
  static Outcome WriteFailure(const ErrorCode& ec) {
    if (ec == boost::asio::error::operation_aborted) return Outcome::kStopping;
    if (ec == boost::asio::error::timed_out) return Outcome::kClose;
    return Outcome::kAborted;
  }
  static Outcome WatchFailure(Watch w) {
    return w == Watch::kStopping ? Outcome::kStopping : Outcome::kAborted;
  }

  Outcome Respond(UniqueFd& sock, const FakeResponse& r, bool is_head, bool client_keep_alive) {
    const int fd = sock.get();
    const int wake = wake_fd_.get();
    if (r.close_without_response) return Outcome::kClose;

    if (r.head_delay.count() > 0) {
      Watch w = SleepWatchingPeer(fd, r.head_delay, wake);
      if (w != Watch::kElapsed) return WatchFailure(w);
    }

    const bool chunked = !r.chunks.empty();
    const bool status_forbids_body =
        (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304;
    const bool send_body = !is_head && !status_forbids_body;
    const bool keep = r.keep_alive && client_keep_alive;

    std::string head =
        "HTTP/1.1 " + std::to_string(r.status) + " " + ReasonPhrase(r.status) + "\r\n";
    bool has_length = false;
    bool has_encoding = false;
    for (const auto& [name, value] : r.headers) {
      std::string lower = internal::AsciiLower(name);
      has_length = has_length || lower == "content-length";
      has_encoding = has_encoding || lower == "transfer-encoding";
      head += name + ": " + value + "\r\n";
    }
    if (!status_forbids_body && !has_length && !has_encoding) {
      head += chunked ? "transfer-encoding: chunked\r\n"
                      : "content-length: " + std::to_string(r.body.size()) + "\r\n";
    }
    if (!keep) head += "connection: close\r\n";
    head += "\r\n";

    if (!send_body) {
      ErrorCode ec = internal::SendAll(fd, head, Clock::now() + kWriteTimeout, wake);
      if (ec) return WriteFailure(ec);
      return Finish(sock, keep);
    }

    if (!chunked) {
      if (r.body_byte_delay.count() <= 0) {
        ErrorCode ec = internal::SendAll(fd, head + r.body, Clock::now() + kWriteTimeout, wake);
        if (ec) return WriteFailure(ec);
        return Finish(sock, keep);
      }
      ErrorCode ec = internal::SendAll(fd, head, Clock::now() + kWriteTimeout, wake);
      if (ec) return WriteFailure(ec);
      for (char c : r.body) {
        Watch w = SleepWatchingPeer(fd, r.body_byte_delay, wake);
        if (w != Watch::kElapsed) return WatchFailure(w);
        ec = internal::SendAll(fd, std::string_view(&c, 1), Clock::now() + kWriteTimeout, wake);
        if (ec) return WriteFailure(ec);
      }
      return Finish(sock, keep);
    }

    ErrorCode ec = internal::SendAll(fd, head, Clock::now() + kWriteTimeout, wake);
    if (ec) return WriteFailure(ec);
    for (const std::string& chunk : r.chunks) {
      if (r.chunk_delay.count() > 0) {
        Watch w = SleepWatchingPeer(fd, r.chunk_delay, wake);
        if (w != Watch::kElapsed) return WatchFailure(w);
      }
      if (chunk.empty()) continue;  // an empty chunk would end the body
      ec = internal::SendAll(fd, ChunkFrame(chunk), Clock::now() + kWriteTimeout, wake);
      if (ec) return WriteFailure(ec);
    }
    if (r.reset_after_chunks) {
      linger lg{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      sock.Reset();  // close() with linger 0 sends RST
      return Outcome::kClose;
    }
    ec = internal::SendAll(fd, "0\r\n\r\n", Clock::now() + kWriteTimeout, wake);
    if (ec) return WriteFailure(ec);
    return Finish(sock, keep);
  }

  static Outcome Finish(UniqueFd& sock, bool keep) {
    if (keep) return Outcome::kKeepOpen;
    ::shutdown(sock.get(), SHUT_WR);  // FIN after the response; close() follows
    return Outcome::kClose;
  }

  core::Status status_;
  UniqueFd wake_fd_;
  UniqueFd listen_fd_;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::list<std::unique_ptr<Connection>> conns_;  // acceptor thread only, then ~Impl

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<FakeResponse> script_;
  FakeResponse default_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  size_t connections_ = 0;
  size_t aborts_ = 0;
};

FakeUpstream::FakeUpstream() : impl_(std::make_unique<Impl>()) {}
FakeUpstream::~FakeUpstream() = default;

const core::Status& FakeUpstream::status() const {
  return impl_->status();
}
uint16_t FakeUpstream::port() const {
  return impl_->port();
}
std::string FakeUpstream::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port());
}
void FakeUpstream::Enqueue(FakeResponse r) {
  impl_->Enqueue(std::move(r));
}
void FakeUpstream::SetDefault(FakeResponse r) {
  impl_->SetDefault(std::move(r));
}
void FakeUpstream::SetHandler(Handler h) {
  impl_->SetHandler(std::move(h));
}
std::vector<RecordedRequest> FakeUpstream::requests() const {
  return impl_->requests();
}
size_t FakeUpstream::request_count() const {
  return impl_->request_count();
}
bool FakeUpstream::WaitForRequests(size_t n, std::chrono::milliseconds timeout) const {
  return impl_->WaitForRequests(n, timeout);
}
size_t FakeUpstream::connections_accepted() const {
  return impl_->connections_accepted();
}
size_t FakeUpstream::client_aborts() const {
  return impl_->client_aborts();
}
bool FakeUpstream::WaitForClientAborts(size_t n, std::chrono::milliseconds timeout) const {
  return impl_->WaitForClientAborts(n, timeout);
}

}  // namespace switchyard::testing
