// CancelToken: a one-shot signal used to abandon upstream work when the client
// that asked for it has gone away. Single-threaded: create, register, fire and
// destroy on the same event loop (all of a request's work runs on one loop).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <vector>

namespace switchyard::http {

class CancelToken {
 public:
  using Callback = std::function<void()>;

  bool cancelled() const { return cancelled_; }

  // Fires every registered callback once, in the order registered; later
  // registrations fire at once.
  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    // Taken out first: a callback may register or unregister.
    auto first = std::move(first_);
    auto more = std::move(more_);
    for (size_t i = 0; i < std::min(count_, kInline); ++i) {
      if (first[i]) first[i]();
    }
    for (auto& cb : more) {
      if (cb) cb();
    }
  }

  // Returns a handle to pass to Unregister when the work finished first.
  size_t Register(Callback cb) {
    if (cancelled_) {
      cb();
      return kNone;
    }
    const size_t handle = count_++;
    if (handle < kInline) {
      first_[handle] = std::move(cb);
    } else {
      more_.push_back(std::move(cb));
    }
    return handle;
  }
  void Unregister(size_t handle) {
    if (handle < kInline) {
      if (handle < count_) first_[handle] = nullptr;
    } else if (handle != kNone && handle - kInline < more_.size()) {
      more_[handle - kInline] = nullptr;
    }
  }

  static constexpr size_t kNone = static_cast<size_t>(-1);

 private:
  // A request registers one or two callbacks (the upstream attempt in
  // progress): those are kept inline, with no allocation per request.
  static constexpr size_t kInline = 2;
  bool cancelled_ = false;
  size_t count_ = 0;
  std::array<Callback, kInline> first_;
  std::vector<Callback> more_;
};

}  // namespace switchyard::http
