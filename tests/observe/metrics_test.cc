#include "observe/metrics.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchyard::observe {
namespace {

RegistryOptions Lenient() {
  return RegistryOptions{.abort_on_misuse = false};
}

TEST(MetricsTest, UnlabelledCounterRendersFromZero) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("switchyard_events_total", "Events seen");
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_events_total Events seen\n"
            "# TYPE switchyard_events_total counter\n"
            "switchyard_events_total 0\n");
  Counter& c = family.Get();
  c.Inc();
  c.Inc(3);
  c.Inc(uint64_t{2});
  EXPECT_EQ(c.Value(), 6.0);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_events_total Events seen\n"
            "# TYPE switchyard_events_total counter\n"
            "switchyard_events_total 6\n");
}

TEST(MetricsTest, CounterTakesFractionalIncrements) {
  Registry registry;
  Counter& c = registry.AddCounter("switchyard_cost_usd_total", "Spend").Get();
  c.Inc(0.25);
  c.Inc(3);
  c.Inc(0.125);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_cost_usd_total Spend\n"
            "# TYPE switchyard_cost_usd_total counter\n"
            "switchyard_cost_usd_total 3.375\n");
}

TEST(MetricsTest, LabelledCounterSortsSeriesAndEscapesValues) {
  Registry registry;
  auto& family = registry.AddCounter("switchyard_requests_total", "Requests handled",
                                     {"route", "provider", "status"});
  // Nothing is rendered for a labelled family before its first series.
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_requests_total Requests handled\n"
            "# TYPE switchyard_requests_total counter\n");
  family.WithLabels({"default", "openai", "200"}).Inc();
  family.WithLabels({"default", "anthropic", "200"}).Inc(2);
  family.WithLabels({"we\"ird\\route\nx", "openai", "502"}).Inc();
  family.WithLabels({"default", "openai", "200"}).Inc();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_requests_total Requests handled\n"
            "# TYPE switchyard_requests_total counter\n"
            "switchyard_requests_total{route=\"default\",provider=\"anthropic\",status=\"200\"} 2\n"
            "switchyard_requests_total{route=\"default\",provider=\"openai\",status=\"200\"} 2\n"
            "switchyard_requests_total{route=\"we\\\"ird\\\\route\\nx\",provider=\"openai\","
            "status=\"502\"} 1\n");
}

TEST(MetricsTest, WithLabelsReturnsTheSameSeriesForEveryArgumentForm) {
  Registry registry;
  auto& family = registry.AddCounter("c_total", "c", {"a", "b"});
  Counter& from_list = family.WithLabels({"x", "y"});
  std::vector<std::string> strings = {"x", "y"};
  std::vector<std::string_view> views = {"x", "y"};
  EXPECT_EQ(&family.WithLabels(strings), &from_list);
  EXPECT_EQ(&family.WithLabels(views), &from_list);
  EXPECT_NE(&family.WithLabels({"x", "z"}), &from_list);
  EXPECT_EQ(family.label_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(family.name(), "c_total");
}

// Series render in the lexicographic order of their label tuples (a value
// that is a prefix of another sorts first; the first differing value decides),
// and a lookup finds the series by any argument form.
TEST(MetricsTest, SeriesSortByTheirLabelTuplesValueByValue) {
  Registry registry;
  auto& family = registry.AddCounter("c_total", "c", {"a", "b"});
  family.WithLabels({"ab", "a"}).Inc(1);
  family.WithLabels({"a", "z"}).Inc(2);
  family.WithLabels({"a", ""}).Inc(3);
  family.WithLabels({"", "b"}).Inc(4);
  family.WithLabels({"a", "za"}).Inc(5);
  family.WithLabels({"B", "a"}).Inc(6);  // 'B' < 'a'
  std::vector<std::string> strings = {"a", "z"};
  family.WithLabels(strings).Inc(10);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP c_total c\n"
            "# TYPE c_total counter\n"
            "c_total{a=\"\",b=\"b\"} 4\n"
            "c_total{a=\"B\",b=\"a\"} 6\n"
            "c_total{a=\"a\",b=\"\"} 3\n"
            "c_total{a=\"a\",b=\"z\"} 12\n"
            "c_total{a=\"a\",b=\"za\"} 5\n"
            "c_total{a=\"ab\",b=\"a\"} 1\n");
}

