// Exact costs through the real gateway and PriceAccounting (the embedded price
// book from data/prices.json), checked on the wire (x-switchyard-cost-usd as a
// header on JSON answers, as an HTTP trailer on streams) and in the committed
// ledger record. Every expected cost is computed by hand from the published
// prices, which each test first asserts are the ones in the book.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "api/openai_parse.h"
#include "app/accounting.h"
#include "economics/price_book.h"
#include "ledger_gateway_fixture.h"
#include "support/fake_upstream.h"
#include "support/http_client.h"
#include "tokenize/bpe.h"

namespace switchyard::app {
namespace {

using testing::FakeUpstream;
using testing::HttpRequest;
using testing::HttpResult;
using testing::JsonResponse;
using testing::SseResponse;

constexpr char kCostHeader[] = "x-switchyard-cost-usd";
constexpr char kIdHeader[] = "x-switchyard-request-id";
// Cost comparisons: USD values are sums of tokens x price / 1e6 in doubles;
// any pricing mistake moves them by far more than this.
constexpr double kUsdTolerance = 1e-12;

// A [[providers]] entry for an upstream speaking the OpenAI API.
std::string OpenAiProvider(const std::string& name, const std::string& base_url,
                           const std::string& model) {
  return "[[providers]]\nname = \"" + name + "\"\nkind = \"openai\"\nbase_url = \"" + base_url +
         "/v1\"\nmodels = [\"" + model + "\"]\nmax_retries = 0\n\n";
}

std::string AnthropicProvider(const std::string& base_url) {
  return "[[providers]]\nname = \"anthropic\"\nkind = \"anthropic\"\nbase_url = \"" + base_url +
         "/v1\"\nmodels = [\"claude-3-5-haiku-latest\"]\nmax_retries = 0\n\n";
}

std::string Chat(const std::string& model, const std::string& extra = "") {
  return R"({"model":")" + model +
         R"(","messages":[{"role":"user","content":"Summarise the ledger"}])" + extra + "}";
}

// A chat.completion answer from `model` with this "usage" object (JSON text).
std::string OpenAiAnswer(const std::string& model, const std::string& usage) {
  return R"({"id":"chatcmpl-up","object":"chat.completion","created":1,"model":")" + model +
         R"(","choices":[{"index":0,"message":{"role":"assistant","content":"All paid."},)"
         R"("finish_reason":"stop"}],"usage":)" +
         usage + "}";
}

// OpenAI stream frames saying `pieces`, then a usage chunk when `usage` is not
// empty, then [DONE].
std::vector<std::string> OpenAiFrames(const std::string& model,
                                      const std::vector<std::string>& pieces,
                                      const std::string& usage) {
  const std::string head =
      R"(data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":")" + model + "\",";
  std::vector<std::string> frames;
  frames.push_back(head + R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
                          R"("finish_reason":null}]})"
                          "\n\n");
  for (const std::string& p : pieces) {
    frames.push_back(head + R"("choices":[{"index":0,"delta":{"content":")" + p +
                     R"("},"finish_reason":null}]})"
                     "\n\n");
  }
  frames.push_back(head + R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"
                          "\n\n");
  if (!usage.empty()) frames.push_back(head + R"("choices":[],"usage":)" + usage + "}\n\n");
  frames.push_back("data: [DONE]\n\n");
  return frames;
}

// A response read byte for byte, so that trailers are told apart from headers.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;   // lower-cased names
  std::string body;                             // de-chunked
  std::map<std::string, std::string> trailers;  // lower-cased names
  bool complete = false;                        // the last chunk arrived
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses "Name: value\r\n" lines of `block` into `out`.
void ParseFields(std::string_view block, std::map<std::string, std::string>& out) {
  while (!block.empty()) {
    const size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    out[Lower(std::string(line.substr(0, colon)))] = std::string(value);
  }
}

