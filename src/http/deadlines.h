// Deadlines: coarse per-event-loop timeouts without an asio timer per request.
//
// A Deadline is an intrusive node embedded in its owner (a server connection,
// an upstream connection). Arming, re-arming and disarming it links or unlinks
// it in a hashed timing wheel: O(1), no allocation, and, except as below, no
// system call or asio timer operation. ONE asio steady timer per event loop wakes the loop at the
// next tick (a multiple of kGranularity) that may hold a due deadline; each
// wake-up runs the action of every deadline whose time has passed and marks it
// expired(), so the code that waited can tell a timeout from another failure.
//
// When to wake: after a tick, the next kNearTicks slots are looked at; the
// first that holds a deadline due in its tick (not a later turn's) is the next
// wake-up (a busy loop: every tick or every few). When none does, the loop sleeps until the
// earliest armed deadline (found by a walk over the armed ones, only in that case): a loop holding
// only idle keep-alive connections wakes when the first of them is due, not 40 times a second.
// Arming a deadline earlier than the wake-up the timer waits for moves the timer (one timer
// update); arming a later one, or disarming, does not touch it; after the last one is disarmed the
// timer wakes once more, at the next tick, and stops (nothing armed: no pending wait, no wake-up).
//
// Granularity: 25 ms. A deadline fires at the first tick at or after its time
// (never early), so up to 25 ms late plus the loop's latency. Every timeout
// Switchyard sets is 100 ms (tests) to minutes (configuration): 25 ms late is
// at most a quarter of the shortest one, and 40 wake-ups a second per busy loop
// cost nothing next to thousands of requests a second. A coarser tick would
// make the 100 ms test timeouts fire up to half their length late; a finer one
// wakes the loop more often for no user-visible gain.
//
// One instance per io_context, shared by everything on the loop (the HTTP
// server and the upstream client alike): Deadlines::Of(ctx) creates it on
// first use as an asio service, so it lives exactly as long as the context and
// outlives every coroutine frame the context destroys at shutdown.
//
// Threading: single-threaded per loop. Deadlines and the Deadline objects armed
// on it must only be used on the loop's thread (or while the loop is not
// running). Ownership: a Deadline does not own what its action touches; the
// owner embeds the Deadline next to that state (e.g. the socket), so the action
// can never outlive it: destroying an armed Deadline disarms it. An action runs
// on the loop inside the tick; it may disarm or re-arm any deadline (its own
// included) and destroy its own deadline's owner. It must not destroy the
// Deadlines (the io_context). No errors: nothing here fails.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "http/asio.h"

namespace switchyard::http {

class Deadlines;

namespace deadlines_internal {
struct Node {
  Node* prev = this;
  Node* next = this;
  bool linked() const { return next != this; }
  void Unlink() {
    prev->next = next;
    next->prev = prev;
    prev = next = this;
  }
  void PushBack(Node& list) {  // this becomes the last node before `list`'s sentinel
    prev = list.prev;
    next = &list;
    list.prev->next = this;
    list.prev = this;
  }
};
}  // namespace deadlines_internal

class Deadline : private deadlines_internal::Node {
 public:
  using Clock = std::chrono::steady_clock;
  // Runs when the deadline passes while armed; `arg` is what Arm was given.
  using Action = void (*)(void* arg);

  explicit Deadline(Deadlines& deadlines) : deadlines_(deadlines) {}
  ~Deadline() { Disarm(); }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Arms (or moves, if armed) the deadline to `at`; a time already past fires
  // at the next tick. Clears expired().
  void ArmAt(Clock::time_point at, Action action, void* arg);
  void ArmAfter(Clock::duration timeout, Action action, void* arg) {
    ArmAt(Clock::now() + timeout, action, arg);
  }
  // Nothing runs for this arming any more. Keeps expired() as it was.
  void Disarm();

  bool armed() const { return linked(); }
  // The last arming ran its action (until the next Arm).
  bool expired() const { return expired_; }

 private:
  friend class Deadlines;
  Deadlines& deadlines_;
  int64_t tick_ = 0;  // fires at the first tick >= this
  Action action_ = nullptr;
  void* arg_ = nullptr;
  bool expired_ = false;
};

// Ready-made actions; `socket` is a Socket*. Cancel keeps the connection usable
// (e.g. for a 408 answer); Close is what beast's stream timeouts did.
void CancelSocketOps(void* socket);
void CloseSocket(void* socket);

class Deadlines : public asio::io_context::service {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kGranularity = std::chrono::milliseconds(25);
  // 256 slots of 25 ms: a turn of 6.4 s. A deadline further away stays in its
  // slot and is passed over (one comparison) once per turn until its turn.
  static constexpr size_t kSlots = 256;
  // After a tick, this many following slots are looked at for the next
  // wake-up before the walk over every armed deadline (10 of 25 ms: 0.25 s).
  static constexpr int64_t kNearTicks = 10;

  // The loop's instance (created on first use; later calls look it up, which
  // takes the context's service lock: call once and keep the reference).
  static Deadlines& Of(asio::io_context& ctx) { return asio::use_service<Deadlines>(ctx); }

  // Runs the actions of the armed deadlines due at `now` (the tick's work;
  // tests call it with a chosen time). Loop thread only.
  void Expire(Clock::time_point now);

  size_t armed() const { return armed_; }
  bool ticking() const { return ticking_; }
  // The time the timer waits for (when ticking()).
  Clock::time_point next_wake() const { return epoch_ + wake_tick_ * kGranularity; }
  // Times the timer has woken the loop (ticks run), for tests and diagnostics.
  uint64_t wakeups() const { return wakeups_; }

  // For asio (use_service): the service's key and constructor. (asio names
  // the key `id`; its constructor is empty, though not declared noexcept.)
  // NOLINTNEXTLINE(readability-identifier-naming,cert-err58-cpp)
  static inline asio::execution_context::id id;
  explicit Deadlines(asio::io_context& ctx);
  ~Deadlines() override;

 private:
  friend class Deadline;
  using Node = deadlines_internal::Node;

  void shutdown() override;  // asio: the context is going away
  int64_t TickOf(Clock::time_point t) const { return (t - epoch_) / kGranularity; }
  void Link(Deadline& d, Clock::time_point at);
  // `moving`: ArmAt relinks it at once (the last-disarm rule does not apply).
  void Unlink(Deadline& d, bool moving = false);
  // (Re)starts the timer's wait for `tick`; a wait already pending is
  // cancelled and its handler ignored.
  void StartTimer(int64_t tick);
  void StopTimer();
  void OnTick(const boost::system::error_code& ec, uint64_t wait);
  // The next tick after `after` that may hold a due deadline (armed_ != 0).
  int64_t NextWakeTick(int64_t after) const;

  Clock::time_point epoch_;
  int64_t last_tick_ = 0;  // every slot up to this tick has been processed
  size_t armed_ = 0;
  bool ticking_ = false;   // the timer's wait is pending
  int64_t wake_tick_ = 0;  // the tick that wait is for
  uint64_t wait_ = 0;      // which wait is the current one (older handlers do nothing)
  uint64_t wakeups_ = 0;
  bool shut_down_ = false;
  std::optional<SteadyTimer> timer_;
  std::array<Node, kSlots> slots_;
};

inline void Deadline::Disarm() {
  if (linked()) deadlines_.Unlink(*this);
}

}  // namespace switchyard::http
