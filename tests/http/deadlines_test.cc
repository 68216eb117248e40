// http::Deadlines on a real io_context. Expiry is driven through Expire() with
// chosen times an hour ahead (the loop's own tick never reaches them), so no
// test depends on how fast the machine is; the tick itself is checked with
// deadlines already due, by running the context until it has nothing to do.
#include "http/deadlines.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Something that owns a deadline and records when its action ran.
struct Owner {
  Owner(Deadlines& d, std::vector<std::string>& log, std::string name)
      : deadline(d), log(log), name(std::move(name)) {}
  static void Fire(void* arg) {
    auto* self = static_cast<Owner*>(arg);
    self->log.push_back(self->name);
    if (self->on_fire) self->on_fire();
  }
  void ArmAt(Clock::time_point at) { deadline.ArmAt(at, Fire, this); }

  Deadline deadline;
  std::vector<std::string>& log;
  std::string name;
  std::function<void()> on_fire;
};

using Log = std::vector<std::string>;

class DeadlinesTest : public ::testing::Test {
 protected:
  asio::io_context ctx_{1};
  Deadlines& deadlines_ = Deadlines::Of(ctx_);
  const Clock::time_point base_ = Clock::now() + hours(1);
  Log log_;
};

TEST_F(DeadlinesTest, OneInstancePerContext) {
  EXPECT_EQ(&Deadlines::Of(ctx_), &deadlines_);
  asio::io_context other;
  EXPECT_NE(&Deadlines::Of(other), &deadlines_);
}

TEST_F(DeadlinesTest, FireInTimeOrderAndNeverEarly) {
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b"), c(deadlines_, log_, "c");
  a.ArmAt(base_ + milliseconds(300));
  b.ArmAt(base_ + milliseconds(100));
  c.ArmAt(base_ + milliseconds(200));
  EXPECT_EQ(deadlines_.armed(), 3u);
  deadlines_.Expire(base_ + milliseconds(100) - Clock::duration(1));
  EXPECT_EQ(log_, Log{});
  deadlines_.Expire(base_ + milliseconds(100) + Deadlines::kGranularity);
  EXPECT_EQ(log_, Log{"b"});
  EXPECT_TRUE(b.deadline.expired());
  EXPECT_FALSE(b.deadline.armed());
  EXPECT_FALSE(c.deadline.expired());
  EXPECT_TRUE(c.deadline.armed());
  deadlines_.Expire(base_ + milliseconds(300) - Clock::duration(1));
  EXPECT_EQ(log_, (Log{"b", "c"}));
  deadlines_.Expire(base_ + milliseconds(300) + Deadlines::kGranularity);
  EXPECT_EQ(log_, (Log{"b", "c", "a"}));
  EXPECT_EQ(deadlines_.armed(), 0u);
}

TEST_F(DeadlinesTest, ManyDueAtOnceFireInTimeOrderThenArmingOrder) {
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b"), c(deadlines_, log_, "c"),
      d(deadlines_, log_, "d");
  a.ArmAt(base_ + milliseconds(900));
  b.ArmAt(base_ + milliseconds(100));
  c.ArmAt(base_ + milliseconds(500));
  d.ArmAt(base_ + milliseconds(100));  // the same tick as b, armed after it
  deadlines_.Expire(base_ + seconds(1));
  EXPECT_EQ(log_, (Log{"b", "d", "c", "a"}));
}

TEST_F(DeadlinesTest, DisarmedDeadlineNeverRuns) {
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b");
  a.ArmAt(base_ + milliseconds(100));
  b.ArmAt(base_ + milliseconds(100));
  a.deadline.Disarm();
  a.deadline.Disarm();  // twice is harmless
  EXPECT_FALSE(a.deadline.armed());
  EXPECT_EQ(deadlines_.armed(), 1u);
  deadlines_.Expire(base_ + seconds(1));
  EXPECT_EQ(log_, Log{"b"});
  EXPECT_FALSE(a.deadline.expired());
}

TEST_F(DeadlinesTest, OwnerDestroyedWhileArmedNeverRuns) {
  auto a = std::make_unique<Owner>(deadlines_, log_, "a");
  Owner b(deadlines_, log_, "b");
  a->ArmAt(base_ + milliseconds(100));
  b.ArmAt(base_ + milliseconds(200));
  a.reset();
  EXPECT_EQ(deadlines_.armed(), 1u);
  deadlines_.Expire(base_ + seconds(1));
  EXPECT_EQ(log_, Log{"b"});
}

