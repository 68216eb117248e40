// Adapter around liblinear (Debian liblinear-dev): trains one L2-regularised
// linear model on sparse vectors and returns its weights as plain numbers.
// liblinear's global print hook is set to silence once per call; nothing else
// of the library leaks out of this file.
//
// Thread-compatible: liblinear keeps no state between calls except the print
// hook, which every call sets to the same no-op.
#pragma once

#include <vector>

#include "core/status.h"
#include "routing/features.h"

namespace switchyard::routing::internal {

enum class Loss {
  kLogistic,  // labels 0/1; the result is the log-odds of 1
  kSquared,   // real-valued labels; ridge regression
};

struct LinearFit {
  std::vector<float> weights;  // dense, one per feature index
  double bias = 0;
};

// Errors: kInvalidArgument when xs is empty or sizes differ; kInternal when
// liblinear rejects the parameters.
core::Result<LinearFit> TrainLinear(const std::vector<const SparseVector*>& xs,
                                    const std::vector<double>& labels, uint32_t dimensions,
                                    Loss loss, double c);

}  // namespace switchyard::routing::internal
