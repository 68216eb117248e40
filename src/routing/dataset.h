// Routing data sets: per-query outcomes of a weak and a strong model, and the
// score files a router writes.
//
// Data CSV columns (any order, extra columns ignored):
//   id, prompt                      always
//   weak_correct, strong_correct    0/1, when outcomes are needed (train, eval)
//   weak_response                   the weak model's answer (cascade models)
//   subject                         optional task or subject label
//   weak_logprobs                   optional token logprobs of weak_response,
//                                   numbers separated by spaces, commas or
//                                   semicolons, optionally in [brackets]
// Never read by any feature: strong_response (it may be present; it is skipped).
//
// Scores CSV: `id,score`, higher meaning "call the strong model".
//
// Pure functions, thread-safe. Every error is kInvalidArgument with one line
// naming the file and, for a bad value, the line and the column.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::routing {

struct RoutingExample {
  std::string id;
  std::string prompt;
  std::optional<std::string> subject;
  std::optional<std::string> weak_response;
  std::vector<double> weak_logprobs;  // empty when the column is absent or blank
  int weak_correct = 0;               // 0/1; only meaningful when loaded with outcomes
  int strong_correct = 0;
};

// Outcome of one query: whether each model answered correctly.
struct Outcome {
  bool weak_correct = false;
  bool strong_correct = false;
};

struct LoadOptions {
  bool need_prompt = true;          // require prompt (evaluation does not need it)
  bool need_outcomes = true;        // require weak_correct and strong_correct
  bool need_weak_response = false;  // require weak_response (cascade models)
};

// Errors:
//   "<name>: empty file"
//   "<name>: missing column 'weak_correct'"
//   "<name>: no data rows"
//   "<name>:<line>: bad value 'x' in column 'weak_correct' (expected 0 or 1)"
//   "<name>:<line>: bad value 'x' in column 'weak_logprobs' (expected numbers)"
//   "<name>:<line>: empty id"
//   "<name>:<line>: duplicate id 'x'"
//   plus core/csv.h's errors ("unterminated quoted field", field counts, ...)
//   and, for Load*, "<path>: cannot read file (<reason>)".
core::Result<std::vector<RoutingExample>> ParseRoutingCsv(std::string_view text,
                                                          std::string_view name,
                                                          const LoadOptions& options);
core::Result<std::vector<RoutingExample>> LoadRoutingCsv(const std::string& path,
                                                         const LoadOptions& options);

std::vector<Outcome> Outcomes(const std::vector<RoutingExample>& examples);

struct ScoredId {
  std::string id;
  double score = 0;
};

// Errors as above for columns `id` and `score` ("expected a number"; NaN and
// infinities are rejected), plus duplicates.
core::Result<std::vector<ScoredId>> ParseScoresCsv(std::string_view text, std::string_view name);
core::Result<std::vector<ScoredId>> LoadScoresCsv(const std::string& path);

// Returns the score of every example, in example order.
// Error: "<scores_name>: no score for id 'x'" (the first example without one).
core::Result<std::vector<double>> AlignScores(const std::vector<RoutingExample>& examples,
                                              const std::vector<ScoredId>& scores,
                                              std::string_view scores_name);

// Renders `id,score` CSV with a header line and full double precision.
std::string RenderScoresCsv(const std::vector<ScoredId>& scores);

// Parses a logprob list ("-0.1 -2.3", "[-0.1, -2.3]"). nullopt on a bad number.
std::optional<std::vector<double>> ParseLogprobs(std::string_view text);
// The list as ParseLogprobs reads it: numbers separated by spaces, each with
// 9 significant digits ("" for none).
std::string FormatLogprobs(const std::vector<double>& logprobs);

}  // namespace switchyard::routing
