#include "http/deadlines.h"

namespace switchyard::http {

void CancelSocketOps(void* socket) {
  boost::system::error_code ignored;
  static_cast<Socket*>(socket)->cancel(ignored);
}

void CloseSocket(void* socket) {
  boost::system::error_code ignored;
  static_cast<Socket*>(socket)->close(ignored);
}

void Deadline::ArmAt(Clock::time_point at, Action action, void* arg) {
  if (linked()) deadlines_.Unlink(*this);
  action_ = action;
  arg_ = arg;
  expired_ = false;
  deadlines_.Link(*this, at);
}

Deadlines::Deadlines(asio::io_context& ctx) : asio::io_context::service(ctx), epoch_(Clock::now()) {
  timer_.emplace(ctx.get_executor());
}

Deadlines::~Deadlines() = default;

void Deadlines::shutdown() {
  // The timer goes while the timer service still exists; frames destroyed
  // later in the context's shutdown may still disarm (plain list unlinks).
  shut_down_ = true;
  ticking_ = false;
  timer_.reset();
}

void Deadlines::Link(Deadline& d, Clock::time_point at) {
  if (!ticking_) {
    // Nothing armed since the last tick (or ever): no slot holds anything due
    // before now, so processing may resume from the current tick.
    const int64_t now_tick = TickOf(Clock::now());
    if (now_tick > last_tick_) last_tick_ = now_tick;
    StartTimer(last_tick_ + 1);
  }
  // Rounded up: fires at the first tick at or after `at`, never before.
  const auto since_epoch = at - epoch_;
  int64_t tick = since_epoch <= Clock::duration::zero()
                     ? 0
                     : (since_epoch + kGranularity - Clock::duration(1)) / kGranularity;
  if (tick <= last_tick_) tick = last_tick_ + 1;  // past, or in an already processed slot
  d.tick_ = tick;
  d.PushBack(slots_[static_cast<size_t>(tick) % kSlots]);
  ++armed_;
}

void Deadlines::Unlink(Deadline& d) {
  d.Node::Unlink();
  --armed_;
}

void Deadlines::StartTimer(int64_t tick) {
  if (shut_down_) return;
  ticking_ = true;
  timer_->expires_at(epoch_ + tick * kGranularity);
  // The service lives as long as the context, which is the only place the
  // handler can run: `this` is safe. After shutdown() the handler is
  // destroyed unrun (or runs with operation_aborted if the timer went first).
  timer_->async_wait([this](const boost::system::error_code& ec) { OnTick(ec); });
}

void Deadlines::OnTick(const boost::system::error_code& ec) {
  if (ec || shut_down_) return;  // operation_aborted: the timer is gone
  ticking_ = false;
  const int64_t now_tick = TickOf(Clock::now());
  Expire(epoch_ + now_tick * kGranularity);
  if (armed_ != 0 && !ticking_) StartTimer(std::max(now_tick, last_tick_) + 1);
}

void Deadlines::Expire(Clock::time_point now) {
  const int64_t now_tick = TickOf(now);
  if (now_tick <= last_tick_) return;
  const int64_t from = last_tick_ + 1;
  // First: deadlines armed by the actions below go after this tick.
  last_tick_ = now_tick;
  const int64_t count = std::min<int64_t>(now_tick - from + 1, static_cast<int64_t>(kSlots));
  for (int64_t t = from; t < from + count && armed_ != 0; ++t) {
    Node& slot = slots_[static_cast<size_t>(t) % kSlots];
    if (!slot.linked()) continue;
    // Move the slot's nodes to a local list and take them one at a time: an
    // action may disarm (unlink) any node, re-arm its own or arm new ones
    // (into the slot list, not this one).
    Node pending;
    pending.next = slot.next;
    pending.prev = slot.prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    slot.next = slot.prev = &slot;
    while (pending.linked()) {
      auto& d = static_cast<Deadline&>(*pending.next);
      d.Node::Unlink();
      if (d.tick_ > now_tick) {  // a later turn of the wheel
        d.PushBack(slot);
        continue;
      }
      --armed_;
      d.expired_ = true;
      // Last use of `d`: the action may destroy it (and its owner).
      d.action_(d.arg_);
    }
  }
}

}  // namespace switchyard::http
