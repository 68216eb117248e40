#include "routing/dataset.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/csv.h"

namespace switchyard::routing {
namespace {

std::optional<size_t> ColumnIndex(const std::vector<std::string>& header, std::string_view col) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == col) return i;
  }
  return std::nullopt;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<double> ParseDouble(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::string BadValue(std::string_view name, size_t line, std::string_view value,
                     std::string_view column, std::string_view expected) {
  std::string shown(value.substr(0, 40));
  if (value.size() > 40) shown += "...";
  for (char& c : shown) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::string(name) + ":" + std::to_string(line) + ": bad value '" + shown +
         "' in column '" + std::string(column) + "' (expected " + std::string(expected) + ")";
}

}  // namespace

std::optional<std::vector<double>> ParseLogprobs(std::string_view text) {
  std::vector<double> out;
  text = Trim(text);
  if (!text.empty() && text.front() == '[') {
    if (text.back() != ']') return std::nullopt;
    text = text.substr(1, text.size() - 2);
  }
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == ';' ||
                               text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
    if (i >= text.size()) break;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != ',' && text[j] != ';' &&
           text[j] != '\t' && text[j] != '\n' && text[j] != '\r') {
      ++j;
    }
    auto v = ParseDouble(text.substr(i, j - i));
    if (!v) return std::nullopt;
    out.push_back(*v);
    i = j;
  }
  return out;
}

std::string FormatLogprobs(const std::vector<double>& logprobs) {
  std::string out;
  char buf[32];
  for (double lp : logprobs) {
    std::snprintf(buf, sizeof buf, "%s%.9g", out.empty() ? "" : " ", lp);
    out += buf;
  }
  return out;
}

core::Result<std::vector<RoutingExample>> ParseRoutingCsv(std::string_view text,
                                                          std::string_view name,
                                                          const LoadOptions& options) {
  auto table = core::ParseCsv(text, name);
  if (!table.ok()) return table.take_status();
  const std::string prefix(name);
  std::vector<std::string> required = {"id"};
  if (options.need_prompt) required.push_back("prompt");
  if (options.need_outcomes) {
    required.push_back("weak_correct");
    required.push_back("strong_correct");
  }
  if (options.need_weak_response) required.push_back("weak_response");
  for (const auto& col : required) {
    if (!ColumnIndex(table->header, col)) {
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation): runs once, then returns
      return core::InvalidArgument(prefix + ": missing column '" + col + "'");
    }
  }
  if (table->rows.empty()) return core::InvalidArgument(prefix + ": no data rows");

  const size_t id_col = *ColumnIndex(table->header, "id");
  const auto prompt_col = ColumnIndex(table->header, "prompt");
  const auto weak_col = ColumnIndex(table->header, "weak_correct");
  const auto strong_col = ColumnIndex(table->header, "strong_correct");
  const auto response_col = ColumnIndex(table->header, "weak_response");
  const auto subject_col = ColumnIndex(table->header, "subject");
  const auto logprob_col = ColumnIndex(table->header, "weak_logprobs");

  std::vector<RoutingExample> out;
  out.reserve(table->rows.size());
  std::unordered_set<std::string> seen;
  for (size_t r = 0; r < table->rows.size(); ++r) {
    auto& row = table->rows[r];
    const size_t line = table->row_lines[r];
    RoutingExample ex;
    ex.id = std::move(row[id_col]);
    if (Trim(ex.id).empty()) {
      return core::InvalidArgument(prefix + ":" + std::to_string(line) + ": empty id");
    }
    if (!seen.insert(ex.id).second) {
      return core::InvalidArgument(prefix + ":" + std::to_string(line) + ": duplicate id '" +
                                   ex.id + "'");
    }
    if (prompt_col) ex.prompt = std::move(row[*prompt_col]);
    if (options.need_outcomes) {
      for (auto [col, dest, col_name] :
           {std::tuple{*weak_col, &ex.weak_correct, "weak_correct"},
            std::tuple{*strong_col, &ex.strong_correct, "strong_correct"}}) {
        const std::string_view v = Trim(row[col]);
        if (v == "0" || v == "1") {
          *dest = v == "1" ? 1 : 0;
        } else if (v == "True" || v == "true" || v == "False" || v == "false") {
          *dest = (v[0] == 'T' || v[0] == 't') ? 1 : 0;
        } else {
          return core::InvalidArgument(BadValue(name, line, row[col], col_name, "0 or 1"));
        }
      }
    }
    if (response_col) ex.weak_response = std::move(row[*response_col]);
    if (subject_col && !Trim(row[*subject_col]).empty()) {
      ex.subject = std::string(Trim(row[*subject_col]));
    }
    if (logprob_col && !Trim(row[*logprob_col]).empty()) {
      auto lp = ParseLogprobs(row[*logprob_col]);
      if (!lp) {
        return core::InvalidArgument(
            BadValue(name, line, row[*logprob_col], "weak_logprobs", "numbers"));
      }
      ex.weak_logprobs = std::move(*lp);
    }
    out.push_back(std::move(ex));
  }
  return out;
}

