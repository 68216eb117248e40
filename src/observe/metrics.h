// Metrics: a small Prometheus registry (counters, gauges, histograms and
// scrape-time callbacks) rendered in the text exposition format 0.0.4.
//
//   Registry registry;
//   auto& requests = registry.AddCounter("switchyard_requests_total", "Requests handled",
//                                        {"route", "provider", "status"});
//   Counter& ok = requests.WithLabels({"default", "openai", "200"});  // cache this
//   ok.Inc();
//   std::string text = registry.RenderPrometheus();
//
// Ownership: the Registry owns every family and every series. References
// returned by Add*() and WithLabels() stay valid for the registry's lifetime;
// series are never removed. Callbacks are owned by the registry and run on the
// thread calling RenderPrometheus(); whatever they capture must outlive the
// last render.
//
// Thread-safety: everything is safe to call from any thread. Counter::Inc,
// Gauge::Set/Inc/Dec and Histogram::Observe are lock-free (relaxed atomics).
// WithLabels and the Add* calls take a mutex: call WithLabels once and keep
// the reference on hot paths. Rendering reads each series' atomics without
// stopping writers, so a scrape may see a histogram's _sum a few observations
// apart from its buckets (as every Prometheus client does).
//
// Errors: misuse is a programming error, not a runtime condition, so nothing
// here returns a Status. An invalid metric or label name, a duplicate family
// name, an empty callback, bad histogram bounds or a label-count mismatch in
// WithLabels aborts with a message when RegistryOptions::abort_on_misuse is set
// (the default in debug builds). Otherwise (release) it is counted in
// misuse_count() and made harmless: a bad family is kept but never rendered, a
// label-count mismatch returns the family's "invalid" sink series, which is
// never rendered, and bad bounds are sorted and de-duplicated.
#pragma once

#include <array>
#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace switchyard::observe {

// Content-Type of RenderPrometheus() output, for the /metrics handler.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Default histogram bounds for latencies, in seconds (0.5 ms to 60 s).
inline constexpr std::array<double, 16> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};

// A monotonically increasing value. Increments must be non-negative (a
// negative or NaN increment asserts in debug and is ignored in release).
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc() { whole_.fetch_add(1, std::memory_order_relaxed); }
  template <std::integral T>
  void Inc(T n) {
    if constexpr (std::is_signed_v<T>) {
      if (n < 0) {
        NegativeIncrement();
        return;
      }
    }
    whole_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  }
  // Fractional increments (e.g. cost in USD).
  void Inc(double v);

  double Value() const;

 private:
  static void NegativeIncrement();

  // Integral increments take the fast path; fractional ones go to a CAS loop.
  std::atomic<uint64_t> whole_{0};
  std::atomic<double> fraction_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into buckets with upper bounds `bounds` (strictly
// increasing, finite; +Inf is implicit). NaN observations are ignored.
class Histogram {
 public:
  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
    uint64_t count = 0;
  };

  // `bounds` must outlive the histogram (the family owns them).
  explicit Histogram(std::span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double v);
  Snapshot Read() const;

 private:
  std::span<const double> bounds_;
  // Per-bucket (non-cumulative) counts; the last slot is +Inf.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

namespace internal {

// What every family shares with the registry; not part of the public API.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  virtual void Render(std::string& out) const = 0;
};

// Orders label-value tuples lexicographically; transparent so lookups need no
// allocation.
struct LabelsLess {
  using is_transparent = void;
  bool operator()(std::span<const std::string> a, std::span<const std::string> b) const;
  bool operator()(std::span<const std::string> a, std::span<const std::string_view> b) const;
  bool operator()(std::span<const std::string_view> a, std::span<const std::string> b) const;
};

// Registry-wide state a family reports misuse to.
struct MisuseSink {
  bool abort_on_misuse = false;
  std::atomic<uint64_t> count{0};
  void Report(std::string_view what);
};

}  // namespace internal

// All series of one metric: same name, help and label names, one series per
// distinct tuple of label values.
template <typename T>
class Family final : public internal::FamilyBase {
 public:
  // Returns the series for `values` (one per label name, in order), creating
  // it on first use. A count mismatch is misuse (see the file comment).
  T& WithLabels(std::initializer_list<std::string_view> values);
  T& WithLabels(std::span<const std::string_view> values);
  T& WithLabels(std::span<const std::string> values);
  // The single series of a family declared without labels.
  T& Get() { return WithLabels(std::span<const std::string_view>()); }

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Constructed by Registry only.
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds, internal::MisuseSink* misuse);
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  void Render(std::string& out) const override;

 private:
  std::unique_ptr<T> MakeSeries() const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;  // histograms only
  internal::MisuseSink* const misuse_;

  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>, internal::LabelsLess> series_;
  // Absorbs writes made through a mismatched WithLabels; never rendered.
  std::unique_ptr<T> invalid_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

struct RegistryOptions {
  // Abort (with a message on stderr) on misuse instead of counting it.
  // Defaults to on in debug builds and off when NDEBUG is defined.
#ifdef NDEBUG
  bool abort_on_misuse = false;
#else
  bool abort_on_misuse = true;
#endif
};

class Registry {
 public:
  // Label values paired with a value, as produced by a callback family.
  using LabelledValues = std::vector<std::pair<std::vector<std::string>, double>>;

  explicit Registry(RegistryOptions options = {});
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names follow Prometheus rules: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label
  // [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" ("le" is reserved for
  // histograms). Names are used as given: counters should end in "_total".
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names = {},
                                std::span<const double> bounds = kLatencyBuckets);

  // Values computed at scrape time (queue depths, breaker states, totals kept
  // elsewhere). Callbacks must not call back into this registry's Render.
  // A callback that throws is skipped for that scrape and counted as misuse.
  void AddCallbackGauge(std::string name, std::string help, std::function<double()> fn);
  void AddCallbackCounter(std::string name, std::string help, std::function<double()> fn);
  // Labelled variants: each returned pair is one series; pairs whose label
  // count does not match `label_names` are dropped (and counted as misuse).
  void AddCallbackGaugeFamily(std::string name, std::string help,
                              std::vector<std::string> label_names,
                              std::function<LabelledValues()> fn);
  void AddCallbackCounterFamily(std::string name, std::string help,
                                std::vector<std::string> label_names,
                                std::function<LabelledValues()> fn);

  // Text exposition format 0.0.4: families in registration order, series
  // sorted by label values.
  std::string RenderPrometheus() const;

  // Number of misuses absorbed since construction (always 0 when aborting).
  uint64_t misuse_count() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };

  // Validates names; returns false (after reporting misuse) when the family
  // must not be rendered. Requires mu_.
  bool CheckNewFamily(const std::string& name, const std::vector<std::string>& label_names,
                      Kind kind);
  template <typename T>
  Family<T>& AddFamily(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds, Kind kind);
  void AddCallback(std::string name, std::string help, std::vector<std::string> label_names,
                   bool is_counter, std::function<LabelledValues()> fn);
  void Adopt(std::unique_ptr<internal::FamilyBase> family, bool rendered);

  internal::MisuseSink misuse_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<internal::FamilyBase>> owned_;
  std::vector<const internal::FamilyBase*> rendered_;  // registration order
  std::vector<std::string> names_;
};

}  // namespace switchyard::observe
