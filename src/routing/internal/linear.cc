#include "routing/internal/linear.h"

#include <linear.h>

#include <cmath>
#include <memory>

namespace switchyard::routing::internal {
namespace {

void Silent(const char*) {}

struct ModelDeleter {
  void operator()(model* m) const { free_and_destroy_model(&m); }
};

}  // namespace

core::Result<LinearFit> TrainLinear(const std::vector<const SparseVector*>& xs,
                                    const std::vector<double>& labels, uint32_t dimensions,
                                    Loss loss, double c) {
  if (xs.empty()) return core::InvalidArgument("no training rows");
  if (xs.size() != labels.size()) return core::InvalidArgument("one label per row is needed");
  LinearFit fit;
  fit.weights.assign(dimensions, 0.0f);

  if (loss == Loss::kLogistic) {
    // A single class: liblinear cannot fit it; the answer is a constant.
    double positives = 0;
    for (double y : labels) positives += y > 0.5 ? 1 : 0;
    if (positives == 0 || positives == static_cast<double>(labels.size())) {
      const double n = static_cast<double>(labels.size());
      const double p = (positives + 0.5) / (n + 1);
      fit.bias = std::log(p / (1 - p));
      return fit;
    }
  }

  // liblinear wants 1-based indices, a bias column and a -1 terminator.
  std::vector<feature_node> nodes;
  size_t total = 0;
  for (const auto* x : xs) total += x->size() + 2;
  nodes.reserve(total);
  std::vector<size_t> offsets;
  offsets.reserve(xs.size());
  for (const auto* x : xs) {
    offsets.push_back(nodes.size());
    for (const auto& [index, value] : *x) {
      nodes.push_back({static_cast<int>(index) + 1, static_cast<double>(value)});
    }
    nodes.push_back({static_cast<int>(dimensions) + 1, 1.0});  // bias
    nodes.push_back({-1, 0.0});
  }
  std::vector<feature_node*> rows;
  rows.reserve(xs.size());
  for (size_t off : offsets) rows.push_back(nodes.data() + off);
  std::vector<double> y(labels);
  if (loss == Loss::kLogistic) {
    for (double& v : y) v = v > 0.5 ? 1 : -1;
  }

  problem prob{};
  prob.l = static_cast<int>(xs.size());
  prob.n = static_cast<int>(dimensions) + 1;
  prob.y = y.data();
  prob.x = rows.data();
  prob.bias = -1;  // the bias column is already in the rows

  parameter param{};
  param.solver_type = loss == Loss::kLogistic ? L2R_LR : L2R_L2LOSS_SVR;
  param.C = c;
  param.eps = loss == Loss::kLogistic ? 0.01 : 0.001;
  param.p = 0;  // squared loss without an insensitive zone
  param.nr_weight = 0;
  param.weight_label = nullptr;
  param.weight = nullptr;
  param.init_sol = nullptr;

  set_print_string_function(&Silent);
  if (const char* err = check_parameter(&prob, &param); err != nullptr) {
    return core::Internal(std::string("liblinear: ") + err);
  }
  std::unique_ptr<model, ModelDeleter> m(train(&prob, &param));
  if (!m) return core::Internal("liblinear: training failed");
  // For classification, w scores label[0]; make it score label +1.
  double sign = 1;
  if (loss == Loss::kLogistic && m->nr_class == 2 && m->label[0] != 1) sign = -1;
  for (uint32_t i = 0; i < dimensions; ++i) {
    fit.weights[i] = static_cast<float>(sign * m->w[i]);
  }
  fit.bias = sign * m->w[dimensions];
  return fit;
}

}  // namespace switchyard::routing::internal
