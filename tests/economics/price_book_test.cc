#include "economics/price_book.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "economics/embedded_prices.h"

namespace switchyard::economics {
namespace {

core::Usage MakeUsage(int64_t prompt, int64_t completion, int64_t cached = 0,
                      int64_t cache_write = 0, int64_t reasoning = 0) {
  core::Usage u;
  u.prompt_tokens = prompt;
  u.completion_tokens = completion;
  u.cached_prompt_tokens = cached;
  u.cache_write_tokens = cache_write;
  u.reasoning_tokens = reasoning;
  u.present = true;
  return u;
}

std::string ErrorOf(std::string_view json) {
  auto r = PriceBook::FromJson(json);
  return r.ok() ? "OK" : r.status().message();
}

// ---- the embedded, generated data ------------------------------------------

class EmbeddedPriceBookTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto r = PriceBook::Embedded();
    ASSERT_TRUE(r.ok()) << r.status().message();
    book_ = std::make_unique<PriceBook>(std::move(r).value());
  }
  static void TearDownTestSuite() { book_.reset(); }
  const PriceBook& book() { return *book_; }
  static std::unique_ptr<PriceBook> book_;
};
std::unique_ptr<PriceBook> EmbeddedPriceBookTest::book_;

TEST_F(EmbeddedPriceBookTest, EmbeddedBytesAreTheDataFile) {
  std::ifstream in(std::string(SWITCHYARD_SOURCE_DIR) + "/data/prices.json", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  EXPECT_EQ(EmbeddedPriceData(), ss.str());
}

TEST_F(EmbeddedPriceBookTest, HeaderRecordsTheSource) {
  EXPECT_EQ(book().info().source, "@pydantic/genai-prices");
  EXPECT_FALSE(book().info().source_version.empty());
  EXPECT_EQ(book().info().generated_at.size(), 10u);  // YYYY-MM-DD
  EXPECT_EQ(book().info().prices_as_of.size(), 10u);
  EXPECT_GT(book().info().model_count, 1500u);
}

// The published prices the cost tests below rely on are really in the data.
TEST_F(EmbeddedPriceBookTest, PublishedPricesAreInTheData) {
  const ModelPrice* mini = book().Find("openai", "gpt-4o-mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->input, 0.15);
  EXPECT_EQ(mini->cached_input, 0.075);
  EXPECT_EQ(mini->cache_write, -1);
  EXPECT_EQ(mini->output, 0.6);
  EXPECT_TRUE(mini->tiers.empty());

  const ModelPrice* haiku = book().Find("anthropic", "claude-3-5-haiku-latest");
  ASSERT_NE(haiku, nullptr);
  EXPECT_EQ(haiku->input, 0.8);
  EXPECT_EQ(haiku->cached_input, 0.08);
  EXPECT_EQ(haiku->cache_write, 1.0);
  EXPECT_EQ(haiku->output, 4.0);

  const ModelPrice* o4 = book().Find("openai", "o4-mini");
  ASSERT_NE(o4, nullptr);
  EXPECT_EQ(o4->input, 1.1);
  EXPECT_EQ(o4->output, 4.4);

  const ModelPrice* pro = book().Find("google", "gemini-2.5-pro");
  ASSERT_NE(pro, nullptr);
  EXPECT_EQ(pro->input, 1.25);
  EXPECT_EQ(pro->cached_input, 0.125);
  EXPECT_EQ(pro->output, 10.0);
  ASSERT_EQ(pro->tiers.size(), 1u);
  EXPECT_EQ(pro->tiers[0].above_input_tokens, 200000);
  EXPECT_EQ(pro->tiers[0].input, 2.5);
  EXPECT_EQ(pro->tiers[0].cached_input, 0.25);
  EXPECT_EQ(pro->tiers[0].output, 15.0);
}

TEST_F(EmbeddedPriceBookTest, PlainUsageGpt4oMini) {
  CostBreakdown c = book().Cost("openai", "gpt-4o-mini", MakeUsage(1000, 1000));
  EXPECT_TRUE(c.priced);
  EXPECT_EQ(c.matched_model, "openai/gpt-4o-mini");
  EXPECT_NEAR(c.input_usd, 0.00015, 1e-12);
  EXPECT_NEAR(c.output_usd, 0.0006, 1e-12);
  EXPECT_NEAR(c.cached_input_usd, 0, 1e-12);
  EXPECT_NEAR(c.cache_write_usd, 0, 1e-12);
  EXPECT_NEAR(c.total_usd, 0.00075, 1e-12);
}

TEST_F(EmbeddedPriceBookTest, CachedInputBilledAtCachedPrice) {
  // 10,000 prompt tokens of which 8,000 read from the cache, 500 out.
  CostBreakdown c = book().Cost("openai", "gpt-4o-mini", MakeUsage(10000, 500, 8000));
  EXPECT_NEAR(c.input_usd, 2000 * 0.15 / 1e6, 1e-12);          // 0.0003
  EXPECT_NEAR(c.cached_input_usd, 8000 * 0.075 / 1e6, 1e-12);  // 0.0006
  EXPECT_NEAR(c.output_usd, 500 * 0.6 / 1e6, 1e-12);           // 0.0003
  EXPECT_NEAR(c.total_usd, 0.0012, 1e-12);
}

TEST_F(EmbeddedPriceBookTest, TieredPriceBothSidesOfTheBoundary) {
  // gemini-2.5-pro: 1.25 / 10 up to 200k prompt tokens, 2.5 / 15 above.
  CostBreakdown at = book().Cost("google", "gemini-2.5-pro", MakeUsage(200000, 1000));
  EXPECT_NEAR(at.input_usd, 0.25, 1e-12);
  EXPECT_NEAR(at.output_usd, 0.01, 1e-12);
  EXPECT_NEAR(at.total_usd, 0.26, 1e-12);

  CostBreakdown above = book().Cost("google", "gemini-2.5-pro", MakeUsage(200001, 1000));
  EXPECT_NEAR(above.input_usd, 0.5000025, 1e-12);
  EXPECT_NEAR(above.output_usd, 0.015, 1e-12);
  EXPECT_NEAR(above.total_usd, 0.5150025, 1e-12);

  // The tier is chosen by the whole prompt, cached tokens included; cached tokens
  // then use the tier's cached price (0.25).
  CostBreakdown cached = book().Cost("google", "gemini-2.5-pro", MakeUsage(200001, 0, 100000));
  EXPECT_NEAR(cached.input_usd, 100001 * 2.5 / 1e6, 1e-12);
  EXPECT_NEAR(cached.cached_input_usd, 0.025, 1e-12);
  EXPECT_NEAR(cached.total_usd, 0.2750025, 1e-12);
}

TEST_F(EmbeddedPriceBookTest, AnthropicCacheReadAndWrite) {
  // Anthropic reports input 1,000, cache read 2,000, cache creation 3,000: the
  // api layer sums them into prompt_tokens.
  CostBreakdown c = book().Cost("anthropic", "claude-3-5-haiku-20241022",
                                MakeUsage(6000, 500, /*cached=*/2000, /*cache_write=*/3000));
  EXPECT_TRUE(c.priced);
  EXPECT_EQ(c.matched_model, "anthropic/claude-3-5-haiku-latest");
  EXPECT_NEAR(c.input_usd, 1000 * 0.80 / 1e6, 1e-12);         // 0.0008
  EXPECT_NEAR(c.cached_input_usd, 2000 * 0.08 / 1e6, 1e-12);  // 0.00016
  EXPECT_NEAR(c.cache_write_usd, 3000 * 1.00 / 1e6, 1e-12);   // 0.003
  EXPECT_NEAR(c.output_usd, 500 * 4.00 / 1e6, 1e-12);         // 0.002
  EXPECT_NEAR(c.total_usd, 0.00596, 1e-12);
}

TEST_F(EmbeddedPriceBookTest, ReasoningTokensBilledOnceAsOutput) {
  // o4-mini: 1,000 in; 3,000 out of which 2,500 reasoning.
  CostBreakdown c = book().Cost("openai", "o4-mini", MakeUsage(1000, 3000, 0, 0, 2500));
  EXPECT_NEAR(c.input_usd, 0.0011, 1e-12);
  EXPECT_NEAR(c.output_usd, 3000 * 4.4 / 1e6, 1e-12);  // 0.0132
  EXPECT_NEAR(c.total_usd, 0.0143, 1e-12);
  CostBreakdown same = book().Cost("openai", "o4-mini", MakeUsage(1000, 3000));
  EXPECT_NEAR(same.total_usd, c.total_usd, 1e-12);
}

// CostFigures (the request path's call) gives Cost()'s figures without the
// matched model's name, for priced, tiered, cached and unknown models alike.
TEST_F(EmbeddedPriceBookTest, CostFiguresAreCostsWithoutTheName) {
  struct Case {
    std::string provider, model;
    core::Usage usage;
  };
  const std::vector<Case> cases = {
      {"openai", "gpt-4o-mini", MakeUsage(10000, 500, 8000)},
      {"google", "gemini-2.5-pro", MakeUsage(200001, 1000, 100000)},
      {"anthropic", "claude-3-5-haiku-20241022", MakeUsage(6000, 500, 2000, 3000)},
      {"openai", "no-such-model", MakeUsage(10, 10)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.model);
    const CostBreakdown full = book().Cost(c.provider, c.model, c.usage);
    const CostBreakdown figures = book().CostFigures(c.provider, c.model, c.usage);
    EXPECT_EQ(figures.matched_model, "");
    EXPECT_EQ(figures.priced, full.priced);
    EXPECT_EQ(figures.input_usd, full.input_usd);
    EXPECT_EQ(figures.cached_input_usd, full.cached_input_usd);
    EXPECT_EQ(figures.cache_write_usd, full.cache_write_usd);
    EXPECT_EQ(figures.output_usd, full.output_usd);
    EXPECT_EQ(figures.total_usd, full.total_usd);
  }
  EXPECT_GT(book().CostFigures("openai", "gpt-4o-mini", MakeUsage(1000, 1000)).total_usd, 0);
}

TEST_F(EmbeddedPriceBookTest, DatedAndDecoratedNamesMatch) {
  struct Case {
    const char* provider;
    const char* model;
    const char* matched;
  };
  for (const Case& k : {
           Case{"openai", "gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"},
           Case{"openai", "gpt-4o-mini-20240718", "openai/gpt-4o-mini"},  // compact date
           Case{"openai", "  GPT-4o-Mini ", "openai/gpt-4o-mini"},
           Case{"", "gpt-4o-mini", "openai/gpt-4o-mini"},         // provider from the name
           Case{"", "openai/gpt-4o-mini", "openai/gpt-4o-mini"},  // provider prefix
           Case{"OpenAI", "o4-mini-2025-04-16", "openai/o4-mini"},
           Case{"", "claude-3-5-haiku-20241022", "anthropic/claude-3-5-haiku-latest"},
           Case{"", "gemini-2.5-pro-preview-06-05", "google/gemini-2.5-pro"},
           Case{"azure", "gpt-4o-mini", "openai/gpt-4o-mini"},  // azure falls back to openai
       }) {
    CostBreakdown c = book().Cost(k.provider, k.model, MakeUsage(1000, 1000));
    EXPECT_EQ(c.matched_model, k.matched) << k.provider << " " << k.model;
    EXPECT_TRUE(c.priced) << k.model;
  }
  const ModelPrice* dated = book().Find("", "gpt-4o-mini-20240718");
  ASSERT_NE(dated, nullptr);
  EXPECT_EQ(dated->id, "gpt-4o-mini");
}

TEST_F(EmbeddedPriceBookTest, UnknownModelIsUnpricedNotAnError) {
  for (auto [provider, model] :
       {std::pair{"openai", "no-such-model-xyz"}, std::pair{"", "no-such-model-xyz"},
        std::pair{"nobody", "nothing/at-all"}, std::pair{"", ""}, std::pair{"openai", "   "}}) {
    EXPECT_EQ(book().Find(provider, model), nullptr) << model;
    CostBreakdown c = book().Cost(provider, model, MakeUsage(1000, 1000, 10, 10));
    EXPECT_FALSE(c.priced) << model;
    EXPECT_EQ(c.matched_model, "");
    EXPECT_EQ(c.input_usd, 0);
    EXPECT_EQ(c.cached_input_usd, 0);
    EXPECT_EQ(c.cache_write_usd, 0);
    EXPECT_EQ(c.output_usd, 0);
    EXPECT_EQ(c.total_usd, 0);
  }
}

TEST_F(EmbeddedPriceBookTest, ModelWithoutTokenPricesIsUnpriced) {
  // GitHub Copilot lists gpt-4o-mini without per-token prices (it is a
  // subscription): the name matches, but nothing is billed per token.
  EXPECT_EQ(book().Find("github-copilot", "gpt-4o-mini"), nullptr);
  CostBreakdown c = book().Cost("github-copilot", "gpt-4o-mini", MakeUsage(1000, 1000));
  EXPECT_FALSE(c.priced);
  EXPECT_EQ(c.matched_model, "github-copilot/gpt-4o-mini");
  EXPECT_EQ(c.total_usd, 0);
}

TEST_F(EmbeddedPriceBookTest, OverrideWinsOverTheData) {
  auto r = PriceBook::Embedded();
  ASSERT_TRUE(r.ok());
  PriceBook book = std::move(r).value();
  ModelPrice p;
  p.provider = "OpenAI";
  p.id = "GPT-4o-mini";
  p.input = 1.0;
  p.output = 2.0;
  book.Override(p);
  // Replaced in place: the data's match rules still lead to it.
  CostBreakdown c = book.Cost("openai", "gpt-4o-mini-2024-07-18", MakeUsage(1000, 1000, 500));
  EXPECT_EQ(c.matched_model, "openai/GPT-4o-mini");
  EXPECT_NEAR(c.input_usd, 0.0005, 1e-12);
  EXPECT_NEAR(c.cached_input_usd, 0.0005, 1e-12);  // cached_input -1: the input price
  EXPECT_NEAR(c.output_usd, 0.002, 1e-12);
  EXPECT_NEAR(c.total_usd, 0.003, 1e-12);

  // A new model under a known provider wins over the data's broader rules.
  ModelPrice custom;
  custom.provider = "openai";
  custom.id = "gpt-4o-mini-2024-07-18";
  custom.input = 3.0;
  custom.output = 4.0;
  book.Override(custom);
  EXPECT_EQ(book.Find("openai", "gpt-4o-mini-2024-07-18")->input, 3.0);
  EXPECT_EQ(book.Find("openai", "gpt-4o-mini")->input, 1.0);

  // A new provider.
  ModelPrice local;
  local.provider = "my-vllm";
  local.id = "Llama-3.1-8B";
  local.input = 0.01;
  local.output = 0.02;
  book.Override(local);
  const ModelPrice* found = book.Find("my-vllm", "llama-3.1-8b");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->output, 0.02);

  // No provider: the exact name under any provider, before every other rule.
  ModelPrice any;
  any.id = "o4-mini";
  any.input = 5.0;
  any.output = 6.0;
  book.Override(any);
  CostBreakdown o = book.Cost("openai", "O4-MINI", MakeUsage(1000000, 0));
  EXPECT_EQ(o.matched_model, "o4-mini");
  EXPECT_NEAR(o.total_usd, 5.0, 1e-12);
  // ...and only the exact name.
  EXPECT_EQ(book.Find("openai", "o4-mini-2025-04-16")->input, 1.1);
}

// ---- semantics, on small hand-written books ---------------------------------

TEST(PriceBookTest, FirstMatchingModelInFileOrderWins) {
  // "wide" comes first and claims every name starting with "m-": the exact rule
  // of the later "m-1" only applies to names "wide" does not claim.
  auto book = PriceBook::FromJson(R"({"models":[
    {"provider":"p","id":"wide","match":[{"starts_with":"m-"}],"input":1,"output":1},
    {"provider":"p","id":"m-1","match":[{"equals":"m-1"},{"equals":"x-1"}],"input":2,"output":2},
    {"provider":"p","id":"x-2","match":[{"equals":"x-1"}],"input":3,"output":3},
    {"provider":"p","id":"ends","match":[{"ends_with":"-turbo"}],"input":4,"output":4},
    {"provider":"p","id":"mid","match":[{"contains":"mid"}],"input":5,"output":5},
    {"provider":"p","id":"both","match":[{"and":[{"starts_with":"b"},{"regex":"^b-\\d{2}$"}]}],
     "input":6,"output":6}
  ]})");
  ASSERT_TRUE(book.ok()) << book.status().message();
  EXPECT_EQ(book->Find("p", "m-1")->id, "wide");
  EXPECT_EQ(book->Find("p", "x-1")->id, "m-1");  // first exact rule wins
  EXPECT_EQ(book->Find("p", "m-turbo")->id, "wide");
  EXPECT_EQ(book->Find("p", "x-turbo")->id, "ends");
  EXPECT_EQ(book->Find("p", "a-mid-b")->id, "mid");
  EXPECT_EQ(book->Find("p", "b-12")->id, "both");
  EXPECT_EQ(book->Find("p", "b-123"), nullptr);
  EXPECT_EQ(book->Find("p", "c-12"), nullptr);
}