// POSTs `body` with "connection: close" and parses the chunked response.
RawResponse PostRaw(uint16_t port, const std::string& body) {
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:" + std::to_string(port) +
      "\r\ncontent-type: application/json\r\nconnection: close\r\n"
      "content-length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string raw = testing::RawExchange(port, request, std::chrono::seconds(10));
  RawResponse out;
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.size() < 12) return out;
  out.status = std::stoi(raw.substr(9, 3));
  const size_t first_eol = raw.find("\r\n");
  ParseFields(std::string_view(raw).substr(first_eol + 2, head_end - first_eol), out.headers);
  std::string_view rest = std::string_view(raw).substr(head_end + 4);
  if (out.headers["transfer-encoding"] != "chunked") {
    out.body = std::string(rest);
    out.complete = true;
    return out;
  }
  for (;;) {
    const size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) return out;
    const size_t size = std::stoul(std::string(rest.substr(0, eol)), nullptr, 16);
    rest.remove_prefix(eol + 2);
    if (size == 0) {
      const size_t end = rest.find("\r\n\r\n");
      if (rest.starts_with("\r\n")) {
        out.complete = true;
      } else if (end != std::string_view::npos) {
        ParseFields(rest.substr(0, end + 2), out.trailers);
        out.complete = true;
      }
      return out;
    }
    if (rest.size() < size + 2) return out;
    out.body.append(rest.substr(0, size));
    rest.remove_prefix(size + 2);
  }
}

void ExpectPrice(const economics::PriceBook& book, std::string_view provider,
                 std::string_view model, double input, double cached_input, double cache_write,
                 double output) {
  const economics::ModelPrice* p = book.Find(provider, model);
  ASSERT_NE(p, nullptr) << provider << "/" << model;
  EXPECT_EQ(p->input, input) << model;
  EXPECT_EQ(p->cached_input, cached_input) << model;
  EXPECT_EQ(p->cache_write, cache_write) << model;
  EXPECT_EQ(p->output, output) << model;
}

struct ExpectedUsage {
  int64_t input = 0;
  int64_t cached = 0;
  int64_t cache_write = 0;
  int64_t output = 0;
  int64_t reasoning = 0;
  bool estimated = false;
};

void ExpectRecord(const ledger::Record& r, const ExpectedUsage& u, double cost_usd, bool stream) {
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error_code, "");
  EXPECT_EQ(r.stream, stream);
  EXPECT_EQ(r.input_tokens, u.input);
  EXPECT_EQ(r.cached_input_tokens, u.cached);
  EXPECT_EQ(r.cache_write_tokens, u.cache_write);
  EXPECT_EQ(r.output_tokens, u.output);
  EXPECT_EQ(r.reasoning_tokens, u.reasoning);
  EXPECT_EQ(r.usage_estimated, u.estimated);
  EXPECT_NEAR(r.cost_usd, cost_usd, kUsdTolerance);
}

class CostAccountingTest : public LedgerGatewayTest {};

TEST_F(CostAccountingTest, PlainUsageGpt4oMini) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(OpenAiAnswer("gpt-4o-mini-2024-07-18",
                                       R"({"prompt_tokens":1000,"completion_tokens":500,)"
                                       R"("total_tokens":1500})")));
  Start(OpenAiProvider("openai", up.base_url(), "gpt-4o-mini"));
  // $0.15 / $0.60 per million input / output tokens.
  ExpectPrice(accounting_->price_book(), "openai", "gpt-4o-mini-2024-07-18", 0.15, 0.075, -1, 0.60);

  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-4o-mini"));
  ASSERT_EQ(r.status, 200) << r.body;
  // 1000 x 0.15 / 1e6 + 500 x 0.60 / 1e6 = 0.00015 + 0.0003
  EXPECT_EQ(r.headers[kCostHeader], "0.00045");
  const ledger::Record rec = RecordFor(r.headers[kIdHeader]);
  ExpectRecord(rec, {.input = 1000, .output = 500}, 0.00045, false);
  EXPECT_EQ(rec.provider, "openai");
  EXPECT_EQ(rec.model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(rec.answered_by, "openai/gpt-4o-mini");
}

