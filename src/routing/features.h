// Feature extraction for router models: a query (and for cascades the weak
// model's answer) becomes a sparse vector in a hashed space of 2^hash_bits
// dimensions. Every feature is named ("w:the", "subj:anatomy", "a:arith_wrong")
// and hashed with 64-bit FNV-1a, so the layout needs no vocabulary file and
// the same code runs at training and at serving time.
//
// What is read: the prompt, the optional subject/task label, the weak
// response and its token logprobs. Never the outcome columns or the strong
// model's response (they are not part of RouterInput).
//
// Pure functions, thread-safe; allocation only for the output vector.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::routing {

enum class RouterKind {
  kPrompt,   // decides from the request alone
  kCascade,  // decides after reading the weak model's answer
};

// Everything a router may look at for one request. Views must outlive the call.
struct RouterInput {
  std::string_view prompt;
  std::optional<std::string_view> subject;        // task or subject label, when known
  std::optional<std::string_view> weak_response;  // required by cascade models
  std::span<const double> weak_logprobs;          // token logprobs of weak_response; may be empty
};

struct FeatureOptions {
  int hash_bits = 16;      // hashed space: 2^hash_bits dimensions (10..24)
  int word_ngrams = 2;     // prompt word n-grams 1..word_ngrams (0 = none)
  int char_ngram_min = 0;  // prompt character n-grams char_ngram_min..max (0 = none)
  int char_ngram_max = 0;
  // Scale of each group; each text group is L2-normalised first.
  double word_weight = 1.0;
  double char_weight = 1.0;
  double subject_weight = 1.0;
  double structure_weight = 1.0;  // length, numbers, code, LaTeX, options A-D, ...
  // Structure features conjoined with the subject ("subj:law|p:chars=5"), so
  // their effect can differ by subject (0 = none; needs a subject).
  double subject_structure_weight = 0.0;
  // Features of the multiple-choice options in the prompt: roman-numeral
  // combinations, "all/none of the above", yes/no and true/false options,
  // option length spread, words per option, units and formulas, overlap
  // between options, stem against options length (0 = none).
  double option_weight = 0.0;
  // When not 0: the word n-grams of the option lines form their own group
  // ("ow:", L2-normalised, this weight) apart from the stem's ("w:").
  double option_words_weight = 0.0;
  // Cascade models only.
  double answer_weight = 1.0;          // checks on the weak answer (final answer, arithmetic...)
  double answer_words_weight = 1.0;    // word n-grams of the weak answer (0 = none)
  int answer_word_ngrams = 1;          // ... 1..answer_word_ngrams
  double cascade_prompt_weight = 1.0;  // scale of all prompt features in a cascade model
  // Further plausibility checks on the weak answer: a fractional count, a
  // final number out of reach of the prompt's numbers, final answers stated
  // inconsistently, looping text, too few steps for the numbers given (0 = none).
  double answer_extra_weight = 0.0;
  // Word n-grams of the weak answer's last two non-empty lines as a group of
  // their own ("rt:"), besides those of the whole answer (0 = none).
  double answer_tail_words_weight = 0.0;
};

// One sparse vector: (index, value) pairs sorted by index, indices unique.
using SparseVector = std::vector<std::pair<uint32_t, float>>;

// The features of `input` for a model of `kind`. A cascade without
// weak_response gets only its prompt features (the caller checks for that).
SparseVector ExtractFeatures(RouterKind kind, const FeatureOptions& options,
                             const RouterInput& input);

// The hashed index of a feature name (exposed for tests).
uint32_t FeatureIndex(std::string_view name, int hash_bits);

}  // namespace switchyard::routing