TEST(PriceBookTest, ProvidersMatchByIdRulesFallbackAndPrefix) {
  auto book = PriceBook::FromJson(R"({
    "providers":[
      {"id":"alpha","provider_match":[{"contains":"alp"}],"model_match":[{"starts_with":"a-"}]},
      {"id":"beta","fallback":["alpha"]},
      {"id":"gamma"}],
    "models":[
      {"provider":"alpha","id":"a-1","match":[{"equals":"a-1"}],"input":1,"output":10},
      {"provider":"beta","id":"b-1","match":[{"equals":"b-1"}],"input":2,"output":20},
      {"provider":"gamma","id":"a-1","match":[{"equals":"a-1"}],"input":3,"output":30}
    ]})");
  ASSERT_TRUE(book.ok()) << book.status().message();
  auto matched = [&](std::string_view provider, std::string_view model) {
    return book->Cost(provider, model, {}).matched_model;
  };
  EXPECT_EQ(matched("alpha", "a-1"), "alpha/a-1");
  EXPECT_EQ(matched("my-alpine", "a-1"), "alpha/a-1");  // provider_match
  EXPECT_EQ(matched("gamma", "a-1"), "gamma/a-1");      // the given provider first
  EXPECT_EQ(matched("beta", "a-1"), "alpha/a-1");       // fallback
  EXPECT_EQ(matched("", "a-1"), "alpha/a-1");           // model_match
  EXPECT_EQ(matched("", "gamma/a-1"), "gamma/a-1");     // prefix names the provider
  EXPECT_EQ(matched("", "beta/b-1"), "beta/b-1");
  EXPECT_EQ(matched("", "b-1"), "");  // beta has no model_match
  EXPECT_EQ(matched("unknown", "b-1"), "");
}