TEST_F(DeadlinesTest, ActionMayDestroyItsOwnOwner) {
  auto a = std::make_unique<Owner>(deadlines_, log_, "a");
  Owner b(deadlines_, log_, "b");
  a->on_fire = [&a] { a.reset(); };
  a->ArmAt(base_ + milliseconds(100));
  b.ArmAt(base_ + milliseconds(100));
  deadlines_.Expire(base_ + seconds(1));
  EXPECT_EQ(log_, (Log{"a", "b"}));
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(deadlines_.armed(), 0u);
}

TEST_F(DeadlinesTest, ActionMayDisarmItselfAndAnotherDueDeadline) {
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b"), c(deadlines_, log_, "c");
  a.on_fire = [&] {
    a.deadline.Disarm();  // already fired: nothing to do
    b.deadline.Disarm();  // due in this same pass: must not run
  };
  a.ArmAt(base_ + milliseconds(100));
  b.ArmAt(base_ + milliseconds(100));
  c.ArmAt(base_ + milliseconds(150));
  deadlines_.Expire(base_ + seconds(1));
  EXPECT_EQ(log_, (Log{"a", "c"}));
  EXPECT_TRUE(a.deadline.expired());
  EXPECT_FALSE(b.deadline.expired());
  EXPECT_EQ(deadlines_.armed(), 0u);
}

TEST_F(DeadlinesTest, ReArmingMovesTheDeadlineAndClearsExpired) {
  Owner a(deadlines_, log_, "a");
  a.ArmAt(base_ + milliseconds(100));
  a.ArmAt(base_ + milliseconds(500));
  EXPECT_EQ(deadlines_.armed(), 1u);
  deadlines_.Expire(base_ + milliseconds(300));
  EXPECT_EQ(log_, Log{});
  deadlines_.Expire(base_ + milliseconds(600));
  EXPECT_EQ(log_, Log{"a"});
  EXPECT_TRUE(a.deadline.expired());
  a.ArmAt(base_ + milliseconds(800));
  EXPECT_FALSE(a.deadline.expired());
  EXPECT_TRUE(a.deadline.armed());
}

TEST_F(DeadlinesTest, ActionReArmingItselfRunsAgainOnlyInALaterPass) {
  Owner a(deadlines_, log_, "a");
  int fired = 0;
  a.on_fire = [&] {
    if (++fired == 1) a.ArmAt(base_);  // already past: the next pass
  };
  a.ArmAt(base_ + milliseconds(100));
  deadlines_.Expire(base_ + seconds(1));
  EXPECT_EQ(log_, Log{"a"});
  EXPECT_TRUE(a.deadline.armed());
  deadlines_.Expire(base_ + seconds(1) + Deadlines::kGranularity);
  EXPECT_EQ(log_, (Log{"a", "a"}));
  EXPECT_FALSE(a.deadline.armed());
}

TEST_F(DeadlinesTest, ATimeAlreadyPastFiresInTheNextPass) {
  deadlines_.Expire(base_);
  Owner a(deadlines_, log_, "a");
  a.ArmAt(base_ - seconds(10));
  deadlines_.Expire(base_);  // the same tick as the last pass: nothing new is due
  EXPECT_EQ(log_, Log{});
  deadlines_.Expire(base_ + Deadlines::kGranularity);
  EXPECT_EQ(log_, Log{"a"});
}

TEST_F(DeadlinesTest, DeadlinesBeyondATurnOfTheWheelWaitForTheirTurn) {
  const auto turn = Deadlines::kGranularity * Deadlines::kSlots;
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b");
  a.ArmAt(base_ + 2 * turn + milliseconds(100));  // the same slot as b, two turns later
  b.ArmAt(base_ + milliseconds(100));
  deadlines_.Expire(base_ + milliseconds(200));
  EXPECT_EQ(log_, Log{"b"});
  deadlines_.Expire(base_ + turn + milliseconds(200));
  EXPECT_EQ(log_, Log{"b"});
  // A pass that jumps more than a turn still visits every slot once.
  deadlines_.Expire(base_ + 5 * turn);
  EXPECT_EQ(log_, (Log{"b", "a"}));
  EXPECT_EQ(deadlines_.armed(), 0u);
}

TEST_F(DeadlinesTest, LoopTickRunsDueActionsThenStops) {
  EXPECT_FALSE(deadlines_.ticking());
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b");
  a.ArmAt(Clock::now());
  b.ArmAt(Clock::now() - seconds(1));
  EXPECT_TRUE(deadlines_.ticking());
  // run() returns only once the timer has stopped: nothing armed, no wake-up.
  ctx_.run();
  EXPECT_EQ(log_, (Log{"a", "b"}));
  EXPECT_FALSE(deadlines_.ticking());
  EXPECT_EQ(deadlines_.armed(), 0u);
  // And it starts again on the next arming.
  ctx_.restart();
  a.ArmAt(Clock::now());
  EXPECT_TRUE(deadlines_.ticking());
  ctx_.run();
  EXPECT_EQ(log_, (Log{"a", "b", "a"}));
}