TEST(MetricsTest, HelpTextEscapesBackslashAndNewlineOnly) {
  Registry registry;
  registry.AddGauge("g", "line one\nback\\slash \"quoted\"");
  registry.AddGauge("no_help", "");
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP g line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE g gauge\n"
            "g 0\n"
            "# TYPE no_help gauge\n"
            "no_help 0\n");
}

TEST(MetricsTest, GaugeSetsIncrementsAndDecrements) {
  Registry registry;
  auto& family = registry.AddGauge("switchyard_inflight", "In-flight requests", {"provider"});
  Gauge& g = family.WithLabels({"openai"});
  g.Set(10);
  g.Inc();
  g.Inc(0.5);
  g.Dec(3);
  EXPECT_EQ(g.Value(), 8.5);
  Gauge& other = family.WithLabels({"anthropic"});
  other.Dec();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_inflight In-flight requests\n"
            "# TYPE switchyard_inflight gauge\n"
            "switchyard_inflight{provider=\"anthropic\"} -1\n"
            "switchyard_inflight{provider=\"openai\"} 8.5\n");
}

TEST(MetricsTest, ValuesUseShortestFormAndSpellOutSpecials) {
  Registry registry;
  auto& family = registry.AddGauge("v", "values", {"k"});
  family.WithLabels({"a"}).Set(1e20);
  family.WithLabels({"b"}).Set(1.5e-7);
  family.WithLabels({"c"}).Set(std::numeric_limits<double>::infinity());
  family.WithLabels({"d"}).Set(-std::numeric_limits<double>::infinity());
  family.WithLabels({"e"}).Set(std::nan(""));
  family.WithLabels({"f"}).Set(123456789012.0);
  family.WithLabels({"g"}).Set(0.1);
  family.WithLabels({"h"}).Set(-0.0);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP v values\n"
            "# TYPE v gauge\n"
            "v{k=\"a\"} 1e+20\n"
            "v{k=\"b\"} 1.5e-07\n"
            "v{k=\"c\"} +Inf\n"
            "v{k=\"d\"} -Inf\n"
            "v{k=\"e\"} NaN\n"
            "v{k=\"f\"} 123456789012\n"
            "v{k=\"g\"} 0.1\n"
            "v{k=\"h\"} 0\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  const std::vector<double> bounds = {0.125, 0.5, 1};
  auto& family = registry.AddHistogram("switchyard_latency_seconds", "Latency", {}, bounds);
  Histogram& h = family.Get();
  h.Observe(0.0625);        // le 0.125
  h.Observe(0.125);         // le 0.125 (bounds are inclusive)
  h.Observe(0.25);          // le 0.5
  h.Observe(0.75);          // le 1
  h.Observe(7);             // +Inf only
  h.Observe(std::nan(""));  // ignored
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_latency_seconds Latency\n"
            "# TYPE switchyard_latency_seconds histogram\n"
            "switchyard_latency_seconds_bucket{le=\"0.125\"} 2\n"
            "switchyard_latency_seconds_bucket{le=\"0.5\"} 3\n"
            "switchyard_latency_seconds_bucket{le=\"1\"} 4\n"
            "switchyard_latency_seconds_bucket{le=\"+Inf\"} 5\n"
            "switchyard_latency_seconds_sum 8.1875\n"
            "switchyard_latency_seconds_count 5\n");
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(s.count, 5u);
}

TEST(MetricsTest, LabelledHistogramPutsLeLast) {
  Registry registry;
  const std::vector<double> bounds = {0.25, 2.5};
  auto& family = registry.AddHistogram("h_seconds", "H", {"provider"}, bounds);
  family.WithLabels({"openai"}).Observe(2);
  family.WithLabels({"local"}).Observe(0.25);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP h_seconds H\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{provider=\"local\",le=\"0.25\"} 1\n"
            "h_seconds_bucket{provider=\"local\",le=\"2.5\"} 1\n"
            "h_seconds_bucket{provider=\"local\",le=\"+Inf\"} 1\n"
            "h_seconds_sum{provider=\"local\"} 0.25\n"
            "h_seconds_count{provider=\"local\"} 1\n"
            "h_seconds_bucket{provider=\"openai\",le=\"0.25\"} 0\n"
            "h_seconds_bucket{provider=\"openai\",le=\"2.5\"} 1\n"
            "h_seconds_bucket{provider=\"openai\",le=\"+Inf\"} 1\n"
            "h_seconds_sum{provider=\"openai\"} 2\n"
            "h_seconds_count{provider=\"openai\"} 1\n");
}