// Lookups are memoised by (provider, model): a repeated lookup gives the first
// answer, and pairs that differ only in where the provider ends and the model
// begins are different keys.
TEST(PriceBookTest, MemoisedLookupsKeepProviderAndModelApart) {
  auto book = PriceBook::FromJson(R"({"models":[
    {"provider":"ab","id":"c","match":[{"equals":"c"}],"input":1,"output":1},
    {"provider":"a","id":"bc","match":[{"equals":"bc"}],"input":2,"output":2}
  ]})");
  ASSERT_TRUE(book.ok()) << book.status().message();
  for (int round = 0; round < 3; ++round) {
    ASSERT_NE(book->Find("ab", "c"), nullptr);
    EXPECT_EQ(book->Find("ab", "c")->input, 1.0) << round;
    ASSERT_NE(book->Find("a", "bc"), nullptr);
    EXPECT_EQ(book->Find("a", "bc")->input, 2.0) << round;
    EXPECT_EQ(book->Find("a", "b"), nullptr) << round;
    EXPECT_EQ(book->Find("abc", ""), nullptr) << round;
    EXPECT_EQ(book->Cost("ab", "c", {}).matched_model, "ab/c") << round;
  }
  // Override() forgets the memoised answers.
  ModelPrice p;
  p.provider = "ab";
  p.id = "c";
  p.input = 7;
  book->Override(p);
  EXPECT_EQ(book->Find("ab", "c")->input, 7.0);
}

