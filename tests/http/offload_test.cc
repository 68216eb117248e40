// RunOnPool: the work runs on a pool thread, the coroutine resumes on its loop.
#include "http/offload.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace switchyard::http {
namespace {

TEST(RunOnPoolTest, WorkRunsOnThePoolAndTheCoroutineResumesOnItsLoop) {
  asio::io_context loop;
  asio::thread_pool pool(1);
  std::thread::id loop_thread, work_thread, resumed_thread;
  std::string result;
  asio::co_spawn(
      loop.get_executor(),
      [&]() -> awaitable<void> {
        loop_thread = std::this_thread::get_id();
        result = co_await RunOnPool(pool, [&] {
          work_thread = std::this_thread::get_id();
          return std::string("answer from the pool");
        });
        resumed_thread = std::this_thread::get_id();
      },
      asio::detached);
  loop.run();  // returns once the coroutine has finished
  pool.join();
  EXPECT_EQ(result, "answer from the pool");
  EXPECT_NE(work_thread, loop_thread);
  EXPECT_EQ(resumed_thread, loop_thread);
}

}  // namespace
}  // namespace switchyard::http
