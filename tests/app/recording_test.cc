// app::ToRecord(): every Outcome field lands in its Record field, whether the
// outcome is copied (const&) or moved (&&), payloads follow store_payloads, and
// the template hash comes from the request (through the cache or not).
#include "app/recording.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::app {
namespace {

core::ChatRequest Prompt() {
  core::ChatRequest req;
  req.model = "m";
  req.messages.push_back({.role = "system", .content = "You triage tickets."});
  req.messages.push_back({.role = "user", .content = "Ticket: printer on fire"});
  return req;
}

// Every field set, each to a value of its own.
gateway::Outcome FullOutcome(const core::ChatRequest* request, int status) {
  gateway::Outcome o;
  o.id = "chatcmpl-123";
  o.start_unix_ms = 1700000000123;
  o.route = "default";
  o.stages_tried = {"up/a", "up/a", "local/b"};
  o.answered_by = "local/b";
  o.provider = "local";
  o.model = "b";
  o.stream = true;
  o.attempts = 3;
  o.usage.prompt_tokens = 1000;
  o.usage.cached_prompt_tokens = 400;
  o.usage.cache_write_tokens = 50;
  o.usage.completion_tokens = 300;
  o.usage.reasoning_tokens = 20;
  o.usage.estimated = true;
  o.cost_usd = 0.125;
  o.status = status;
  o.error_code = status >= 400 ? "upstream_error" : "";
  o.first_byte_ms = 12.5;
  o.total_ms = 80.25;
  o.request = request;
  o.request_body = R"({"model":"m"})";
  o.response_body = R"({"id":"chatcmpl-123"})";
  o.task = "triage";
  o.escalated = true;
  o.confidence = 0.75;
  o.tenant = "acme";
  o.pii_findings = R"({"email":1})";
  o.route_reason = "latency_slo";
  return o;
}

ledger::Record Expected(const core::ChatRequest& request, int status, bool payloads) {
  ledger::Record r;
  r.id = "chatcmpl-123";
  r.ts_ms = 1700000000123;
  r.tenant = "acme";
  r.task = "triage";
  r.route = "default";
  r.stages_tried = {"up/a", "up/a", "local/b"};
  r.answered_by = "local/b";
  r.provider = "local";
  r.model = "b";
  r.stream = true;
  r.attempts = 3;
  r.input_tokens = 1000;
  r.cached_input_tokens = 400;
  r.cache_write_tokens = 50;
  r.output_tokens = 300;
  r.reasoning_tokens = 20;
  r.usage_estimated = true;
  r.cost_usd = 0.125;
  r.first_byte_ms = 12.5;
  r.total_ms = 80.25;
  r.status = status;
  r.error_code = status >= 400 ? "upstream_error" : "";
  r.escalated = true;
  r.confidence = 0.75;
  r.template_hash = ledger::PromptTemplateHash(request);
  r.route_reason = "latency_slo";
  if (payloads) {
    r.request_body = R"({"model":"m"})";
    r.response_body = R"({"id":"chatcmpl-123"})";
  }
  r.pii_findings = R"({"email":1})";
  return r;
}

TEST(ToRecordTest, CopiesEveryFieldAndLeavesTheOutcomeAlone) {
  const core::ChatRequest req = Prompt();
  config::LedgerConfig cfg;  // store_payloads "none"
  const gateway::Outcome o = FullOutcome(&req, 200);
  EXPECT_EQ(ToRecord(o, cfg), Expected(req, 200, false));
  EXPECT_EQ(o.id, "chatcmpl-123");  // copied, not moved from
  EXPECT_EQ(o.stages_tried.size(), 3u);
  EXPECT_EQ(o.pii_findings, R"({"email":1})");
}

TEST(ToRecordTest, MovedOutcomeGivesTheSameRecord) {
  const core::ChatRequest req = Prompt();
  config::LedgerConfig cfg;
  ledger::TemplateHashCache cache;
  for (int round = 0; round < 2; ++round) {  // a cache miss, then a hit
    gateway::Outcome o = FullOutcome(&req, 200);
    EXPECT_EQ(ToRecord(std::move(o), cfg, &cache), Expected(req, 200, false)) << round;
  }
}

TEST(ToRecordTest, PayloadsFollowStorePayloads) {
  const core::ChatRequest req = Prompt();
  config::LedgerConfig cfg;
  cfg.store_payloads = "errors";
  EXPECT_EQ(ToRecord(FullOutcome(&req, 200), cfg), Expected(req, 200, false));
  EXPECT_EQ(ToRecord(FullOutcome(&req, 502), cfg), Expected(req, 502, true));
  cfg.store_payloads = "all";
  EXPECT_EQ(ToRecord(FullOutcome(&req, 200), cfg), Expected(req, 200, true));
  cfg.store_payloads = "none";
  EXPECT_EQ(ToRecord(FullOutcome(&req, 502), cfg), Expected(req, 502, false));
}

// The two-step form (PrepareRecord outside the writer's lock, then a
// ToRecord that only moves) gives the same record, payload policy included.
TEST(ToRecordTest, PreparedInTwoStepsGivesTheSameRecord) {
  const core::ChatRequest req = Prompt();
  config::LedgerConfig cfg;
  ledger::TemplateHashCache cache;
  for (const char* policy : {"none", "errors", "all"}) {
    cfg.store_payloads = policy;
    for (int status : {200, 502}) {
      gateway::Outcome o = FullOutcome(&req, status);
      RecordWork work = PrepareRecord(o, cfg, &cache);
      const bool kept =
          std::string(policy) == "all" || (std::string(policy) == "errors" && status >= 400);
      EXPECT_EQ(ToRecord(std::move(o), std::move(work)), Expected(req, status, kept))
          << policy << " " << status;
    }
  }
}

TEST(ToRecordTest, NoParsedRequestGivesNoTemplateHash) {
  config::LedgerConfig cfg;
  ledger::TemplateHashCache cache;
  gateway::Outcome o = FullOutcome(nullptr, 400);
  const ledger::Record r = ToRecord(std::move(o), cfg, &cache);
  EXPECT_EQ(r.template_hash, "");
  EXPECT_EQ(r.id, "chatcmpl-123");
}

}  // namespace
}  // namespace switchyard::app
