// Evaluating a student against teacher labels from a CSV (id,text,label):
// what share it agrees with, how much it would answer at its threshold, how
// well that goes, and how calibrated its confidence is.
//
// Thread-safety: pure functions (Evaluate only calls the student's const
// methods).
// Errors from LoadExamplesCsv (InvalidArgument): the CSV reader's errors
// (core/csv.h), "<path>: missing column '<c>'", "<path>:<line>: empty label",
// "<path>: no data rows".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "learn/metrics.h"
#include "learn/student.h"

namespace switchyard::learn {

core::Result<std::vector<Example>> LoadExamplesCsv(const std::string& path,
                                                   const std::string& text_column = "text",
                                                   const std::string& label_column = "label");

struct EvalReport {
  std::string model;  // Student::ModelName()
  size_t examples = 0;
  std::optional<double> threshold;  // the student's
  double agreement = 0;             // top label == teacher, all examples
  size_t accepted = 0;              // confidence >= threshold
  size_t accepted_agreed = 0;
  double coverage = 0;              // accepted / examples
  double accepted_agreement = 0;    // accepted_agreed / accepted (0 when none)
  double accepted_lower_bound = 0;  // its Wilson 95% lower bound
  // The served answers' agreement: the student's label where accepted, the
  // teacher's own answer (agreeing by definition) where escalated.
  double system_agreement = 0;
  double escalated = 0;       // 1 - coverage
  double ece = 0;             // calibrated confidence, 10 bins, all examples
  ConfusionMatrix confusion;  // teacher x student, all examples
};

// `labels` orders the confusion matrix (empty: the student's labels).
EvalReport Evaluate(const Student& student, const std::vector<Example>& examples,
                    const std::vector<std::string>& labels = {});

std::string RenderEvalText(const EvalReport& report);
std::string RenderEvalJson(const EvalReport& report);

}  // namespace switchyard::learn
