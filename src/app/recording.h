// Recording: how the composition root turns a gateway Outcome into a ledger
// Record (the recorder callback of `switchyard serve`, also used by tests that
// wire the gateway in process).
#pragma once

#include "config/config.h"
#include "gateway/gateway.h"
#include "ledger/record.h"
#include "ledger/template_hash.h"

namespace switchyard::app {

// Copies what the ledger keeps of `outcome`; the request and response bodies
// only when `ledger.store_payloads` says so ("all", or "errors" for status >=
// 400). The prompt-template hash is computed from outcome.request when it was
// parsed. Pure; call it inside the recorder callback (the Outcome's views are
// valid only there). Pass the outcome with std::move() when it is not used
// afterwards: its strings then move into the record instead of being copied
// (and the Outcome itself is neither copied nor moved).
// With `templates`, the hash comes from that cache (the same value, computed
// once per distinct prompt template rather than per request).
ledger::Record ToRecord(gateway::Outcome&& outcome, const config::LedgerConfig& ledger,
                        ledger::TemplateHashCache* templates = nullptr);
ledger::Record ToRecord(const gateway::Outcome& outcome, const config::LedgerConfig& ledger,
                        ledger::TemplateHashCache* templates = nullptr);

// The same in two steps, for AsyncWriter::Emplace: RecordWork does what
// costs (the template hash, copies of the kept bodies) before the writer's
// lock is taken; the ToRecord overload below only moves strings.
struct RecordWork {
  std::string template_hash;
  std::string request_body;
  std::string response_body;
};
RecordWork PrepareRecord(const gateway::Outcome& outcome, const config::LedgerConfig& ledger,
                         ledger::TemplateHashCache* templates = nullptr);
ledger::Record ToRecord(gateway::Outcome&& outcome, RecordWork&& work);

}  // namespace switchyard::app
