#include "app/recording.h"

#include "ledger/template_hash.h"

namespace switchyard::app {

ledger::Record ToRecord(gateway::Outcome o, const config::LedgerConfig& cfg,
                        ledger::TemplateHashCache* templates) {
  ledger::Record r;
  r.id = std::move(o.id);
  r.ts_ms = o.start_unix_ms;
  r.route = std::move(o.route);
  r.stages_tried = std::move(o.stages_tried);
  r.answered_by = std::move(o.answered_by);
  r.provider = std::move(o.provider);
  r.model = std::move(o.model);
  r.stream = o.stream;
  r.attempts = o.attempts;
  r.input_tokens = o.usage.prompt_tokens;
  r.cached_input_tokens = o.usage.cached_prompt_tokens;
  r.cache_write_tokens = o.usage.cache_write_tokens;
  r.output_tokens = o.usage.completion_tokens;
  r.reasoning_tokens = o.usage.reasoning_tokens;
  r.usage_estimated = o.usage.estimated;
  r.cost_usd = o.cost_usd;
  r.first_byte_ms = o.first_byte_ms;
  r.total_ms = o.total_ms;
  r.status = o.status;
  r.error_code = std::move(o.error_code);
  r.task = std::move(o.task);
  r.tenant = std::move(o.tenant);
  r.pii_findings = std::move(o.pii_findings);
  r.route_reason = std::move(o.route_reason);
  r.escalated = o.escalated;
  r.confidence = o.confidence;
  if (o.request != nullptr) {
    r.template_hash =
        templates != nullptr ? templates->Hash(*o.request) : ledger::PromptTemplateHash(*o.request);
  }
  const bool keep =
      cfg.store_payloads == "all" || (cfg.store_payloads == "errors" && o.status >= 400);
  if (keep) {
    r.request_body = std::string(o.request_body);
    r.response_body = std::string(o.response_body);
  }
  return r;
}

}  // namespace switchyard::app
