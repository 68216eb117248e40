// Small generated routing data sets for the routing tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "routing/dataset.h"
#include "support/temp_dir.h"

namespace switchyard::routing::testing {

// `n` rows. A third of the prompts mention a "proof" (the weak model fails,
// the strong one succeeds); the rest are "lookup" questions both get right,
// except every 7th, which both get wrong. Cascade rows carry a weak response:
// correct answers end "#### <n>", wrong ones show a broken sum and no final.
inline std::vector<RoutingExample> Generated(int n) {
  std::vector<RoutingExample> out;
  for (int i = 0; i < n; ++i) {
    RoutingExample ex;
    ex.id = std::string("q").append(std::to_string(i));
    const bool hard = i % 3 == 0;
    const bool both_wrong = !hard && i % 7 == 0;
    ex.prompt =
        hard ? std::string("Write a proof that sequence ").append(std::to_string(i))
             : std::string("Look up the capital of country number ").append(std::to_string(i));
    ex.prompt += hard ? " converges." : ".";
    ex.subject = hard ? "mathematics" : "geography";
    ex.weak_correct = hard || both_wrong ? 0 : 1;
    ex.strong_correct = both_wrong ? 0 : 1;
    ex.weak_response = ex.weak_correct ? "It is 3 + 4 = 7.\n#### 7"
                                       : "It is 3 + 4 = 8 so we can set up the following";
    out.push_back(std::move(ex));
  }
  return out;
}

inline std::string ToCsv(const std::vector<RoutingExample>& rows, bool with_response) {
  std::string out = "id,subject,prompt,weak_correct,strong_correct";
  out += with_response ? ",weak_response\n" : "\n";
  auto quote = [](const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  for (const auto& r : rows) {
    out += r.id + "," + r.subject.value_or("") + "," + quote(r.prompt) + "," +
           std::to_string(r.weak_correct) + "," + std::to_string(r.strong_correct);
    if (with_response) out += "," + quote(r.weak_response.value_or(""));
    out += "\n";
  }
  return out;
}

// A fresh directory, removed on destruction.
using TempDir = switchyard::testing::ScopedTempDir;

}  // namespace switchyard::routing::testing