// Runs the loop until `log` holds `count` firings (a deadline an hour away
// keeps the timer pending, so run() would not return), for at most 10 s.
void RunUntilFired(asio::io_context& ctx, const Log& log, size_t count) {
  ctx.restart();
  const auto give_up = Clock::now() + seconds(10);
  while (log.size() < count && Clock::now() < give_up) ctx.run_one_for(seconds(1));
  ASSERT_GE(log.size(), count) << "the deadlines did not fire within 10 s";
}

TEST_F(DeadlinesTest, AQuietLoopSleepsUntilTheEarliestDeadline) {
  // Nothing within kNearTicks of the tick: one wake-up, at the deadline, not
  // one every kGranularity (the 600 ms here would be 24).
  const auto far = Deadlines::kGranularity * (Deadlines::kNearTicks + 14);
  Owner a(deadlines_, log_, "a"), later(deadlines_, log_, "later");
  Clock::time_point fired;
  a.on_fire = [&] { fired = Clock::now(); };
  const auto due = Clock::now() + far;
  a.ArmAt(due);
  later.ArmAt(Clock::now() + hours(1));
  RunUntilFired(ctx_, log_, 1);
  EXPECT_EQ(log_, Log{"a"});
  EXPECT_GE(fired, due);
  EXPECT_EQ(deadlines_.wakeups(), 1u);
  // Then it sleeps until the one an hour away.
  EXPECT_TRUE(deadlines_.ticking());
  EXPECT_GE(deadlines_.next_wake(), Clock::now() + hours(1) - seconds(5));
}

TEST_F(DeadlinesTest, ArmingEarlierWhileAsleepMovesTheWakeUpAndLaterDoesNot) {
  Owner far(deadlines_, log_, "far"), farther(deadlines_, log_, "farther"),
      soon(deadlines_, log_, "soon");
  far.ArmAt(Clock::now() + hours(1));
  const auto asleep_until = deadlines_.next_wake();
  EXPECT_GE(asleep_until, Clock::now() + hours(1) - seconds(5));
  farther.ArmAt(Clock::now() + hours(2));
  EXPECT_EQ(deadlines_.next_wake(), asleep_until);
  const auto due = Clock::now() + milliseconds(50);
  soon.ArmAt(due);
  EXPECT_LT(deadlines_.next_wake(), due + Deadlines::kGranularity);
  RunUntilFired(ctx_, log_, 1);
  EXPECT_EQ(log_, Log{"soon"});
  // The moved timer's first wait ended without a tick: one wake-up in all.
  EXPECT_EQ(deadlines_.wakeups(), 1u);
  EXPECT_EQ(deadlines_.next_wake(), asleep_until);
}

TEST_F(DeadlinesTest, DisarmingTheLastDeadlineStopsTheTimerAtTheNextTick) {
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b");
  a.ArmAt(Clock::now() + hours(1));
  b.ArmAt(Clock::now() + hours(2));
  a.deadline.Disarm();
  EXPECT_GE(deadlines_.next_wake(), Clock::now() + hours(1) - seconds(5));
  b.deadline.Disarm();
  // Asleep until an hour from now no more: the next tick.
  EXPECT_TRUE(deadlines_.ticking());
  EXPECT_LE(deadlines_.next_wake(), Clock::now() + Deadlines::kGranularity);
  // Arming and disarming again before that tick does not move the timer.
  const auto wake = deadlines_.next_wake();
  a.ArmAt(Clock::now() + hours(1));
  a.deadline.Disarm();
  EXPECT_EQ(deadlines_.next_wake(), wake);
  // That one wake-up finds nothing and stops: run() returns.
  const auto before = Clock::now();
  ctx_.run();
  EXPECT_LT(Clock::now() - before, seconds(5));
  EXPECT_FALSE(deadlines_.ticking());
  EXPECT_EQ(deadlines_.wakeups(), 1u);
  EXPECT_TRUE(log_.empty());
}

