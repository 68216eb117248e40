#include "learn/calibration.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "core/json_writer.h"

namespace switchyard::learn {
namespace {

double Sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

// log(1 + exp(x)) without overflow.
double Softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// Probability of `index` under softmax(scores * beta).
double SoftmaxAt(std::span<const double> scores, size_t index, double beta) {
  const double max = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (double s : scores) sum += std::exp((s - max) * beta);
  return std::exp((scores[index] - max) * beta) / sum;
}

// Mean negative log-likelihood of the known labels at inverse temperature beta.
double MeanNll(const std::vector<ScoredExample>& examples, ScoreKind kind, double beta) {
  double total = 0;
  size_t n = 0;
  for (const auto& e : examples) {
    if (e.label < 0 || e.scores.empty()) continue;
    ++n;
    if (kind == ScoreKind::kSoftmax) {
      const double max = *std::max_element(e.scores.begin(), e.scores.end());
      double sum = 0;
      for (double s : e.scores) sum += std::exp((s - max) * beta);
      total += std::log(sum) - (e.scores[e.label] - max) * beta;
    } else {
      for (size_t j = 0; j < e.scores.size(); ++j) {
        const double z = e.scores[j] * beta;
        // -log sigmoid(z) = softplus(-z); -log(1 - sigmoid(z)) = softplus(z).
        total += static_cast<int>(j) == e.label ? Softplus(-z) : Softplus(z);
      }
    }
  }
  return n == 0 ? 0 : total / static_cast<double>(n);
}

double Interpolate(const std::vector<std::pair<double, double>>& points, double x) {
  if (points.empty()) return x;
  if (x <= points.front().first) return points.front().second;
  if (x >= points.back().first) return points.back().second;
  auto it =
      std::upper_bound(points.begin(), points.end(), x,
                       [](double v, const std::pair<double, double>& p) { return v < p.first; });
  const auto& hi = *it;
  const auto& lo = *(it - 1);
  if (hi.first == lo.first) return hi.second;
  return lo.second + (hi.second - lo.second) * (x - lo.first) / (hi.first - lo.first);
}

}  // namespace

std::string_view CalibrationMethodName(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kNone:
      return "none";
    case CalibrationMethod::kTemperature:
      return "temperature";
    case CalibrationMethod::kIsotonic:
      return "isotonic";
  }
  return "none";
}

Calibration Calibration::Temperature(double temperature) {
  Calibration c;
  c.method_ = CalibrationMethod::kTemperature;
  c.temperature_ = temperature;
  return c;
}

Calibration Calibration::Isotonic(std::vector<std::pair<double, double>> points) {
  Calibration c;
  c.method_ = CalibrationMethod::kIsotonic;
  c.points_ = std::move(points);
  return c;
}

size_t ArgMax(std::span<const double> scores) {
  size_t best = 0;
  for (size_t i = 1; i < scores.size(); ++i) {
    if (scores[i] > scores[best]) best = i;
  }
  return best;
}

double Calibration::RawConfidence(std::span<const double> scores, size_t top, ScoreKind kind) {
  if (scores.empty()) return 0;
  return kind == ScoreKind::kSoftmax ? SoftmaxAt(scores, top, 1.0) : Sigmoid(scores[top]);
}

double Calibration::Probability(std::span<const double> scores, size_t index,
                                ScoreKind kind) const {
  if (scores.empty()) return 0;
  switch (method_) {
    case CalibrationMethod::kTemperature: {
      const double beta = 1.0 / temperature_;
      return kind == ScoreKind::kSoftmax ? SoftmaxAt(scores, index, beta)
                                         : Sigmoid(scores[index] * beta);
    }
    case CalibrationMethod::kIsotonic:
      return Interpolate(points_, RawConfidence(scores, index, kind));
    case CalibrationMethod::kNone:
      break;
  }
  return RawConfidence(scores, index, kind);
}

double Calibration::Confidence(std::span<const double> scores, size_t top, ScoreKind kind) const {
  return Probability(scores, top, kind);
}

std::string Calibration::ToJson() const {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject().Field("method", CalibrationMethodName(method_));
  if (method_ == CalibrationMethod::kTemperature) w.Field("temperature", temperature_);
  if (method_ == CalibrationMethod::kIsotonic) {
    w.Key("points").BeginArray();
    for (const auto& [x, y] : points_) w.BeginArray().Double(x).Double(y).EndArray();
    w.EndArray();
  }
  w.EndObject();
  return out;
}