TEST_F(CostAccountingTest, CachedInputIsBilledAtTheCachedPrice) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(
      OpenAiAnswer("gpt-4o-mini-2024-07-18",
                   R"({"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,)"
                   R"("prompt_tokens_details":{"cached_tokens":400,"audio_tokens":0}})")));
  Start(OpenAiProvider("openai", up.base_url(), "gpt-4o-mini"));
  ExpectPrice(accounting_->price_book(), "openai", "gpt-4o-mini", 0.15, 0.075, -1, 0.60);

  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gpt-4o-mini"));
  ASSERT_EQ(r.status, 200) << r.body;
  // 600 x 0.15 + 400 x 0.075 + 500 x 0.60 = 90 + 30 + 300 = 420 per million
  // (at the full input price it would be 450).
  EXPECT_EQ(r.headers[kCostHeader], "0.00042");
  ExpectRecord(RecordFor(r.headers[kIdHeader]), {.input = 1000, .cached = 400, .output = 500},
               0.00042, false);
}

TEST_F(CostAccountingTest, TieredPricesOnBothSidesOf200kPromptTokens) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(OpenAiAnswer("gemini-2.5-pro",
                                       R"({"prompt_tokens":200000,"completion_tokens":1000,)"
                                       R"("total_tokens":201000})")));
  up.Enqueue(JsonResponse(OpenAiAnswer(
      "gemini-2.5-pro", R"({"prompt_tokens":200001,"completion_tokens":1000,"total_tokens":201001,)"
                        R"("prompt_tokens_details":{"cached_tokens":100000}})")));
  Start(OpenAiProvider("google", up.base_url(), "gemini-2.5-pro"));
  const economics::PriceBook& book = accounting_->price_book();
  ExpectPrice(book, "google", "gemini-2.5-pro", 1.25, 0.125, -1, 10);
  const economics::ModelPrice* p = book.Find("google", "gemini-2.5-pro");
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->tiers.size(), 1u);
  EXPECT_EQ(p->tiers[0].above_input_tokens, 200000);
  EXPECT_EQ(p->tiers[0].input, 2.5);
  EXPECT_EQ(p->tiers[0].cached_input, 0.25);
  EXPECT_EQ(p->tiers[0].output, 15);

  // Exactly 200,000 prompt tokens: base prices.
  // 200000 x 1.25 + 1000 x 10 = 250000 + 10000 = 260000 per million.
  HttpResult base = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gemini-2.5-pro"));
  ASSERT_EQ(base.status, 200) << base.body;
  EXPECT_EQ(base.headers[kCostHeader], "0.26");
  ExpectRecord(RecordFor(base.headers[kIdHeader]), {.input = 200000, .output = 1000}, 0.26, false);

  // One more: every token at the tier's prices, the cached ones included.
  // 100001 x 2.5 + 100000 x 0.25 + 1000 x 15 = 250002.5 + 25000 + 15000 = 290002.5
  HttpResult tier = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("gemini-2.5-pro"));
  ASSERT_EQ(tier.status, 200) << tier.body;
  EXPECT_EQ(tier.headers[kCostHeader], "0.2900025");
  ExpectRecord(RecordFor(tier.headers[kIdHeader]),
               {.input = 200001, .cached = 100000, .output = 1000}, 0.2900025, false);
}

// Anthropic reports input_tokens WITHOUT the cache reads and writes; the
// ledger's input counts all three, and each part has its own price.
constexpr char kAnthropicCacheAnswer[] =
    R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022",)"
    R"("content":[{"type":"text","text":"Cached."}],"stop_reason":"end_turn",)"
    R"("stop_sequence":null,"usage":{"input_tokens":100,"cache_creation_input_tokens":1000,)"
    R"("cache_read_input_tokens":3000,"output_tokens":200}})";

