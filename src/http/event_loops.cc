#include "http/event_loops.h"

namespace switchyard::http {

EventLoops::EventLoops(int count) {
  if (count < 1) count = 1;
  for (int i = 0; i < count; ++i) {
    // concurrency_hint 1: each context is only ever run by one thread.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
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
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] { c->run(); });
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
