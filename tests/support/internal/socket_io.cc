#include "support/internal/socket_io.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace switchyard::testing::internal {

namespace {

ErrorCode ErrnoCode(int err) {
  return ErrorCode(err, boost::system::system_category());
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int PollTimeoutMs(Clock::time_point deadline) {
  if (deadline == Clock::time_point::max()) return -1;
  auto now = Clock::now();
  if (deadline <= now) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

Clock::time_point DeadlineAfter(std::chrono::milliseconds timeout) {
  auto now = Clock::now();
  if (timeout >=
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now)) {
    return Clock::time_point::max();
  }
  return now + timeout;
}

WaitResult WaitFd(int fd, short events, Clock::time_point deadline, int wake_fd) {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int rc = ::poll(fds, wake_fd >= 0 ? 2 : 1, PollTimeoutMs(deadline));
    if (rc < 0) {
      if (errno == EINTR) continue;
      return WaitResult::kError;
    }
    if (wake_fd >= 0 && fds[1].revents != 0) return WaitResult::kWoken;
    if (fds[0].revents != 0) return WaitResult::kReady;
    if (rc == 0 && PollTimeoutMs(deadline) == 0) return WaitResult::kTimeout;
  }
}

namespace {

// Maps a non-ready wait into an error code; returns false when ready.
bool WaitFailed(WaitResult w, ErrorCode& ec) {
  switch (w) {
    case WaitResult::kReady:
      return false;
    case WaitResult::kTimeout:
      ec = boost::asio::error::timed_out;
      return true;
    case WaitResult::kWoken:
      ec = boost::asio::error::operation_aborted;
      return true;
    case WaitResult::kError:
      ec = ErrnoCode(errno);
      return true;
  }
  return false;
}

}  // namespace

ErrorCode SendAll(int fd, std::string_view data, Clock::time_point deadline, int wake_fd) {
  ErrorCode ec;
  while (!data.empty()) {
    if (WaitFailed(WaitFd(fd, POLLOUT, deadline, wake_fd), ec)) return ec;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return ErrnoCode(errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return ec;
}

std::size_t RecvSome(int fd, void* data, std::size_t size, Clock::time_point deadline, int wake_fd,
                     ErrorCode& ec) {
  ec = {};
  for (;;) {
    if (WaitFailed(WaitFd(fd, POLLIN, deadline, wake_fd), ec)) return 0;
    ssize_t n = ::recv(fd, data, size, MSG_DONTWAIT);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
      ec = boost::asio::error::eof;
      return 0;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    ec = ErrnoCode(errno);
    return 0;
  }
}

UniqueFd ConnectLoopback(std::uint16_t port, Clock::time_point deadline, ErrorCode& ec) {
  ec = {};
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    ec = ErrnoCode(errno);
    return {};
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    return fd;
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    ec = ErrnoCode(errno);
    return {};
  }
  if (WaitFailed(WaitFd(fd.get(), POLLOUT, deadline, -1), ec)) return {};
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    ec = ErrnoCode(err);
    return {};
  }
  return fd;
}

std::size_t FdStream::WriteSome(const void* data, std::size_t size, ErrorCode& ec) {
  for (;;) {
    if (WaitFailed(WaitFd(fd_, POLLOUT, deadline_, wake_fd_), ec)) return 0;
    ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    ec = ErrnoCode(errno);
    return 0;
  }
}

}  // namespace switchyard::testing::internal
