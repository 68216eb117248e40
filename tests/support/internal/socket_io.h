// Deadline-aware blocking socket helpers shared by the test-support library.
//
// Not part of the contract of tests/support: the fake upstream, the test HTTP
// client and the process helpers use these. Every wait takes an absolute
// deadline and an optional "wake" descriptor (an eventfd that becomes readable
// when the owner shuts down), so no call can hang forever.
//
// Thread-safety: UniqueFd and FdStream are not synchronised; use one per thread.
// The free functions are thread-safe.
#pragma once

#include <utility>  // must precede Asio headers with Boost 1.74

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::testing::internal {

using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// Owns a file descriptor and closes it on destruction. Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1);
  // Gives up ownership: returns the descriptor, which the caller must close.
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// ASCII lower-casing, for header names.
std::string AsciiLower(std::string_view s);

// Milliseconds until `deadline` for poll(): -1 for "never", 0 when passed.
int PollTimeoutMs(Clock::time_point deadline);

// Deadline for a relative timeout, saturating instead of overflowing.
Clock::time_point DeadlineAfter(std::chrono::milliseconds timeout);

enum class WaitResult { kReady, kTimeout, kWoken, kError };

// Waits until `fd` reports one of `events` (or HUP/ERR), the deadline passes or
// `wake_fd` (ignored when < 0) becomes readable.
WaitResult WaitFd(int fd, short events, Clock::time_point deadline, int wake_fd);

// Sends all of `data`. Errors: asio::error::timed_out at the deadline,
// asio::error::operation_aborted when woken, or the errno of send() (EPIPE,
// ECONNRESET...). The descriptor may be blocking or not.
ErrorCode SendAll(int fd, std::string_view data, Clock::time_point deadline, int wake_fd);

// Receives up to `size` bytes once data is available. Returns 0 with
// asio::error::eof when the peer closed; other errors as for SendAll.
std::size_t RecvSome(int fd, void* data, std::size_t size, Clock::time_point deadline, int wake_fd,
                     ErrorCode& ec);

// Connects a non-blocking TCP socket to 127.0.0.1:port (TCP_NODELAY set).
// Errors: timed_out, or the errno of connect() (e.g. connection_refused).
UniqueFd ConnectLoopback(std::uint16_t port, Clock::time_point deadline, ErrorCode& ec);

// A Beast SyncReadStream/SyncWriteStream over a socket descriptor it does not
// own, where every operation honours a deadline and a wake descriptor.
class FdStream {
 public:
  FdStream(int fd, int wake_fd) : fd_(fd), wake_fd_(wake_fd) {}

  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  int fd() const { return fd_; }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, ErrorCode& ec) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b = *it;
      if (b.size() != 0) return RecvSome(fd_, b.data(), b.size(), deadline_, wake_fd_, ec);
    }
    return 0;
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    ErrorCode ec;
    std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);  // only for the concept; never used
    return n;
  }

  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, ErrorCode& ec) {
    ec = {};
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::const_buffer b = *it;
      if (b.size() != 0) return WriteSome(b.data(), b.size(), ec);
    }
    return 0;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    ErrorCode ec;
    std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);  // only for the concept; never used
    return n;
  }

 private:
  std::size_t WriteSome(const void* data, std::size_t size, ErrorCode& ec);

  int fd_;
  int wake_fd_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace switchyard::testing::internal
