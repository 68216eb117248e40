// RouterModel: a trained router. Score(input) -> a number, higher meaning
// "call the strong model". Linear models over hashed features (features.h),
// trained with liblinear, stored in our own versioned text format.
//
// What is learned (TrainOptions::target, see docs/ARCHITECTURE.md):
//   kBenefit    ridge regression of strong_correct - weak_correct (-1/0/+1):
//               the expected accuracy gained by calling the strong model,
//               which is what the RouteLLM metrics reward;
//   kDifference two logistic models, P(strong correct) - P(weak correct);
//   kWeakWrong  logistic P(weak wrong) (ignores whether strong would do better).
//   kDiscordant two logistic models of the pairs where the models disagree,
//               P(strong right, weak wrong) - P(weak right, strong wrong): the
//               same expectation as kDifference, with the rows both models get
//               right or wrong as negatives of both heads.
//   kRank       pairwise logistic ranking: for sampled pairs of rows with
//               different strong_correct - weak_correct, which gains more
//               (one identity head; the score orders rows, its scale is arbitrary).
//
// Model file (text, one item per line):
//   switchyard-router 1|2      (2 only when one of the extra_weights is not 0,
//                               so models of the defaults stay version 1)
//   kind prompt|cascade
//   target benefit|difference|weak_wrong|discordant|rank
//   hash_bits 18
//   word_ngrams <prompt n> <answer n>
//   char_ngrams 0 0
//   weights <word> <char> <subject> <structure> <subject_structure> <answer>
//           <answer_words> <cascade_prompt>
//   extra_weights <option> <option_words> <answer_extra> <answer_tail_words>
//                 (version 2 only)
//   heads <n>
//   head identity|logistic <sign +1|-1> <bias> <nnz>
//   <index> <weight>            (nnz lines)
//   ... (one head block per head)
//   end
//
// Ownership: a RouterModel owns its weights (a few MB); share it across threads
// as shared_ptr<const RouterModel>. Every const method is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "routing/dataset.h"
#include "routing/features.h"

namespace switchyard::routing {

enum class Target { kBenefit, kDifference, kWeakWrong, kDiscordant, kRank };

struct TrainOptions {
  RouterKind kind = RouterKind::kPrompt;
  Target target = Target::kBenefit;
  double c = 0.1;  // inverse L2 regularisation strength (liblinear's C)
  // > 0: each logistic head sees every feature scaled by its log-count ratio
  // between the head's positive and negative training rows, smoothed by this
  // alpha (NBSVM, Wang & Manning 2012); the ratios are folded into the learned
  // weights, so the model file and scoring are unchanged. 0 (default): off.
  double nb_alpha = 0;
  FeatureOptions features;
};

// Defaults that did best in 5-fold cross-validation on the RouteLLM data
// (bench/router_cv.cc): prompt routers on MMLU, cascades on GSM8K.
TrainOptions DefaultTrainOptions(RouterKind kind);

std::string_view RouterKindName(RouterKind kind);
std::string_view TargetName(Target target);
// Errors: "unknown router kind 'x' (expected prompt or cascade)",
// "unknown target 'x' (expected benefit, difference, weak_wrong, discordant or rank)".
core::Result<RouterKind> ParseRouterKind(std::string_view name);
core::Result<Target> ParseTarget(std::string_view name);

class RouterModel {
 public:
  // Trains on `examples` (outcomes required; cascades need weak_response).
  // Errors (kInvalidArgument): "no training rows"; "hash_bits must be between
  // 10 and 24"; "row '<id>' has no weak_response (a cascade model needs it)";
  // for kRank "no pair of rows with different outcomes".
  static core::Result<RouterModel> Train(const std::vector<RoutingExample>& examples,
                                         const TrainOptions& options);

  // Errors (kInvalidArgument), each starting with `name`:
  //   "<name>: empty file"
  //   "<name>: not a switchyard router model (first line 'x')"
  //   "<name>: unsupported model version 3 (this build reads versions 1 to 2)"
  //   "<name>:<line>: expected '<key> ...', found 'x'"
  //   "<name>:<line>: bad value 'x' for '<key>'"
  //   "<name>:<line>: weight index 300000 out of range (hash_bits 18)"
  //   "<name>: truncated (missing 'end')"
  static core::Result<RouterModel> Parse(std::string_view text, std::string_view name);
  // As Parse; "<path>: cannot read file (<reason>)" when it cannot be read.
  static core::Result<RouterModel> Load(const std::string& path);

  std::string Serialize() const;
  // Error: "<path>: cannot write file".
  core::Status Save(const std::string& path) const;

  // The score of one request. Cascade models need input.weak_response:
  // error (kInvalidArgument) "a cascade model needs the weak model's response".
  // Allocation: one feature vector; no locks.
  core::Result<double> Score(const RouterInput& input) const;
  // Scores rows of a data set (weak_response and weak_logprobs are used by
  // cascade models); errors name the row id.
  core::Result<std::vector<double>> ScoreAll(const std::vector<RoutingExample>& examples) const;

  RouterKind kind() const { return options_.kind; }
  Target target() const { return options_.target; }
  const TrainOptions& options() const { return options_; }

  struct Head {
    bool logistic = false;
    double sign = 1;
    double bias = 0;
    std::vector<float> weights;  // 2^hash_bits entries
  };

 private:
  RouterModel() = default;
  double ScoreFeatures(const SparseVector& x) const;

  TrainOptions options_;
  std::vector<Head> heads_;
};

// A RouterInput view of a data-set row.
RouterInput InputOf(const RoutingExample& example);

}  // namespace switchyard::routing
