// Helpers shared by the learn tests: a temporary directory and constructed
// data sets with known answers.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "learn/student.h"
#include "support/temp_dir.h"

namespace switchyard::learn::testing {

// A fresh directory, removed on destruction.
using TempDir = switchyard::testing::ScopedTempDir;

// Three labels, each announced by its own keyword among shared filler words:
// perfectly separable. Deterministic for a seed.
inline std::vector<Example> SeparableExamples(size_t n, uint32_t seed = 7) {
  static const char* kWords[] = {"market", "report", "today", "price", "level", "news",
                                 "week",   "early",  "trade", "close", "open",  "session"};
  static const char* kKeys[][2] = {{"soars", "up"}, {"slumps", "down"}, {"steady", "flat"}};
  std::mt19937 rng(seed);
  std::vector<Example> out;
  for (size_t i = 0; i < n; ++i) {
    const auto& key = kKeys[i % 3];
    std::string text;
    for (int w = 0; w < 4; ++w) {
      if (w == 2) text.append(key[0]).append(" ");
      text.append(kWords[rng() % 12]).append(" ");
    }
    // append(), not operator+: GCC 12 warns falsely (-Wrestrict) on "x" + std::string.
    text.append("#").append(std::to_string(i));
    out.push_back({text, key[1]});
  }
  return out;
}

// Labels independent of the text (fair coin over two labels): no student can
// agree with this teacher beyond chance.
inline std::vector<Example> NoiseExamples(size_t n, uint32_t seed = 11) {
  std::mt19937 rng(seed);
  std::vector<Example> out;
  for (size_t i = 0; i < n; ++i) {
    std::string text = "item ";
    text.append(std::to_string(rng() % 50)).append(" code ").append(std::to_string(rng() % 50));
    out.push_back({text, (rng() & 1) != 0 ? "yes" : "no"});
  }
  return out;
}

}  // namespace switchyard::learn::testing
