#include "learn/eval.h"

#include <cstdio>
#include <initializer_list>
#include <string_view>

#include "core/csv.h"
#include "core/json_writer.h"
#include "learn/calibration.h"
#include "learn/threshold.h"

namespace switchyard::learn {
namespace {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// Joins pieces (GCC 12 warns falsely, -Wrestrict, on `"literal" + std::string`).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

}  // namespace

core::Result<std::vector<Example>> LoadExamplesCsv(const std::string& path,
                                                   const std::string& text_column,
                                                   const std::string& label_column) {
  auto table = core::ReadCsvFile(path);
  if (!table.ok()) return table.take_status();
  auto text_col = table->RequireColumn(text_column);
  if (!text_col.ok()) return text_col.take_status();
  auto label_col = table->RequireColumn(label_column);
  if (!label_col.ok()) return label_col.take_status();
  if (table->rows.empty()) return core::InvalidArgument(path + ": no data rows");
  std::vector<Example> out;
  out.reserve(table->rows.size());
  for (size_t r = 0; r < table->rows.size(); ++r) {
    auto& row = table->rows[r];
    if (row[*label_col].empty()) return core::InvalidArgument(table->Where(r) + ": empty label");
    out.push_back({std::move(row[*text_col]), std::move(row[*label_col])});
  }
  return out;
}

EvalReport Evaluate(const Student& student, const std::vector<Example>& examples,
                    const std::vector<std::string>& labels) {
  EvalReport r;
  r.model = student.ModelName();
  r.examples = examples.size();
  r.threshold = student.threshold();
  r.confusion = ConfusionMatrix(labels.empty() ? student.labels() : labels);
  std::vector<double> conf;
  std::vector<bool> correct;
  conf.reserve(examples.size());
  correct.reserve(examples.size());
  size_t agreed = 0;
  for (const auto& e : examples) {
    const Prediction p = student.Predict(e.text);
    const bool ok = !p.label.empty() && p.label == e.label;
    agreed += ok ? 1 : 0;
    conf.push_back(p.confidence);
    correct.push_back(ok);
    r.confusion.Add(e.label, p.label);
    if (r.threshold && !p.label.empty() && p.confidence >= *r.threshold) {
      ++r.accepted;
      r.accepted_agreed += ok ? 1 : 0;
    }
  }
  if (r.examples > 0) {
    const auto n = static_cast<double>(r.examples);
    r.agreement = static_cast<double>(agreed) / n;
    r.coverage = static_cast<double>(r.accepted) / n;
    r.escalated = 1 - r.coverage;
    r.system_agreement = static_cast<double>(r.accepted_agreed + (r.examples - r.accepted)) / n;
  }
  if (r.accepted > 0) {
    r.accepted_agreement = static_cast<double>(r.accepted_agreed) / static_cast<double>(r.accepted);
    r.accepted_lower_bound = WilsonLowerBound(r.accepted_agreed, r.accepted);
  }
  r.ece = ExpectedCalibrationError(conf, correct);
  return r;
}

std::string RenderEvalText(const EvalReport& r) {
  std::string out;
  const auto line = [&out](std::string_view key, const std::string& value,
                           std::string_view note = {}) {
    out.append(key);
    out.append(key.size() < 20 ? 20 - key.size() : 1, ' ');
    out.append(value);
    if (!note.empty()) out.append("  ").append(note);
    out.push_back('\n');
  };
  line("model", r.model);
  line("examples", std::to_string(r.examples));
  line("agreement", Fixed(r.agreement, 4), "(top label, all examples)");
  line("threshold", r.threshold ? Fixed(*r.threshold, 4) : std::string("none (shadow)"));
  line("coverage", Fixed(r.coverage, 4),
       Cat({"(", std::to_string(r.accepted), " answered by the student)"}));
  line("accepted agreement", Fixed(r.accepted_agreement, 4),
       Cat({"(95% lower bound ", Fixed(r.accepted_lower_bound, 4), ")"}));
  line("system agreement", Fixed(r.system_agreement, 4),
       Cat({"(escalated ", Fixed(r.escalated, 4), ")"}));
  line("calibration error", Fixed(r.ece, 4), "(ECE, 10 bins)");
  out.push_back('\n');
  out.append(r.confusion.RenderText());
  return out;
}

std::string RenderEvalJson(const EvalReport& r) {
  std::string out;
  core::JsonWriter w(out);
  w.BeginObject()
      .Field("model", r.model)
      .Field("examples", static_cast<int64_t>(r.examples))
      .Field("agreement", r.agreement)
      .Key("threshold");
  if (r.threshold) {
    w.Double(*r.threshold);
  } else {
    w.Null();
  }
  w.Field("accepted", static_cast<int64_t>(r.accepted))
      .Field("coverage", r.coverage)
      .Field("accepted_agreement", r.accepted_agreement)
      .Field("accepted_lower_bound", r.accepted_lower_bound)
      .Field("system_agreement", r.system_agreement)
      .Field("escalated", r.escalated)
      .Field("ece", r.ece)
      .Key("confusion");
  r.confusion.WriteJson(w);
  w.EndObject();
  return out;
}

}  // namespace switchyard::learn
