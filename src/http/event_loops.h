// EventLoops: N single-threaded io_contexts, one thread each.
//
// Each loop owns its connections end to end (accepted client connection, the
// request's coroutine, its pooled upstream connections), so request handling
// needs no locks. Thread-safe: Post() and Stop() may be called from any thread.
// The contexts run with BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO (no reactor
// mutex per socket): a loop's sockets and timers may only be used on that
// loop's thread (or before Start() / after Stop()); other threads post to it.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "http/asio.h"

namespace switchyard::http {

class EventLoops {
 public:
  explicit EventLoops(int count);
  ~EventLoops();
  EventLoops(const EventLoops&) = delete;
  EventLoops& operator=(const EventLoops&) = delete;

  size_t size() const { return contexts_.size(); }
  asio::io_context& context(size_t i) { return *contexts_[i]; }

  // Starts one thread per loop. Loops keep running until Stop().
  void Start();
  // Stops every loop (pending handlers are abandoned) and joins the threads.
  void Stop();

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>>> guards_;
  std::vector<std::thread> threads_;
};

}  // namespace switchyard::http