core::Result<std::vector<RoutingExample>> LoadRoutingCsv(const std::string& path,
                                                         const LoadOptions& options) {
  auto text = core::ReadTextFile(path);
  if (!text.ok()) return text.take_status();
  return ParseRoutingCsv(*text, path, options);
}

std::vector<Outcome> Outcomes(const std::vector<RoutingExample>& examples) {
  std::vector<Outcome> out;
  out.reserve(examples.size());
  for (const auto& ex : examples) out.push_back({ex.weak_correct == 1, ex.strong_correct == 1});
  return out;
}

core::Result<std::vector<ScoredId>> ParseScoresCsv(std::string_view text, std::string_view name) {
  auto table = core::ParseCsv(text, name);
  if (!table.ok()) return table.take_status();
  const std::string prefix(name);
  for (const char* col : {"id", "score"}) {
    if (!ColumnIndex(table->header, col)) {
      return core::InvalidArgument(prefix + ": missing column '" + col + "'");
    }
  }
  if (table->rows.empty()) return core::InvalidArgument(prefix + ": no data rows");
  const size_t id_col = *ColumnIndex(table->header, "id");
  const size_t score_col = *ColumnIndex(table->header, "score");
  std::vector<ScoredId> out;
  out.reserve(table->rows.size());
  std::unordered_set<std::string> seen;
  for (size_t r = 0; r < table->rows.size(); ++r) {
    const size_t line = table->row_lines[r];
    auto& row = table->rows[r];
    if (Trim(row[id_col]).empty()) {
      return core::InvalidArgument(prefix + ":" + std::to_string(line) + ": empty id");
    }
    auto v = ParseDouble(row[score_col]);
    if (!v) return core::InvalidArgument(BadValue(name, line, row[score_col], "score", "a number"));
    if (!seen.insert(row[id_col]).second) {
      return core::InvalidArgument(prefix + ":" + std::to_string(line) + ": duplicate id '" +
                                   row[id_col] + "'");
    }
    out.push_back({std::move(row[id_col]), *v});
  }
  return out;
}

core::Result<std::vector<ScoredId>> LoadScoresCsv(const std::string& path) {
  auto text = core::ReadTextFile(path);
  if (!text.ok()) return text.take_status();
  return ParseScoresCsv(*text, path);
}

core::Result<std::vector<double>> AlignScores(const std::vector<RoutingExample>& examples,
                                              const std::vector<ScoredId>& scores,
                                              std::string_view scores_name) {
  std::unordered_map<std::string_view, double> by_id;
  by_id.reserve(scores.size());
  for (const auto& s : scores) by_id.emplace(s.id, s.score);
  std::vector<double> out;
  out.reserve(examples.size());
  for (const auto& ex : examples) {
    auto it = by_id.find(ex.id);
    if (it == by_id.end()) {
      return core::InvalidArgument(std::string(scores_name) + ": no score for id '" + ex.id + "'");
    }
    out.push_back(it->second);
  }
  return out;
}

std::string RenderScoresCsv(const std::vector<ScoredId>& scores) {
  std::string out = "id,score\n";
  char buf[64];
  for (const auto& s : scores) {
    core::AppendCsvField(out, s.id);
    std::snprintf(buf, sizeof buf, ",%.17g\n", s.score);
    out += buf;
  }
  return out;
}

}  // namespace switchyard::routing