TEST(PriceBookTest, TiersNullPricesAndInconsistentUsage) {
  auto book = PriceBook::FromJson(R"({"models":[
    {"provider":"p","id":"t","match":[{"equals":"t"}],"input":1,"cached_input":null,
     "cache_write":null,"output":2,
     "tiers":[{"above_input_tokens":2000,"input":5,"cached_input":0.5,"cache_write":6,"output":7},
              {"above_input_tokens":1000,"input":3,"cached_input":null,"cache_write":null,
               "output":4}]},
    {"provider":"p","id":"embed","match":[{"equals":"embed"}],"input":0.1,"output":null}
  ]})");
  ASSERT_TRUE(book.ok()) << book.status().message();
  // Base: cached and cache-write fall back to the input price.
  CostBreakdown base = book->Cost("p", "t", MakeUsage(1000, 100, 200, 300));
  EXPECT_NEAR(base.input_usd, 500 * 1 / 1e6, 1e-12);
  EXPECT_NEAR(base.cached_input_usd, 200 * 1 / 1e6, 1e-12);
  EXPECT_NEAR(base.cache_write_usd, 300 * 1 / 1e6, 1e-12);
  EXPECT_NEAR(base.output_usd, 100 * 2 / 1e6, 1e-12);
  // Above 1,000 (tiers are sorted on load).
  CostBreakdown mid = book->Cost("p", "t", MakeUsage(2000, 100, 200, 300));
  EXPECT_NEAR(mid.input_usd, 1500 * 3 / 1e6, 1e-12);
  EXPECT_NEAR(mid.cached_input_usd, 200 * 3 / 1e6, 1e-12);
  EXPECT_NEAR(mid.cache_write_usd, 300 * 3 / 1e6, 1e-12);
  EXPECT_NEAR(mid.output_usd, 100 * 4 / 1e6, 1e-12);
  // Above 2,000: the highest tier below the prompt.
  CostBreakdown high = book->Cost("p", "t", MakeUsage(2001, 100, 200, 300));
  EXPECT_NEAR(high.input_usd, 1501 * 5 / 1e6, 1e-12);
  EXPECT_NEAR(high.cached_input_usd, 200 * 0.5 / 1e6, 1e-12);
  EXPECT_NEAR(high.cache_write_usd, 300 * 6 / 1e6, 1e-12);
  EXPECT_NEAR(high.output_usd, 100 * 7 / 1e6, 1e-12);
  EXPECT_NEAR(high.total_usd, (1501 * 5 + 200 * 0.5 + 300 * 6 + 100 * 7) / 1e6, 1e-12);
  // Cached + cache-write above the prompt (an inconsistent upstream): no
  // negative uncached input.
  CostBreakdown odd = book->Cost("p", "t", MakeUsage(100, 0, 80, 40));
  EXPECT_EQ(odd.input_usd, 0);
  EXPECT_NEAR(odd.total_usd, 120 / 1e6, 1e-12);
  // Input-only model (embeddings): output null costs nothing but is priced.
  CostBreakdown embed = book->Cost("p", "embed", MakeUsage(1000000, 0));
  EXPECT_TRUE(embed.priced);
  EXPECT_NEAR(embed.total_usd, 0.1, 1e-12);
}