TEST_F(DeadlinesTest, ABusyLoopWakesAtTheNextOccupiedSlotOnly) {
  // b is within kNearTicks of a: after a's tick the timer goes straight to
  // b's, skipping the empty ticks between them.
  Owner a(deadlines_, log_, "a"), b(deadlines_, log_, "b");
  const auto b_due =
      Clock::now() + milliseconds(30) + Deadlines::kGranularity * (Deadlines::kNearTicks - 2);
  a.ArmAt(Clock::now() + milliseconds(30));
  b.ArmAt(b_due);
  RunUntilFired(ctx_, log_, 1);
  // (A stall of the machine past b's time would fire both in one wake-up.)
  if (log_.size() == 1) {
    EXPECT_GE(deadlines_.next_wake(), b_due);
    EXPECT_LT(deadlines_.next_wake(), b_due + Deadlines::kGranularity);
  }
  RunUntilFired(ctx_, log_, 2);
  EXPECT_EQ(log_, (Log{"a", "b"}));
  EXPECT_LE(deadlines_.wakeups(), 2u);
  EXPECT_FALSE(deadlines_.ticking());
}

TEST_F(DeadlinesTest, ALaterTurnsDeadlineInANearSlotDoesNotWakeTheLoop) {
  // `idle` sits in a slot just after `soon`'s, ten turns of the wheel later
  // (as a minute-long idle deadline does): after `soon` fires the loop sleeps
  // until `idle`, not until its slot comes round.
  const auto turn = Deadlines::kGranularity * Deadlines::kSlots;
  Owner soon(deadlines_, log_, "soon"), idle(deadlines_, log_, "idle");
  const auto soon_due = Clock::now() + milliseconds(600);
  const auto idle_due = soon_due + 10 * turn + 2 * Deadlines::kGranularity;
  idle.ArmAt(idle_due);
  soon.ArmAt(soon_due);
  RunUntilFired(ctx_, log_, 1);
  EXPECT_EQ(log_, Log{"soon"});
  EXPECT_EQ(deadlines_.wakeups(), 1u);
  EXPECT_GE(deadlines_.next_wake(), idle_due);
}

TEST_F(DeadlinesTest, ReArmingTheOnlyDeadlineLeavesAFarWakeUpAlone) {
  Owner a(deadlines_, log_, "a");
  a.ArmAt(Clock::now() + hours(1));
  const auto wake = deadlines_.next_wake();
  a.ArmAt(Clock::now() + hours(2));  // moved, never disarmed: no trip to the next tick
  EXPECT_EQ(deadlines_.next_wake(), wake);
  EXPECT_TRUE(deadlines_.ticking());
}

TEST_F(DeadlinesTest, CancelActionAbortsAPendingReadAndMarksItExpired) {
  Acceptor acceptor(ctx_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Socket client(ctx_);
  client.connect(acceptor.local_endpoint());
  Socket server = acceptor.accept();
  Deadline deadline(deadlines_);
  boost::system::error_code read_ec;
  bool open_after = false;
  char byte = 0;
  // A read that only the deadline's action can end.
  const auto read_until_due = [&](Deadline::Action action) {
    ctx_.restart();
    deadline.ArmAt(Clock::now(), action, &server);
    server.async_read_some(asio::buffer(&byte, 1),
                           [&](const boost::system::error_code& ec, size_t) {
                             read_ec = ec;
                             open_after = server.is_open();
                           });
    ctx_.run();
  };
  read_until_due(CancelSocketOps);
  EXPECT_EQ(read_ec, asio::error::operation_aborted);
  EXPECT_TRUE(deadline.expired());
  EXPECT_TRUE(open_after);  // cancelled, still usable

  read_until_due(CloseSocket);
  EXPECT_EQ(read_ec, asio::error::operation_aborted);
  EXPECT_TRUE(deadline.expired());
  EXPECT_FALSE(open_after);
}

TEST(DeadlinesShutdownTest, FramesDestroyedWithTheContextDisarmSafely) {
  // A coroutine suspended with an armed deadline in its frame: destroying the
  // context destroys the frame, whose Deadline disarms on the still-alive
  // service (run under ASan to see it).
  auto ctx = std::make_unique<asio::io_context>(1);
  Deadlines& deadlines = Deadlines::Of(*ctx);
  bool suspended = false;
  asio::co_spawn(
      *ctx,
      [&]() -> awaitable<void> {
        Deadline deadline(deadlines);
        deadline.ArmAt(Clock::now() + hours(1), CancelSocketOps, nullptr);
        SteadyTimer wait(co_await asio::this_coro::executor, hours(1));
        suspended = true;
        co_await wait.async_wait(use_awaitable);
      },
      asio::detached);
  ctx->poll();
  ASSERT_TRUE(suspended);
  EXPECT_EQ(deadlines.armed(), 1u);
  ctx.reset();
}

}  // namespace
}  // namespace switchyard::http
