#include "core/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace switchyard::core {
namespace {

std::string NameOf(std::thread& t) {
  char buf[64] = {};
  pthread_getname_np(t.native_handle(), buf, sizeof buf);
  return buf;
}

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsAtTheKernelsLimit) {
  for (const auto& [given, shown] : {std::pair<std::string, std::string>{"sy-loop-0", "sy-loop-0"},
                                     {"sy-a-name-longer-than-fifteen", "sy-a-name-longe"},
                                     {"", ""}}) {
    bool named = false;
    std::thread t;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    t = std::thread([&] {
      NameThisThread(given);
      std::unique_lock lock(mu);
      named = true;
      cv.notify_all();
      cv.wait(lock, [&] { return done; });
    });
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return named; });
    }
    EXPECT_EQ(NameOf(t), shown) << given;
    {
      std::lock_guard lock(mu);
      done = true;
    }
    cv.notify_all();
    t.join();
  }
}

}  // namespace
}  // namespace switchyard::core