core::Result<Calibration> Calibration::FromJson(std::string_view json) {
  const auto bad = [](const std::string& why) {
    return core::InvalidArgument("calibration JSON: " + why);
  };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(simdjson::padded_string(json)).get(doc) != simdjson::SUCCESS) {
    return bad("not valid JSON");
  }
  std::string_view method;
  if (doc["method"].get_string().get(method) != simdjson::SUCCESS) {
    return bad("missing string field \"method\"");
  }
  if (method == "none") return Calibration();
  if (method == "temperature") {
    double t = 0;
    if (doc["temperature"].get_double().get(t) != simdjson::SUCCESS || !(t > 0)) {
      return bad("\"temperature\" must be a positive number");
    }
    return Temperature(t);
  }
  if (method == "isotonic") {
    simdjson::dom::array arr;
    if (doc["points"].get_array().get(arr) != simdjson::SUCCESS) {
      return bad("\"points\" must be an array of [x, y] pairs");
    }
    std::vector<std::pair<double, double>> points;
    for (simdjson::dom::element p : arr) {
      simdjson::dom::array pair;
      double x = 0;
      double y = 0;
      if (p.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2 ||
          pair.at(0).get_double().get(x) != simdjson::SUCCESS ||
          pair.at(1).get_double().get(y) != simdjson::SUCCESS) {
        return bad("\"points\" must be an array of [x, y] pairs");
      }
      points.emplace_back(x, y);
    }
    return Isotonic(std::move(points));
  }
  return bad("unknown method \"" + std::string(method) + "\"");
}

core::Result<Calibration> FitTemperature(const std::vector<ScoredExample>& examples,
                                         ScoreKind kind) {
  const bool any = std::any_of(examples.begin(), examples.end(),
                               [](const ScoredExample& e) { return e.label >= 0; });
  if (!any) return core::InvalidArgument("calibration needs at least one held-out label");
  // The NLL is convex in beta = 1/T for softmax scores (log-sum-exp of a
  // linear function minus a linear term), so golden-section search finds the
  // minimum of the bracket.
  double lo = 1.0 / 20;
  double hi = 20;
  const double inv_phi = (std::sqrt(5.0) - 1) / 2;
  double a = hi - inv_phi * (hi - lo);
  double b = lo + inv_phi * (hi - lo);
  double fa = MeanNll(examples, kind, a);
  double fb = MeanNll(examples, kind, b);
  for (int i = 0; i < 80 && hi - lo > 1e-6; ++i) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - inv_phi * (hi - lo);
      fa = MeanNll(examples, kind, a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + inv_phi * (hi - lo);
      fb = MeanNll(examples, kind, b);
    }
  }
  return Calibration::Temperature(1.0 / ((lo + hi) / 2));
}

core::Result<Calibration> FitIsotonic(const std::vector<ScoredExample>& examples, ScoreKind kind) {
  std::vector<std::pair<double, double>> xy;  // (raw confidence, correct)
  for (const auto& e : examples) {
    if (e.scores.empty()) continue;
    const size_t top = ArgMax(e.scores);
    xy.emplace_back(Calibration::RawConfidence(e.scores, top, kind),
                    static_cast<int>(top) == e.label ? 1.0 : 0.0);
  }
  if (xy.empty()) return core::InvalidArgument("calibration needs at least one held-out label");
  std::sort(xy.begin(), xy.end());
  struct Block {
    double sum_x = 0;
    double sum_y = 0;
    double n = 0;
    double Mean() const { return sum_y / n; }
  };
  std::vector<Block> blocks;
  for (size_t i = 0; i < xy.size();) {
    Block b;
    const double x = xy[i].first;
    for (; i < xy.size() && xy[i].first == x; ++i) {  // equal confidences pool at once
      b.sum_x += xy[i].first;
      b.sum_y += xy[i].second;
      b.n += 1;
    }
    blocks.push_back(b);
    while (blocks.size() >= 2 && blocks[blocks.size() - 2].Mean() >= blocks.back().Mean()) {
      Block last = blocks.back();
      blocks.pop_back();
      blocks.back().sum_x += last.sum_x;
      blocks.back().sum_y += last.sum_y;
      blocks.back().n += last.n;
    }
  }
  std::vector<std::pair<double, double>> points;
  points.reserve(blocks.size());
  for (const auto& b : blocks) points.emplace_back(b.sum_x / b.n, b.Mean());
  return Calibration::Isotonic(std::move(points));
}

core::Result<Calibration> FitCalibration(CalibrationMethod method,
                                         const std::vector<ScoredExample>& examples,
                                         ScoreKind kind) {
  switch (method) {
    case CalibrationMethod::kTemperature:
      return FitTemperature(examples, kind);
    case CalibrationMethod::kIsotonic:
      return FitIsotonic(examples, kind);
    case CalibrationMethod::kNone:
      break;
  }
  return Calibration();
}

double ExpectedCalibrationError(std::span<const double> confidence,
                                const std::vector<bool>& correct, int bins) {
  if (confidence.empty() || bins <= 0) return 0;
  std::vector<double> sum_conf(bins, 0);
  std::vector<double> sum_correct(bins, 0);
  std::vector<double> count(bins, 0);
  for (size_t i = 0; i < confidence.size(); ++i) {
    int b = static_cast<int>(confidence[i] * bins);
    b = std::clamp(b, 0, bins - 1);
    sum_conf[b] += confidence[i];
    sum_correct[b] += correct[i] ? 1 : 0;
    count[b] += 1;
  }
  double ece = 0;
  const auto total = static_cast<double>(confidence.size());
  for (int b = 0; b < bins; ++b) {
    if (count[b] == 0) continue;
    ece += count[b] / total * std::abs(sum_correct[b] / count[b] - sum_conf[b] / count[b]);
  }
  return ece;
}

}  // namespace switchyard::learn
