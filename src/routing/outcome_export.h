// Shadow outcomes -> router training rows. A route sampled with
// shadow_sample (gateway/shadow.h) keeps both targets' answers for the same
// prompt (routing/outcome_store.h); with the strong answer as the reference,
// each row becomes an outcome row of the data CSV `router train` reads
// (routing/dataset.h): weak_correct says whether the weak answer agrees with
// the strong one, strong_correct is 1 (the reference is right by definition).
// A router trained on these rows learns "the weak model would have said the
// same", which is what routing from a frontier model's answers needs.
//
// Agreement rules (MatchRule):
//   number  the stated final answer ("#### 7", "The answer is 7", "Answer:
//           7", "\boxed{7}"), or a whole answer, that is one number: a sign,
//           "$", thousands separators, decimals, a fraction ("3/4",
//           "\frac{3}{4}"), "%" and up to three unit words ("18 dollars") are
//           allowed; a final answer with other words but exactly one
//           number ("#### Each child gets 9 eggs") counts unless it opens
//           with yes/no/true/false. Without a final answer or a number answer,
//           an answer that shows a computation ("= <number>" somewhere)
//           states the result of its last line with a number: the last
//           "a op b = c" there, else that line's last number. Equal within
//           1e-6 x max(1, |reference|). Worked arithmetic, counts, amounts.
//   choice  a multiple-choice letter A-J: a final answer or a whole answer
//           that is one letter ("Answer: (B)", "The answer is C", "b",
//           "**C**.") or opens with an option label ("B) Paris", "(B) Paris",
//           "B. Paris"; initials like "J. K." are not option labels).
//   exact   the whole answers, lower-cased, whitespace collapsed, surrounding
//           quotes, brackets and trailing punctuation removed. Labels, short
//           extractions.
//   auto    per row, from the strong answer: choice if the prompt lists
//           lettered options (PromptListsOptions) and the strong answer
//           states a letter, number if it states a number answer, else exact.
// A strong answer cut short (finish_reason "length" or "content_filter") is
// no reference: the row is skipped. A weak answer that states nothing the
// rule can read disagrees. Free-form generations (long prose) have no
// reliable rule here: exact agreement is then rare, such rows say "weak was
// wrong", and a router trained on them escalates. Such routes need a judge;
// see docs/CONFIG.md.
//
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "routing/dataset.h"
#include "routing/outcome_store.h"

namespace switchyard::routing {

enum class MatchRule { kAuto, kNumber, kChoice, kExact };

std::string_view MatchRuleName(MatchRule rule);
// Error (InvalidArgument): "unknown match rule 'x' (expected auto, number,
// choice or exact)".
core::Result<MatchRule> ParseMatchRule(std::string_view name);

// The keys the rules compare; nullopt when the answer states none.
std::optional<std::string> ChoiceKey(std::string_view answer);
std::optional<double> NumberKey(std::string_view answer);
std::string ExactKey(std::string_view answer);
// The prompt lists lettered options A and B: "A. x", "A) x" or "A: x"
// opening a line, or "(A) x" anywhere after a space (initials like "A. A.
// Milne" do not count).
bool PromptListsOptions(std::string_view prompt);

struct Agreement {
  MatchRule rule = MatchRule::kExact;  // the rule applied (never kAuto)
  // nullopt: the strong answer gives no reference under `rule` (empty, or no
  // number / letter where the rule needs one); the row is skipped.
  std::optional<bool> agree;
};
Agreement Judge(std::string_view weak, std::string_view strong, MatchRule rule,
                std::string_view prompt = "");

struct ExportStats {
  size_t rows = 0;          // exported
  size_t agreed = 0;        // of those, weak_correct = 1
  size_t no_reference = 0;  // skipped: the strong answer gives no reference
  size_t cut_off = 0;       // skipped: the strong answer was cut short (length, content_filter)
  size_t duplicates = 0;    // skipped: a request id seen before
  size_t by_number = 0;     // rows judged by each rule
  size_t by_choice = 0;
  size_t by_exact = 0;
  double shadow_cost_usd = 0;  // what the shadow calls of every loaded row cost
};

struct ExportedRow {
  RoutingExample example;  // id = request id; outcomes filled
  std::string strong_response;
  MatchRule rule = MatchRule::kExact;
};

// The rows with a reference, in store order.
std::vector<ExportedRow> ExportOutcomes(const std::vector<PairedOutcome>& outcomes, MatchRule rule,
                                        ExportStats* stats);

// The data CSV: id,prompt,subject,weak_correct,strong_correct,weak_response,
// weak_logprobs,strong_response,match (strong_response and match are for
// people; no feature reads them).
std::string RenderOutcomeCsv(const std::vector<ExportedRow>& rows);

}  // namespace switchyard::routing
