#include "http/deadlines.h"

#include <algorithm>
#include <limits>

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
  // Moved, not disarmed: the timer is left as it is (Link moves it if `at` is
  // earlier than its wake-up).
  if (linked()) deadlines_.Unlink(*this, /*moving=*/true);
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
  if (armed_ == 0) {
    // Every slot is empty: processing may resume from the current tick. (Not
    // when merely !ticking_: inside a tick's Expire() the slots after the one
    // being processed still hold deadlines, and skipping ahead would pass
    // over them for a whole turn.)
    const int64_t now_tick = TickOf(Clock::now());
    if (now_tick > last_tick_) last_tick_ = now_tick;
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
  // Under load the timer already waits for a tick at or before this one: no
  // timer operation.
  if (!ticking_ || tick < wake_tick_) StartTimer(tick);
}

void Deadlines::Unlink(Deadline& d, bool moving) {
  d.Node::Unlink();
  if (--armed_ == 0 && ticking_ && !moving) {
    // Nothing armed: the timer ends at the next tick (which finds nothing and
    // stops it) rather than at a far one, so io_context::run() returns. Not
    // stopped here: a loop whose deadlines come and go (one connection: its
    // read deadline disarmed before the next is armed) would restart the
    // timer, a timerfd_settime, every time; a near wake-up stays as it is.
    const int64_t next = std::max(last_tick_, TickOf(Clock::now())) + 1;
    if (wake_tick_ > next) StartTimer(next);
  }
}

void Deadlines::StopTimer() {
  // Nothing armed: the loop has no reason to wake up (and io_context::run()
  // may return). The handler, aborted or already fired, is ignored.
  ticking_ = false;
  ++wait_;
  if (!shut_down_) timer_->cancel();
}

void Deadlines::StartTimer(int64_t tick) {
  if (shut_down_) return;
  ticking_ = true;
  wake_tick_ = tick;
  const uint64_t wait = ++wait_;
  // Cancels a pending wait (its handler runs with operation_aborted, or, if
  // it had already fired, with success but an old `wait`: ignored either way).
  timer_->expires_at(epoch_ + tick * kGranularity);
  // The service lives as long as the context, which is the only place the
  // handler can run: `this` is safe. After shutdown() the handler is
  // destroyed unrun (or runs with operation_aborted if the timer went first).
  timer_->async_wait([this, wait](const boost::system::error_code& ec) { OnTick(ec, wait); });
}

void Deadlines::OnTick(const boost::system::error_code& ec, uint64_t wait) {
  if (ec || shut_down_ || wait != wait_) return;  // the timer is gone, or a newer wait runs
  ticking_ = false;
  ++wakeups_;
  const int64_t now_tick = TickOf(Clock::now());
  Expire(epoch_ + now_tick * kGranularity);
  if (armed_ == 0) return;
  // Actions may have armed deadlines (and started the timer) in Expire.
  const int64_t next = NextWakeTick(std::max(now_tick, last_tick_));
  if (!ticking_ || next < wake_tick_) StartTimer(next);
}

int64_t Deadlines::NextWakeTick(int64_t after) const {
  // A busy loop: a deadline due in one of the next few ticks (a slot's other
  // nodes are later turns' deadlines: idle connections' minute-long ones).
  for (int64_t t = after + 1; t <= after + kNearTicks; ++t) {
    const Node& slot = slots_[static_cast<size_t>(t) % kSlots];
    for (const Node* n = slot.next; n != &slot; n = n->next) {
      if (static_cast<const Deadline*>(n)->tick_ <= t) return t;
    }
  }
  // A quiet one: the earliest armed deadline, however far.
  int64_t earliest = std::numeric_limits<int64_t>::max();
  for (const Node& slot : slots_) {
    for (const Node* n = slot.next; n != &slot; n = n->next) {
      earliest = std::min(earliest, static_cast<const Deadline*>(n)->tick_);
    }
  }
  return std::max(earliest, after + 1);
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
  if (armed_ == 0 && ticking_) StopTimer();  // (a pass not run by the timer: tests)
}

}  // namespace switchyard::http