TEST_F(CostAccountingTest, AnthropicCacheReadsAndWrites) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(kAnthropicCacheAnswer));
  Start(AnthropicProvider(up.base_url()));
  // $0.80 in, $0.08 cache read, $1.00 cache write, $4.00 out per million.
  ExpectPrice(accounting_->price_book(), "anthropic", "claude-3-5-haiku-20241022", 0.80, 0.08, 1.00,
              4.00);

  HttpResult r =
      HttpRequest(port(), "POST", "/v1/chat/completions", Chat("claude-3-5-haiku-latest"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_EQ(up.requests()[0].target, "/v1/messages");
  // 100 x 0.80 + 3000 x 0.08 + 1000 x 1.00 + 200 x 4.00
  //   = 80 + 240 + 1000 + 800 = 2120 per million.
  EXPECT_EQ(r.headers[kCostHeader], "0.00212");
  const ledger::Record rec = RecordFor(r.headers[kIdHeader]);
  ExpectRecord(rec, {.input = 4100, .cached = 3000, .cache_write = 1000, .output = 200}, 0.00212,
               false);
  EXPECT_EQ(rec.provider, "anthropic");
  EXPECT_EQ(rec.model, "claude-3-5-haiku-20241022");
}

TEST_F(CostAccountingTest, AnthropicStreamedCacheUsage) {
  FakeUpstream up;
  up.Enqueue(SseResponse({
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_02\","
      "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
      "\"claude-3-5-haiku-20241022\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":"
      "{\"input_tokens\":100,\"cache_creation_input_tokens\":1000,"
      "\"cache_read_input_tokens\":3000,\"output_tokens\":1}}}\n\n",
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
      "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"Cached.\"}}\n\n",
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":200}}\n\n",
      "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
  }));
  Start(AnthropicProvider(up.base_url()));
  ExpectPrice(accounting_->price_book(), "anthropic", "claude-3-5-haiku-latest", 0.80, 0.08, 1.00,
              4.00);

  RawResponse r = PostRaw(port(), Chat("claude-3-5-haiku-latest", R"(,"stream":true)"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.complete) << r.body;
  EXPECT_NE(r.body.find("Cached."), std::string::npos) << r.body;
  EXPECT_EQ(r.headers.count(kCostHeader), 0u) << "the cost is a trailer on streams";
  EXPECT_EQ(r.trailers[kCostHeader], "0.00212");
  ExpectRecord(RecordFor(r.headers[kIdHeader]),
               {.input = 4100, .cached = 3000, .cache_write = 1000, .output = 200}, 0.00212, true);
}

TEST_F(CostAccountingTest, ReasoningTokensAreBilledOnceAsOutput) {
  FakeUpstream up;
  up.Enqueue(JsonResponse(OpenAiAnswer(
      "o4-mini-2025-04-16", R"({"prompt_tokens":1000,"completion_tokens":3000,"total_tokens":4000,)"
                            R"("completion_tokens_details":{"reasoning_tokens":2000}})")));
  Start(OpenAiProvider("openai", up.base_url(), "o4-mini"));
  ExpectPrice(accounting_->price_book(), "openai", "o4-mini-2025-04-16", 1.10, 0.275, -1, 4.40);

  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", Chat("o4-mini"));
  ASSERT_EQ(r.status, 200) << r.body;
  // completion_tokens already include the 2000 reasoning tokens:
  // 1000 x 1.10 + 3000 x 4.40 = 1100 + 13200 = 14300 per million
  // (billing reasoning again would give 23100).
  EXPECT_EQ(r.headers[kCostHeader], "0.0143");
  ExpectRecord(RecordFor(r.headers[kIdHeader]), {.input = 1000, .output = 3000, .reasoning = 2000},
               0.0143, false);
}

TEST_F(CostAccountingTest, StreamedUsageChunkIsStrippedWhenTheClientDidNotAskForIt) {
  FakeUpstream up;
  up.Enqueue(SseResponse(
      OpenAiFrames("gpt-4o-mini-2024-07-18", {"All", " paid."},
                   R"({"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,)"
                   R"("prompt_tokens_details":{"cached_tokens":400}})")));
  Start(OpenAiProvider("openai", up.base_url(), "gpt-4o-mini"));
  ExpectPrice(accounting_->price_book(), "openai", "gpt-4o-mini", 0.15, 0.075, -1, 0.60);

  RawResponse r = PostRaw(port(), Chat("gpt-4o-mini", R"(,"stream":true)"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.complete) << r.body;
  // The gateway asked the upstream for the usage chunk...
  ASSERT_EQ(up.request_count(), 1u);
  EXPECT_NE(up.requests()[0].body.find(R"("stream_options":{"include_usage":true})"),
            std::string::npos)
      << up.requests()[0].body;
  // ...and kept it from the client, who did not ask.
  EXPECT_EQ(r.body.find(R"("usage":{)"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(R"("choices":[])"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(" paid."), std::string::npos) << r.body;
  EXPECT_TRUE(r.body.ends_with("data: [DONE]\n\n")) << r.body;
  EXPECT_EQ(r.headers["trailer"], kCostHeader);
  EXPECT_EQ(r.headers.count(kCostHeader), 0u);
  // 600 x 0.15 + 400 x 0.075 + 500 x 0.60 = 420 per million.
  EXPECT_EQ(r.trailers[kCostHeader], "0.00042");
  ExpectRecord(RecordFor(r.headers[kIdHeader]), {.input = 1000, .cached = 400, .output = 500},
               0.00042, true);
}

TEST_F(CostAccountingTest, StreamedUsageChunkIsKeptWhenTheClientAskedForIt) {
  FakeUpstream up;
  up.Enqueue(SseResponse(
      OpenAiFrames("gpt-4o-mini-2024-07-18", {"All", " paid."},
                   R"({"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500})")));
  Start(OpenAiProvider("openai", up.base_url(), "gpt-4o-mini"));

  RawResponse r = PostRaw(
      port(), Chat("gpt-4o-mini", R"(,"stream":true,"stream_options":{"include_usage":true})"));
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.complete) << r.body;
  EXPECT_NE(r.body.find(R"("choices":[],"usage":{"prompt_tokens":1000,)"), std::string::npos)
      << r.body;
  EXPECT_EQ(r.trailers[kCostHeader], "0.00045");
  ExpectRecord(RecordFor(r.headers[kIdHeader]), {.input = 1000, .output = 500}, 0.00045, true);
}

// The request of the estimated-usage tests: mixed text (CJK, emoji, code).
const std::string kMixedMessages =
    R"("messages":[{"role":"system","content":"You are a terse assistant."},)"
    R"({"role":"user","content":"Translate 日本語のテキスト and explain )"
    R"(`for (int i = 0; i < n; ++i) sum += v[i];` 🚀🚀"}])";

