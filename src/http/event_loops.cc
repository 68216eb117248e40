#include "http/event_loops.h"

#include <string>

#include "core/thread_name.h"

namespace switchyard::http {

EventLoops::EventLoops(int count) {
  if (count < 1) count = 1;
  for (int i = 0; i < count; ++i) {
    // Each context is only ever run by one thread, and every socket of a loop
    // is only touched from that thread (the owning thread opens acceptors
    // before the loops run and destroys sockets after they stopped; other
    // threads only post()). So the reactor needs no per-descriptor mutex:
    // UNSAFE_IO drops it, keeps the scheduler's and registration locks (posts
    // from other threads), and implies the single-thread scheduler of hint 1.
    contexts_.push_back(std::make_unique<asio::io_context>(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO));
  }
}

EventLoops::~EventLoops() {
  Stop();
}

void EventLoops::Start() {
  for (auto& ctx : contexts_) {
    guards_.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        ctx->get_executor()));
  }
  for (size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([c = contexts_[i].get(), i] {
      core::NameThisThread("sy-loop-" + std::to_string(i));
      c->run();
    });
  }
}

void EventLoops::Stop() {
  guards_.clear();
  for (auto& ctx : contexts_) ctx->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace switchyard::http
