// The one place that includes Boost.Asio/Beast. Boost 1.74's awaitable.hpp uses
// std::exchange without including <utility>, so <utility> must come first.
#pragma once

// clang-format off
#include <utility>
#include <memory_resource>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
// clang-format on

namespace switchyard::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// Every coroutine, socket and timer runs on an event loop's io_context, so
// they name its executor type instead of asio's type-erased any_io_executor:
// no function-pointer dispatch and no erased copies on each async operation.
using Executor = asio::io_context::executor_type;
template <typename T>
using awaitable = asio::awaitable<T, Executor>;
// NOLINTNEXTLINE(readability-identifier-naming): same name as the asio::use_awaitable it stands for
inline constexpr asio::use_awaitable_t<Executor> use_awaitable{};
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using SteadyTimer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>;

// Header fields of a parsed message, allocated from an arena (a buffer reused
// message after message) instead of one heap allocation per field.
using FieldsAllocator = std::pmr::polymorphic_allocator<char>;
using ArenaFields = bhttp::basic_fields<FieldsAllocator>;

// Completion token that stores the error instead of throwing it.
inline auto Redirect(boost::system::error_code& ec) {
  return asio::redirect_error(use_awaitable, ec);
}

}  // namespace switchyard::http
