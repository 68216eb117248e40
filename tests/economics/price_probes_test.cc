// Conformance: for ~3,000 model names derived from the source's own match rules,
// the embedded price book picks the same model, and prices two usages the same,
// as the npm package @pydantic/genai-prices itself does. The expectations are
// written by scripts/gen_prices.mjs (`make prices`) from the package, next to
// data/prices.json.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <string>

#include "economics/price_book.h"
#include "support/temp_dir.h"

namespace switchyard::economics {
namespace {

using switchyard::testing::ReadFile;

core::Usage UsageFrom(simdjson::dom::object o) {
  core::Usage u;
  int64_t v = 0;
  if (o["prompt_tokens"].get_int64().get(v) == simdjson::SUCCESS) u.prompt_tokens = v;
  if (o["completion_tokens"].get_int64().get(v) == simdjson::SUCCESS) u.completion_tokens = v;
  if (o["cached_prompt_tokens"].get_int64().get(v) == simdjson::SUCCESS) {
    u.cached_prompt_tokens = v;
  }
  if (o["cache_write_tokens"].get_int64().get(v) == simdjson::SUCCESS) u.cache_write_tokens = v;
  u.present = true;
  return u;
}

bool Near(double a, double b) {
  return std::fabs(a - b) <= 1e-12 + 1e-12 * std::fabs(b);
}

TEST(PriceProbesTest, EmbeddedBookAgreesWithThePackage) {
  auto book = PriceBook::Embedded();
  ASSERT_TRUE(book.ok()) << book.status().message();
  std::string text =
      ReadFile(std::string(SWITCHYARD_SOURCE_DIR) + "/tests/economics/testdata/price_probes.json");
  ASSERT_FALSE(text.empty());
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  ASSERT_EQ(parser.parse(text).get_object().get(root), simdjson::SUCCESS);

  // The probes and the data must come from the same `make prices` run.
  std::string_view version, as_of;
  ASSERT_EQ(root["source_version"].get_string().get(version), simdjson::SUCCESS);
  ASSERT_EQ(root["prices_as_of"].get_string().get(as_of), simdjson::SUCCESS);
  EXPECT_EQ(version, book->info().source_version);
  EXPECT_EQ(as_of, book->info().prices_as_of);

  simdjson::dom::object ua, ub;
  ASSERT_EQ(root["usage_a"].get_object().get(ua), simdjson::SUCCESS);
  ASSERT_EQ(root["usage_b"].get_object().get(ub), simdjson::SUCCESS);
  const core::Usage usage_a = UsageFrom(ua);
  const core::Usage usage_b = UsageFrom(ub);

  simdjson::dom::array probes;
  ASSERT_EQ(root["probes"].get_array().get(probes), simdjson::SUCCESS);
  size_t count = 0, wrong_model = 0, wrong_cost = 0, costs_checked = 0;
  std::string first_failures;
  for (simdjson::dom::element p : probes) {
    ++count;
    std::string_view provider, model, expected;
    ASSERT_EQ(p.at(0).get_string().get(provider), simdjson::SUCCESS);
    ASSERT_EQ(p.at(1).get_string().get(model), simdjson::SUCCESS);
    ASSERT_EQ(p.at(2).get_string().get(expected), simdjson::SUCCESS);
    CostBreakdown a = book->Cost(provider, model, usage_a);
    if (a.matched_model != expected) {
      if (++wrong_model <= 10) {
        first_failures += "model: [" + std::string(provider) + "] " + std::string(model) + " -> " +
                          a.matched_model + ", package: " + std::string(expected) + "\n";
      }
      continue;
    }
    double want_a = 0, want_b = 0;
    if (p.at(3).get_double().get(want_a) != simdjson::SUCCESS ||
        p.at(4).get_double().get(want_b) != simdjson::SUCCESS) {
      continue;  // null: a price that varies over time or a per-request fee
    }
    ++costs_checked;
    CostBreakdown b = book->Cost(provider, model, usage_b);
    if (!Near(a.total_usd, want_a) || !Near(b.total_usd, want_b)) {
      if (++wrong_cost <= 10) {
        first_failures += "cost: [" + std::string(provider) + "] " + std::string(model) + " " +
                          std::to_string(a.total_usd) + "/" + std::to_string(b.total_usd) +
                          ", package: " + std::to_string(want_a) + "/" + std::to_string(want_b) +
                          "\n";
      }
    }
  }
  EXPECT_GT(count, 1000u);
  EXPECT_GT(costs_checked, 1000u);
  EXPECT_EQ(wrong_model, 0u) << first_failures;
  EXPECT_EQ(wrong_cost, 0u) << first_failures;
}

}  // namespace
}  // namespace switchyard::economics
