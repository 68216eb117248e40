#include "app/recording.h"

#include "ledger/template_hash.h"

namespace switchyard::app {
namespace {

std::string TemplateHashOf(const core::ChatRequest* request, ledger::TemplateHashCache* templates) {
  if (request == nullptr) return {};
  return templates != nullptr ? templates->Hash(*request) : ledger::PromptTemplateHash(*request);
}

}  // namespace

RecordWork PrepareRecord(const gateway::Outcome& o, const config::LedgerConfig& cfg,
                         ledger::TemplateHashCache* templates) {
  const bool keep =
      cfg.store_payloads == "all" || (cfg.store_payloads == "errors" && o.status >= 400);
  return RecordWork{
      .template_hash = TemplateHashOf(o.request, templates),
      .request_body = keep ? std::string(o.request_body) : std::string(),
      .response_body = keep ? std::string(o.response_body) : std::string(),
  };
}

ledger::Record ToRecord(gateway::Outcome&& o, const config::LedgerConfig& cfg,
                        ledger::TemplateHashCache* templates) {
  RecordWork work = PrepareRecord(o, cfg, templates);
  return ToRecord(std::move(o), std::move(work));
}

ledger::Record ToRecord(gateway::Outcome&& o, RecordWork&& work) {
  // Built in place, in the field order of ledger::Record: every string is
  // move-constructed once (no default construction and assignment after).
  return ledger::Record{
      .id = std::move(o.id),
      .ts_ms = o.start_unix_ms,
      .tenant = std::move(o.tenant),
      .task = std::move(o.task),
      .route = std::move(o.route),
      .stages_tried = std::move(o.stages_tried),
      .answered_by = std::move(o.answered_by),
      .provider = std::move(o.provider),
      .model = std::move(o.model),
      .stream = o.stream,
      .attempts = o.attempts,
      .input_tokens = o.usage.prompt_tokens,
      .cached_input_tokens = o.usage.cached_prompt_tokens,
      .cache_write_tokens = o.usage.cache_write_tokens,
      .output_tokens = o.usage.completion_tokens,
      .reasoning_tokens = o.usage.reasoning_tokens,
      .usage_estimated = o.usage.estimated,
      .cost_usd = o.cost_usd,
      .first_byte_ms = o.first_byte_ms,
      .total_ms = o.total_ms,
      .status = o.status,
      .error_code = std::move(o.error_code),
      .escalated = o.escalated,
      .confidence = o.confidence,
      .template_hash = std::move(work.template_hash),
      .route_reason = std::move(o.route_reason),
      .request_body = std::move(work.request_body),
      .response_body = std::move(work.response_body),
      .pii_findings = std::move(o.pii_findings),
  };
}

ledger::Record ToRecord(const gateway::Outcome& o, const config::LedgerConfig& cfg,
                        ledger::TemplateHashCache* templates) {
  return ToRecord(gateway::Outcome(o), cfg, templates);
}

}  // namespace switchyard::app