TEST(MetricsTest, DefaultLatencyBucketsSpanHalfAMillisecondToAMinute) {
  ASSERT_EQ(kLatencyBuckets.size(), 16u);
  EXPECT_EQ(kLatencyBuckets.front(), 0.0005);
  EXPECT_EQ(kLatencyBuckets.back(), 60.0);
  Registry registry;
  registry.AddHistogram("lat_seconds", "L").Get().Observe(0.003);
  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"0.0005\"} 0\n"
                      "lat_seconds_bucket{le=\"0.001\"} 0\n"
                      "lat_seconds_bucket{le=\"0.0025\"} 0\n"
                      "lat_seconds_bucket{le=\"0.005\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lat_seconds_bucket{le=\"60\"} 1\n"
                      "lat_seconds_bucket{le=\"+Inf\"} 1\n"
                      "lat_seconds_sum 0.003\n"
                      "lat_seconds_count 1\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, CallbackGaugesAndCountersAreEvaluatedAtScrapeTime) {
  Registry registry;
  int depth = 3;
  registry.AddCallbackGauge("switchyard_queue_depth", "Queued events",
                            [&depth] { return static_cast<double>(depth); });
  registry.AddCallbackCounter("switchyard_dropped_total", "Dropped events", [] { return 7.0; });
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_queue_depth Queued events\n"
            "# TYPE switchyard_queue_depth gauge\n"
            "switchyard_queue_depth 3\n"
            "# HELP switchyard_dropped_total Dropped events\n"
            "# TYPE switchyard_dropped_total counter\n"
            "switchyard_dropped_total 7\n");
  depth = 5;
  EXPECT_NE(registry.RenderPrometheus().find("switchyard_queue_depth 5\n"), std::string::npos);
}

TEST(MetricsTest, LabelledCallbackGaugeSortsSeries) {
  Registry registry;
  registry.AddCallbackGaugeFamily(
      "switchyard_breaker_state", "0 closed, 1 half-open, 2 open", {"provider"}, [] {
        return Registry::LabelledValues{{{"openai"}, 2}, {{"anthropic"}, 0}, {{"local\"1"}, 1}};
      });
  registry.AddCallbackCounterFamily("c_total", "C", {"k"}, [] {
    return Registry::LabelledValues{{{"b"}, 1}, {{"a"}, 2}};
  });
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP switchyard_breaker_state 0 closed, 1 half-open, 2 open\n"
            "# TYPE switchyard_breaker_state gauge\n"
            "switchyard_breaker_state{provider=\"anthropic\"} 0\n"
            "switchyard_breaker_state{provider=\"local\\\"1\"} 1\n"
            "switchyard_breaker_state{provider=\"openai\"} 2\n"
            "# HELP c_total C\n"
            "# TYPE c_total counter\n"
            "c_total{k=\"a\"} 2\n"
            "c_total{k=\"b\"} 1\n");
}

TEST(MetricsTest, FamiliesRenderInRegistrationOrder) {
  Registry registry;
  registry.AddGauge("zeta", "Z");
  registry.AddCallbackGauge("alpha", "A", [] { return 1.0; });
  registry.AddCounter("mid_total", "M");
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP zeta Z\n# TYPE zeta gauge\nzeta 0\n"
            "# HELP alpha A\n# TYPE alpha gauge\nalpha 1\n"
            "# HELP mid_total M\n# TYPE mid_total counter\nmid_total 0\n");
  EXPECT_EQ(registry.misuse_count(), 0u);
}

