#include "observe/metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace switchyard::observe {
namespace {

// --- Text exposition helpers ------------------------------------------------

// Values as the Go client prints them: integers without a decimal point,
// otherwise the shortest round-trip form; +Inf, -Inf and NaN spelled out.
void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    r = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  }
  out.append(buf, r.ptr);
}

void AppendHelpText(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Appends `{a="x",b="y"}` (or `{a="x",le="0.1"}`), or nothing when there are
// no labels at all.
void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  std::span<const std::string> values, const std::string* le = nullptr) {
  if (names.empty() && le == nullptr) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendLabelValue(out, values[i]);
    out += '"';
  }
  if (le != nullptr) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  std::string_view type) {
  if (!help.empty()) {
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendHelpText(out, help);
    out += '\n';
  }
  out += "# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void AppendSample(std::string& out, std::string_view name, std::string_view suffix,
                  const std::vector<std::string>& label_names, std::span<const std::string> values,
                  double value, const std::string* le = nullptr) {
  out += name;
  out += suffix;
  AppendLabels(out, label_names, values, le);
  out += ' ';
  AppendValue(out, value);
  out += '\n';
}

// --- Name validation ---------------------------------------------------------

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Lexicographic order of label tuples, each value compared once (three-way):
// std::lexicographical_compare with `<` compared every equal value twice, and
// a series lookup (std::map::find) runs this per tree node.
template <typename A, typename B>
bool LexLess(std::span<A> a, std::span<B> b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (const int c = std::string_view(a[i]).compare(std::string_view(b[i])); c != 0) return c < 0;
  }
  return a.size() < b.size();
}

// --- Callback families -------------------------------------------------------

class CallbackFamily final : public internal::FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, std::vector<std::string> label_names,
                 bool is_counter, std::function<Registry::LabelledValues()> fn,
                 internal::MisuseSink* misuse)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        is_counter_(is_counter),
        fn_(std::move(fn)),
        misuse_(misuse) {}

  void Render(std::string& out) const override {
    Registry::LabelledValues series;
    try {
      series = fn_();
    } catch (const std::exception& e) {
      misuse_->Report("callback for metric " + name_ + " threw: " + e.what());
      return;
    } catch (...) {
      misuse_->Report("callback for metric " + name_ + " threw");
      return;
    }
    std::erase_if(series, [&](const auto& s) {
      if (s.first.size() == label_names_.size()) return false;
      misuse_->Report("callback for metric " + name_ + " returned " +
                      std::to_string(s.first.size()) + " label values, expected " +
                      std::to_string(label_names_.size()));
      return true;
    });
    std::stable_sort(series.begin(), series.end(), [](const auto& a, const auto& b) {
      return LexLess(std::span<const std::string>(a.first), std::span<const std::string>(b.first));
    });
    AppendHeader(out, name_, help_, is_counter_ ? "counter" : "gauge");
    for (const auto& [values, value] : series) {
      AppendSample(out, name_, "", label_names_, values, value);
    }
  }

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const bool is_counter_;
  const std::function<Registry::LabelledValues()> fn_;
  internal::MisuseSink* const misuse_;
};

}  // namespace

// --- Series --------------------------------------------------------------------

void Counter::Inc(double v) {
  if (!(v >= 0.0)) {  // negative or NaN
    NegativeIncrement();
    return;
  }
  fraction_.fetch_add(v, std::memory_order_relaxed);
}

double Counter::Value() const {
  return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
         fraction_.load(std::memory_order_relaxed);
}

