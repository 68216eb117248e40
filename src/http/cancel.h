// CancelToken: a one-shot signal used to abandon upstream work when the client
// that asked for it has gone away. Single-threaded: create, register, fire and
// destroy on the same event loop (all of a request's work runs on one loop).
#pragma once

#include <functional>
#include <vector>

namespace switchyard::http {

class CancelToken {
 public:
  using Callback = std::function<void()>;

  bool cancelled() const { return cancelled_; }

  // Fires every registered callback once; later registrations fire at once.
  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    auto callbacks = std::move(callbacks_);
    for (auto& cb : callbacks) {
      if (cb) cb();
    }
  }

  // Returns a handle to pass to Unregister when the work finished first.
  size_t Register(Callback cb) {
    if (cancelled_) {
      cb();
      return kNone;
    }
    callbacks_.push_back(std::move(cb));
    return callbacks_.size() - 1;
  }
  void Unregister(size_t handle) {
    if (handle < callbacks_.size()) callbacks_[handle] = nullptr;
  }

  static constexpr size_t kNone = static_cast<size_t>(-1);

 private:
  bool cancelled_ = false;
  std::vector<Callback> callbacks_;
};

}  // namespace switchyard::http