TEST(MetricsTest, ConcurrentIncrementsAndObservationsAreExact) {
  Registry registry;
  Counter& counter = registry.AddCounter("hits_total", "Hits").Get();
  const std::vector<double> bounds = {1, 2};
  Histogram& histogram = registry.AddHistogram("h", "H", {}, bounds).Get();
  auto& family = registry.AddCounter("by_thread_total", "B", {"t"});
  constexpr int kThreads = 4;
  constexpr int kIterations = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = family.WithLabels({std::to_string(t % 2)});
      for (int i = 0; i < kIterations; ++i) {
        counter.Inc();
        mine.Inc();
        histogram.Observe(i % 3 == 0 ? 0.5 : (i % 3 == 1 ? 1.5 : 4.0));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counter.Value(), 400000.0);
  EXPECT_EQ(family.WithLabels({"0"}).Value(), 200000.0);
  EXPECT_EQ(family.WithLabels({"1"}).Value(), 200000.0);
  Histogram::Snapshot s = histogram.Read();
  // Per thread: 33334 at 0.5, 33333 at 1.5, 33333 at 4.0.
  EXPECT_EQ(s.count, 400000u);
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{133336, 266668, 400000}));
  EXPECT_EQ(s.sum, 4 * (33334 * 0.5 + 33333 * 1.5 + 33333 * 4.0));
  EXPECT_NE(registry.RenderPrometheus().find("hits_total 400000\n"), std::string::npos);
}

TEST(MetricsMisuseTest, LabelCountMismatchReturnsAnUnrenderedSink) {
  Registry registry(Lenient());
  auto& family = registry.AddCounter("r_total", "R", {"a", "b"});
  Counter& bad = family.WithLabels({"only-one"});
  bad.Inc(5);
  Counter& bad_again = family.Get();
  EXPECT_EQ(&bad, &bad_again);
  family.WithLabels({"x", "y"}).Inc();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP r_total R\n"
            "# TYPE r_total counter\n"
            "r_total{a=\"x\",b=\"y\"} 1\n");
  EXPECT_EQ(registry.misuse_count(), 2u);
}

TEST(MetricsMisuseTest, BadFamiliesAreKeptButNotRendered) {
  Registry registry(Lenient());
  registry.AddGauge("ok", "first");
  registry.AddGauge("ok", "duplicate").Get().Set(9);
  registry.AddCounter("9starts_with_digit", "bad name").Get().Inc();
  registry.AddCounter("has-dash", "bad name");
  registry.AddGauge("bad_label", "x", {"__reserved"});
  registry.AddGauge("dup_label", "x", {"a", "a"});
  registry.AddHistogram("le_label", "x", {"le"});
  registry.AddCallbackGauge("empty_cb", "x", nullptr);
  registry.AddGauge("colons:are_fine", "y", {"_under", "Mixed9"});
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP ok first\n# TYPE ok gauge\nok 0\n"
            "# HELP colons:are_fine y\n# TYPE colons:are_fine gauge\n");
  EXPECT_EQ(registry.misuse_count(), 7u);
}

TEST(MetricsMisuseTest, UnsortedBoundsAreSortedAndDeduplicated) {
  Registry registry(Lenient());
  const std::vector<double> bounds = {1, 0.5, 1, std::numeric_limits<double>::infinity()};
  registry.AddHistogram("h", "H", {}, bounds).Get().Observe(0.7);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP h H\n# TYPE h histogram\n"
            "h_bucket{le=\"0.5\"} 0\n"
            "h_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 0.7\n"
            "h_count 1\n");
  EXPECT_EQ(registry.misuse_count(), 1u);
}

TEST(MetricsMisuseTest, FailingCallbacksAreSkippedForThatScrape) {
  Registry registry(Lenient());
  registry.AddCallbackGauge("throws", "T", []() -> double { throw std::runtime_error("boom"); });
  registry.AddCallbackGaugeFamily("partial", "P", {"k"}, [] {
    return Registry::LabelledValues{{{"good"}, 1}, {{"too", "many"}, 2}, {{}, 3}};
  });
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP partial P\n# TYPE partial gauge\npartial{k=\"good\"} 1\n");
  EXPECT_EQ(registry.misuse_count(), 3u);
}

TEST(MetricsMisuseDeathTest, AbortsWithAMessageWhenAsked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry registry(RegistryOptions{.abort_on_misuse = true});
        registry.AddCounter("r_total", "R", {"a", "b"}).WithLabels({"x"});
      },
      "switchyard metrics misuse: metric r_total takes 2 label values, got 1");
  EXPECT_DEATH(
      {
        Registry registry(RegistryOptions{.abort_on_misuse = true});
        registry.AddGauge("bad name", "R");
      },
      "switchyard metrics misuse: invalid metric name \"bad name\"");
}

}  // namespace
}  // namespace switchyard::observe
