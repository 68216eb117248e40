// Agreement metrics between a student and its teacher: the confusion matrix.
//
// Thread-safety: a plain value; not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::core {
class JsonWriter;
}

namespace switchyard::learn {

// Counts of (teacher label, student label) pairs. Rows are the teacher's
// labels, columns the student's, over the same label list; a label not in the
// list (or "" for "no prediction", shown as "(none)") is appended on first use.
class ConfusionMatrix {
 public:
  ConfusionMatrix() = default;
  explicit ConfusionMatrix(const std::vector<std::string>& labels);

  void Add(std::string_view teacher, std::string_view student, uint64_t n = 1);

  const std::vector<std::string>& labels() const { return labels_; }
  uint64_t At(size_t teacher, size_t student) const { return counts_[teacher][student]; }
  uint64_t Total() const;
  uint64_t Agreed() const;  // the diagonal

  // A table: one row per teacher label, "teacher \ student" in the corner.
  std::string RenderText() const;
  // {"labels":[...],"rows":[[...],...]}
  void WriteJson(core::JsonWriter& w) const;

 private:
  size_t Index(std::string_view label);

  std::vector<std::string> labels_;
  std::vector<std::vector<uint64_t>> counts_;
};

}  // namespace switchyard::learn
