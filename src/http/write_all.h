// WriteAll: writes a buffer sequence to a plain TCP socket, at once when the
// socket takes it.
//
// asio::async_write also tries the send straight away, but even when the send
// took every byte its completion goes through the event loop's queue: a trip
// through the scheduler (and a chance for it to poll epoll) per write, two per
// proxied request. Here one sendmsg(MSG_DONTWAIT) goes first; only the bytes it
// could not send (a full send buffer: a slow reader) are left to async_write.
// Errors are the system's (broken_pipe, connection_reset, ...), as async_write's.
// `before_wait` runs only when the write has to wait (to arm a write deadline
// then, not for the sends that cannot block).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstddef>

#include "http/asio.h"

namespace switchyard::http {

inline void NoWaitAction() {}

template <class Buffers, class BeforeWait = void (*)()>
awaitable<void> WriteAll(Socket& socket, const Buffers& buffers, boost::system::error_code& ec,
                         BeforeWait before_wait = NoWaitAction) {
  constexpr size_t kMaxBuffers = 8;
  ec = {};
  std::array<iovec, kMaxBuffers> iov{};
  size_t count = 0;
  size_t total = 0;
  for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
       ++it) {
    const asio::const_buffer b(*it);
    if (b.size() == 0) continue;
    if (count == kMaxBuffers) {  // more pieces than one call takes: all through asio
      before_wait();
      co_await asio::async_write(socket, buffers, Redirect(ec));
      co_return;
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): iovec's pointer is not const
    iov[count].iov_base = const_cast<void*>(b.data());
    iov[count].iov_len = b.size();
    ++count;
    total += b.size();
  }
  if (total == 0) co_return;
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = count;
  ssize_t sent = -1;
  do {
    sent = ::sendmsg(socket.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      ec.assign(errno, boost::system::system_category());
      co_return;
    }
    sent = 0;
  }
  if (static_cast<size_t>(sent) == total) co_return;
  // The rest, from the first byte not sent.
  beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(static_cast<size_t>(sent));
  before_wait();
  co_await asio::async_write(socket, rest, Redirect(ec));
}

}  // namespace switchyard::http