TEST(PriceBookTest, EmptyBookPricesNothing) {
  PriceBook book;
  CostBreakdown c = book.Cost("openai", "gpt-4o-mini", MakeUsage(1000, 1000));
  EXPECT_FALSE(c.priced);
  EXPECT_EQ(c.total_usd, 0);
}

TEST(PriceBookTest, MalformedJsonGivesExactErrors) {
  EXPECT_EQ(ErrorOf("{"),
            "price book: invalid JSON: The JSON document has an improper structure: missing or "
            "superfluous commas, braces, missing keys, etc.");
  EXPECT_EQ(ErrorOf(""), "price book: invalid JSON: Empty: no JSON found");
  EXPECT_EQ(ErrorOf("[]"), "price book: the document must be a JSON object");
  EXPECT_EQ(ErrorOf("{}"), "price book: \"models\" must be an array");
  EXPECT_EQ(ErrorOf(R"({"models":{}})"), "price book: \"models\" must be an array");
  EXPECT_EQ(ErrorOf(R"({"source":1,"models":[]})"),
            "price book: header: \"source\" must be a string");
  EXPECT_EQ(ErrorOf(R"({"models":[1]})"), "price book: models[0]: must be an object");
  EXPECT_EQ(ErrorOf(R"({"models":[{"id":"m","match":[{"equals":"m"}]}]})"),
            "price book: models[0]: missing \"provider\"");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"","match":[{"equals":"m"}]}]})"),
            "price book: models[0]: \"id\" must be a non-empty string");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[]}]})"),
            "price book: models[0] (p/m): \"match\" must be a non-empty array of match rules");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"glob":"m*"}]}]})"),
            "price book: models[0] (p/m): unknown match rule \"glob\"");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"equals":"m","x":1}]}]})"),
            "price book: models[0] (p/m): a match rule must be an object with one key");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"equals":7}]}]})"),
            "price book: models[0] (p/m): match rule \"equals\" needs a string");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"contains":" "}]}]})"),
            "price book: models[0] (p/m): empty match pattern");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"and":[{"and":[]}]}]}]})"),
            "price book: models[0] (p/m): \"and\" must be a non-empty array of simple rules");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"regex":"(ab"}]}]})"),
            "price book: models[0] (p/m): invalid regex \"(ab\": Mismatched '(' and ')' in "
            "regular expression");
  EXPECT_EQ(
      ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"equals":"m"}],"input":-1}]})"),
      "price book: models[0] (p/m): \"input\" must be a non-negative number or null");
  EXPECT_EQ(
      ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"equals":"m"}],"output":"1"}]})"),
      "price book: models[0] (p/m): \"output\" must be a non-negative number or null");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"equals":"m"}],
                        "tiers":{}}]})"),
            "price book: models[0] (p/m): \"tiers\" must be an array");
  EXPECT_EQ(ErrorOf(R"({"models":[{"provider":"p","id":"m","match":[{"equals":"m"}],
                        "tiers":[{"above_input_tokens":1.5,"input":1}]}]})"),
            "price book: models[0] (p/m): tier \"above_input_tokens\" must be a non-negative "
            "integer");
  EXPECT_EQ(ErrorOf(R"({"providers":{},"models":[]})"),
            "price book: \"providers\" must be an array");
  EXPECT_EQ(ErrorOf(R"({"providers":[{"id":"a"},{"id":"A"}],"models":[]})"),
            "price book: providers[1] (a): duplicate provider id");
  EXPECT_EQ(ErrorOf(R"({"providers":[{"id":"a","fallback":["z"]}],"models":[]})"),
            "price book: providers[0] (a): unknown fallback provider \"z\"");
  EXPECT_EQ(ErrorOf(R"({"providers":[{"id":"a","fallback":"z"}],"models":[]})"),
            "price book: providers[0] (a): \"fallback\" must be an array of provider ids");
  EXPECT_EQ(ErrorOf(R"({"providers":[{"id":"a","model_match":{}}],"models":[]})"),
            "price book: providers[0] (a): \"model_match\" must be an array of match rules");
}

}  // namespace
}  // namespace switchyard::economics
