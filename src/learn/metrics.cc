#include "learn/metrics.h"

#include <algorithm>

#include "core/json_writer.h"

namespace switchyard::learn {

ConfusionMatrix::ConfusionMatrix(const std::vector<std::string>& labels) {
  for (auto& l : labels) Index(l);
}

size_t ConfusionMatrix::Index(std::string_view label) {
  const std::string name = label.empty() ? "(none)" : std::string(label);
  for (size_t i = 0; i < labels_.size(); ++i) {
    if (labels_[i] == name) return i;
  }
  labels_.push_back(name);
  for (auto& row : counts_) row.push_back(0);
  counts_.emplace_back(labels_.size(), 0);
  return labels_.size() - 1;
}

void ConfusionMatrix::Add(std::string_view teacher, std::string_view student, uint64_t n) {
  const size_t t = Index(teacher);
  const size_t s = Index(student);
  counts_[t][s] += n;
}

uint64_t ConfusionMatrix::Total() const {
  uint64_t total = 0;
  for (const auto& row : counts_) {
    for (uint64_t c : row) total += c;
  }
  return total;
}

uint64_t ConfusionMatrix::Agreed() const {
  uint64_t agreed = 0;
  for (size_t i = 0; i < counts_.size(); ++i) agreed += counts_[i][i];
  return agreed;
}

std::string ConfusionMatrix::RenderText() const {
  const std::string corner = "teacher \\ student";
  size_t first = corner.size();
  for (const auto& l : labels_) first = std::max(first, l.size());
  std::vector<size_t> widths;
  for (size_t j = 0; j < labels_.size(); ++j) {
    size_t w = labels_[j].size();
    for (const auto& row : counts_) w = std::max(w, std::to_string(row[j]).size());
    widths.push_back(w);
  }
  const auto pad_right = [](const std::string& s, size_t w) {
    return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  const auto pad_left = [](const std::string& s, size_t w) {
    return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
  };
  std::string out = pad_right(corner, first);
  for (size_t j = 0; j < labels_.size(); ++j) out += "  " + pad_left(labels_[j], widths[j]);
  out += "\n";
  for (size_t i = 0; i < labels_.size(); ++i) {
    out += pad_right(labels_[i], first);
    for (size_t j = 0; j < labels_.size(); ++j) {
      out += "  " + pad_left(std::to_string(counts_[i][j]), widths[j]);
    }
    out += "\n";
  }
  return out;
}

void ConfusionMatrix::WriteJson(core::JsonWriter& w) const {
  w.BeginObject().Key("labels").BeginArray();
  for (const auto& l : labels_) w.String(l);
  w.EndArray().Key("rows").BeginArray();
  for (const auto& row : counts_) {
    w.BeginArray();
    for (uint64_t c : row) w.Int(static_cast<int64_t>(c));
    w.EndArray();
  }
  w.EndArray().EndObject();
}

}  // namespace switchyard::learn