void Counter::NegativeIncrement() {
  assert(false && "Counter::Inc with a negative or NaN increment");
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.reserve(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.count += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(s.count);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

// --- internal ------------------------------------------------------------------

namespace internal {

bool LabelsLess::operator()(std::span<const std::string> a, std::span<const std::string> b) const {
  return LexLess(a, b);
}
bool LabelsLess::operator()(std::span<const std::string> a,
                            std::span<const std::string_view> b) const {
  return LexLess(a, b);
}
bool LabelsLess::operator()(std::span<const std::string_view> a,
                            std::span<const std::string> b) const {
  return LexLess(a, b);
}

void MisuseSink::Report(std::string_view what) {
  if (abort_on_misuse) {
    std::fprintf(stderr, "switchyard metrics misuse: %.*s\n", static_cast<int>(what.size()),
                 what.data());
    std::abort();
  }
  count.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace internal

// --- Family --------------------------------------------------------------------

template <typename T>
Family<T>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds, internal::MisuseSink* misuse)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)),
      misuse_(misuse),
      invalid_(MakeSeries()) {
  // An unlabelled metric exists (at zero) from the start.
  if (label_names_.empty()) series_.emplace(std::vector<std::string>(), MakeSeries());
}

template <typename T>
std::unique_ptr<T> Family<T>::MakeSeries() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_unique<Histogram>(bounds_);
  } else {
    return std::make_unique<T>();
  }
}

template <typename T>
T& Family<T>::WithLabels(std::initializer_list<std::string_view> values) {
  return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string> values) {
  std::vector<std::string_view> views(values.begin(), values.end());
  return WithLabels(std::span<const std::string_view>(views));
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string_view> values) {
  if (values.size() != label_names_.size()) {
    misuse_->Report("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                    " label values, got " + std::to_string(values.size()));
    return *invalid_;
  }
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    it =
        series_.emplace(std::vector<std::string>(values.begin(), values.end()), MakeSeries()).first;
  }
  return *it->second;
}

template <typename T>
void Family<T>::Render(std::string& out) const {
  std::string_view type;
  if constexpr (std::is_same_v<T, Counter>) {
    type = "counter";
  } else if constexpr (std::is_same_v<T, Gauge>) {
    type = "gauge";
  } else {
    type = "histogram";
  }
  AppendHeader(out, name_, help_, type);
  std::lock_guard lock(mu_);
  if constexpr (std::is_same_v<T, Histogram>) {
    std::vector<std::string> les;
    les.reserve(bounds_.size() + 1);
    for (double b : bounds_) {
      les.emplace_back();
      AppendValue(les.back(), b);
    }
    les.emplace_back("+Inf");
    for (const auto& [values, histogram] : series_) {
      Histogram::Snapshot s = histogram->Read();
      for (size_t i = 0; i < les.size(); ++i) {
        AppendSample(out, name_, "_bucket", label_names_, values,
                     static_cast<double>(s.cumulative[i]), &les[i]);
      }
      AppendSample(out, name_, "_sum", label_names_, values, s.sum);
      AppendSample(out, name_, "_count", label_names_, values, static_cast<double>(s.count));
    }
  } else {
    for (const auto& [values, series] : series_) {
      AppendSample(out, name_, "", label_names_, values, series->Value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry ------------------------------------------------------------------

Registry::Registry(RegistryOptions options) {
  misuse_.abort_on_misuse = options.abort_on_misuse;
}

Registry::~Registry() = default;

bool Registry::CheckNewFamily(const std::string& name, const std::vector<std::string>& label_names,
                              Kind kind) {
  bool ok = true;
  if (!IsMetricName(name)) {
    misuse_.Report("invalid metric name \"" + name + "\"");
    ok = false;
  } else if (std::find(names_.begin(), names_.end(), name) != names_.end()) {
    misuse_.Report("metric " + name + " registered twice");
    ok = false;
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    const std::string& label = label_names[i];
    if (!IsLabelName(label) || (kind == Kind::kHistogram && label == "le")) {
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation): error path, rare
      misuse_.Report("metric " + name + ": invalid label name \"" + label + "\"");
      ok = false;
    } else if (std::find(label_names.begin(), label_names.begin() + static_cast<long>(i), label) !=
               label_names.begin() + static_cast<long>(i)) {
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation): error path, rare
      misuse_.Report("metric " + name + ": label \"" + label + "\" given twice");
      ok = false;
    }
  }
  if (ok) names_.push_back(name);
  return ok;
}

void Registry::Adopt(std::unique_ptr<internal::FamilyBase> family, bool rendered) {
  if (rendered) rendered_.push_back(family.get());
  owned_.push_back(std::move(family));
}

template <typename T>
Family<T>& Registry::AddFamily(std::string name, std::string help,
                               std::vector<std::string> label_names, std::vector<double> bounds,
                               Kind kind) {
  std::lock_guard lock(mu_);
  bool rendered = CheckNewFamily(name, label_names, kind);
  auto family = std::make_unique<Family<T>>(std::move(name), std::move(help),
                                            std::move(label_names), std::move(bounds), &misuse_);
  Family<T>& ref = *family;
  Adopt(std::move(family), rendered);
  return ref;
}

CounterFamily& Registry::AddCounter(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  return AddFamily<Counter>(std::move(name), std::move(help), std::move(label_names), {},
                            Kind::kCounter);
}

GaugeFamily& Registry::AddGauge(std::string name, std::string help,
                                std::vector<std::string> label_names) {
  return AddFamily<Gauge>(std::move(name), std::move(help), std::move(label_names), {},
                          Kind::kGauge);
}

HistogramFamily& Registry::AddHistogram(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::span<const double> bounds) {
  std::vector<double> sane;
  bool ok = true;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      ok = false;
      continue;
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) ok = false;
    sane.push_back(bounds[i]);
  }
  if (!ok) {
    misuse_.Report("histogram " + name + ": bucket bounds must be finite and strictly increasing");
    std::sort(sane.begin(), sane.end());
    sane.erase(std::unique(sane.begin(), sane.end()), sane.end());
  }
  return AddFamily<Histogram>(std::move(name), std::move(help), std::move(label_names),
                              std::move(sane), Kind::kHistogram);
}

