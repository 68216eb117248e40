// Record: the ledger's one row per request.
//
// The gateway fills one Record when a request finishes (answered, failed or
// cancelled) and hands it to AsyncWriter::Push(). A Record is a plain value:
// copyable, movable, no invariants beyond the field comments. Every field has a
// neutral default so a partially known request (e.g. rejected before routing)
// still produces a valid row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::ledger {

struct Record {
  std::string id;     // unique per request (the response id); the store ignores duplicates
  int64_t ts_ms = 0;  // unix time in ms at which the request started
  std::string tenant;
  std::string task;
  std::string route;  // what the client asked for: a model, an alias or a route name
  std::vector<std::string> stages_tried;  // "provider/model", in the order tried
  std::string answered_by;                // "provider/model" that answered, "" if none did
  std::string provider;                   // provider of the last attempt ("" if none was made)
  std::string model;                      // model of the last attempt, as the provider names it
  bool stream = false;
  int attempts = 0;  // upstream attempts made, retries and fallbacks included

  // Token usage. input_tokens counts all input, cached tokens included.
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;  // read from the provider's prompt cache
  int64_t cache_write_tokens = 0;   // written to the provider's prompt cache
  int64_t output_tokens = 0;        // reasoning tokens included
  int64_t reasoning_tokens = 0;
  bool usage_estimated = false;  // counted locally: the upstream reported none

  double cost_usd = 0;
  double first_byte_ms = 0;  // 0 when no byte was sent
  double total_ms = 0;

  int status = 0;          // HTTP status sent to the client
  std::string error_code;  // "" when the request succeeded
  bool escalated = false;
  std::optional<double> confidence;
  std::string template_hash;  // PromptTemplateHash(): 16 lowercase hex chars
  std::string route_reason;   // why a router/cascade route forced its choice; "" = the score

  // Payloads: empty unless the retention policy keeps them.
  std::string request_body;
  std::string response_body;
  std::string pii_findings;  // JSON text, "" for none

  bool operator==(const Record&) const = default;
};

}  // namespace switchyard::ledger
