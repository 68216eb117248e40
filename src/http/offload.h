// RunOnPool: run blocking work (a database read) on a thread pool from an
// event-loop coroutine, and resume on the loop with the result.
//
// `co_await asio::post(pool, use_awaitable)` does not do this: an awaitable
// always resumes on its own executor, so the work after it would still run
// on (and block) the event loop.
#pragma once

#include <type_traits>
#include <utility>

#include "http/asio.h"

namespace switchyard::http {

// Calls fn() on a thread of `pool`; the calling coroutine resumes on its event
// loop with fn's result. fn must not throw (errors are values) and must not
// touch loop-owned state. The pool must outlive the call. If the pool is
// stopped before fn runs, the coroutine never resumes (pools are stopped only
// at shutdown, after the loops).
template <typename Fn>
awaitable<std::invoke_result_t<Fn&>> RunOnPool(asio::thread_pool& pool, Fn fn) {
  using Result = std::invoke_result_t<Fn&>;
  const Executor loop = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<Executor>&, void(Result)>(
      [&pool, loop](auto handler, Fn work) {
        // Keeps the loop's io_context running while the pool works.
        auto guard = asio::make_work_guard(loop);
        asio::post(pool, [handler = std::move(handler), work = std::move(work),
                          guard = std::move(guard)]() mutable {
          Result result = work();
          const Executor back = guard.get_executor();
          asio::post(back, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      use_awaitable, std::move(fn));
}

}  // namespace switchyard::http