// Prompt tokens of `body` as the gateway's estimator must count them.
int64_t PromptTokens(const tokenize::Tokenizer& t, std::string body) {
  api::ChatRequestParser parser;
  auto req = parser.Parse(body);
  EXPECT_TRUE(req.ok()) << req.status().ToString();
  return req.ok() ? tokenize::CountChatPromptTokens(t, *req) : -1;
}

TEST_F(CostAccountingTest, StreamWithoutUsageIsEstimatedWithTheTokenizer) {
  FakeUpstream up;
  const std::vector<std::string> pieces = {"日本語", " means Japanese; the loop sums ", "v 🚀."};
  up.Enqueue(SseResponse(OpenAiFrames("gpt-4o-mini", pieces, /*usage=*/"")));
  Start(OpenAiProvider("openai", up.base_url(), "gpt-4o-mini"));
  ExpectPrice(accounting_->price_book(), "openai", "gpt-4o-mini", 0.15, 0.075, -1, 0.60);

  const std::string body = R"({"model":"gpt-4o-mini","stream":true,)" + kMixedMessages + "}";
  RawResponse r = PostRaw(port(), body);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(r.complete) << r.body;

  auto o200k = tokenize::Tokenizer::Load(tokenize::Encoding::kO200kBase);
  ASSERT_TRUE(o200k.ok());
  const int64_t prompt = PromptTokens(**o200k, body);
  const int64_t completion =
      static_cast<int64_t>((*o200k)->Count("日本語 means Japanese; the loop sums v 🚀."));
  ASSERT_GT(prompt, 20);
  ASSERT_GT(completion, 5);
  const double cost = (prompt * 0.15 + completion * 0.60) / 1e6;

  ASSERT_EQ(r.trailers.count(kCostHeader), 1u);
  EXPECT_NEAR(std::stod(r.trailers[kCostHeader]), cost, 1e-10) << r.trailers[kCostHeader];
  ExpectRecord(RecordFor(r.headers[kIdHeader]),
               {.input = prompt, .output = completion, .estimated = true}, cost, true);
}