void Registry::AddCallback(std::string name, std::string help, std::vector<std::string> label_names,
                           bool is_counter, std::function<LabelledValues()> fn) {
  std::lock_guard lock(mu_);
  bool rendered = CheckNewFamily(name, label_names, is_counter ? Kind::kCounter : Kind::kGauge);
  if (!fn) {
    misuse_.Report("metric " + name + ": empty callback");
    return;
  }
  Adopt(std::make_unique<CallbackFamily>(std::move(name), std::move(help), std::move(label_names),
                                         is_counter, std::move(fn), &misuse_),
        rendered);
}

void Registry::AddCallbackGauge(std::string name, std::string help, std::function<double()> fn) {
  std::function<LabelledValues()> wrapped;
  if (fn) {
    wrapped = [fn = std::move(fn)]() { return LabelledValues{{{}, fn()}}; };
  }
  AddCallback(std::move(name), std::move(help), {}, false, std::move(wrapped));
}

void Registry::AddCallbackCounter(std::string name, std::string help, std::function<double()> fn) {
  std::function<LabelledValues()> wrapped;
  if (fn) {
    wrapped = [fn = std::move(fn)]() { return LabelledValues{{{}, fn()}}; };
  }
  AddCallback(std::move(name), std::move(help), {}, true, std::move(wrapped));
}

void Registry::AddCallbackGaugeFamily(std::string name, std::string help,
                                      std::vector<std::string> label_names,
                                      std::function<LabelledValues()> fn) {
  AddCallback(std::move(name), std::move(help), std::move(label_names), false, std::move(fn));
}

void Registry::AddCallbackCounterFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::function<LabelledValues()> fn) {
  AddCallback(std::move(name), std::move(help), std::move(label_names), true, std::move(fn));
}

std::string Registry::RenderPrometheus() const {
  std::vector<const internal::FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    families = rendered_;
  }
  // Families are never removed, so they can be rendered without mu_ (and the
  // callbacks run without it).
  std::string out;
  out.reserve(4096);
  for (const internal::FamilyBase* family : families) family->Render(out);
  return out;
}

uint64_t Registry::misuse_count() const {
  return misuse_.count.load(std::memory_order_relaxed);
}

}  // namespace switchyard::observe
