// Helpers shared by the ledger tests: a temporary directory and sample records.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ledger/record.h"
#include "support/temp_dir.h"

namespace switchyard::ledger::testing {

// A fresh directory, removed on destruction.
using TempDir = switchyard::testing::ScopedTempDir;

// A record with every field set to a value derived from `n`.
inline Record SampleRecord(int n) {
  Record r;
  r.id = "req-" + std::to_string(n);
  r.ts_ms = 1714564800000 + n;
  r.tenant = "acme";
  r.task = "triage";
  r.route = "default";
  r.stages_tried = {"openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"};
  r.answered_by = "anthropic/claude-3-5-haiku-latest";
  r.provider = "anthropic";
  r.model = "claude-3-5-haiku-latest";
  r.stream = n % 2 == 0;
  r.attempts = 2;
  r.input_tokens = 1000 + n;
  r.cached_input_tokens = 200;
  r.cache_write_tokens = 50;
  r.output_tokens = 300;
  r.reasoning_tokens = 40;
  r.usage_estimated = n % 3 == 0;
  r.cost_usd = 0.000123 * (n + 1);
  r.first_byte_ms = 120.5;
  r.total_ms = 480.25;
  r.status = 200;
  r.error_code = "";
  r.escalated = true;
  r.confidence = 0.875;
  r.template_hash = "0123456789abcdef";
  r.route_reason = n % 2 == 1 ? "latency_slo" : "";
  r.request_body = "{\"model\":\"default\",\"messages\":[]}";
  r.response_body = "{\"id\":\"x\",\"note\":\"line1\\nline2 \xc3\xa9\"}";
  r.pii_findings = "[{\"kind\":\"email\",\"count\":1}]";
  return r;
}

using switchyard::testing::ReadFile;

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

}  // namespace switchyard::ledger::testing