TEST_F(CostAccountingTest, JsonAnswerWithoutUsageIsEstimatedWithTheModelsEncoding) {
  FakeUpstream up;
  // An OpenAI-compatible server that reports no usage; gpt-3.5-turbo counts
  // with cl100k_base.
  up.Enqueue(JsonResponse(
      R"({"id":"x","object":"chat.completion","created":1,"model":"gpt-3.5-turbo-0125",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"日本語 means )"
      R"(Japanese; the loop sums v 🚀."},"finish_reason":"stop"}],"usage":null})"));
  Start(OpenAiProvider("openai", up.base_url(), "gpt-3.5-turbo"));
  ExpectPrice(accounting_->price_book(), "openai", "gpt-3.5-turbo-0125", 0.50, -1, -1, 1.50);

  const std::string body = R"({"model":"gpt-3.5-turbo",)" + kMixedMessages + "}";
  HttpResult r = HttpRequest(port(), "POST", "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;

  auto cl100k = tokenize::Tokenizer::Load(tokenize::Encoding::kCl100kBase);
  auto o200k = tokenize::Tokenizer::Load(tokenize::Encoding::kO200kBase);
  ASSERT_TRUE(cl100k.ok() && o200k.ok());
  const std::string answer = "日本語 means Japanese; the loop sums v 🚀.";
  const int64_t prompt = PromptTokens(**cl100k, body);
  const int64_t completion = static_cast<int64_t>((*cl100k)->Count(answer));
  // The encodings differ on this text, so using the wrong one would show.
  ASSERT_NE(prompt, PromptTokens(**o200k, body));
  const double cost = (prompt * 0.50 + completion * 1.50) / 1e6;

  EXPECT_NEAR(std::stod(r.headers[kCostHeader]), cost, 1e-10) << r.headers[kCostHeader];
  ExpectRecord(RecordFor(r.headers[kIdHeader]),
               {.input = prompt, .output = completion, .estimated = true}, cost, false);
}

TEST(PriceAccountingTest, LoadsEachTokenizerOnTheFirstEstimateThatNeedsIt) {
  // Most upstreams report usage: start-up must not parse the rank tables (RSS).
  auto created = PriceAccounting::Create(config::Config{});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const PriceAccounting& acc = **created;
  EXPECT_FALSE(acc.tokenizer_loaded(tokenize::Encoding::kO200kBase));
  EXPECT_FALSE(acc.tokenizer_loaded(tokenize::Encoding::kCl100kBase));

  core::ChatRequest request;
  request.messages.push_back(core::Message{.role = "user", .content = "Count these tokens."});
  core::Usage usage;
  acc.EstimateUsage(request, "gpt-3.5-turbo", "Counted.", usage);
  auto cl100k = tokenize::Tokenizer::Load(tokenize::Encoding::kCl100kBase);
  ASSERT_TRUE(cl100k.ok());
  EXPECT_TRUE(usage.estimated);
  EXPECT_EQ(usage.prompt_tokens, tokenize::CountChatPromptTokens(**cl100k, request));
  EXPECT_EQ(usage.completion_tokens, static_cast<int64_t>((*cl100k)->Count("Counted.")));
  EXPECT_TRUE(acc.tokenizer_loaded(tokenize::Encoding::kCl100kBase));
  EXPECT_FALSE(acc.tokenizer_loaded(tokenize::Encoding::kO200kBase));

  core::Usage usage4o;
  acc.EstimateUsage(request, "gpt-4o-mini", "Counted.", usage4o);
  auto o200k = tokenize::Tokenizer::Load(tokenize::Encoding::kO200kBase);
  ASSERT_TRUE(o200k.ok());
  EXPECT_EQ(usage4o.prompt_tokens, tokenize::CountChatPromptTokens(**o200k, request));
  EXPECT_TRUE(acc.tokenizer_loaded(tokenize::Encoding::kO200kBase));
}

}  // namespace
}  // namespace switchyard::app
