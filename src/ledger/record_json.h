// One Record as one line of JSON: the spill-file format.
//
// Keys are the Record field names; `confidence` is null when absent;
// `stages_tried` is an array of strings. Parsing tolerates missing keys (they
// keep their defaults) and unknown keys (ignored), so spill files written by an
// older or newer build still replay. Both functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "ledger/record.h"

namespace switchyard::ledger {

// Appends `r` as a compact JSON object (no trailing newline) to `out`.
void AppendRecordJson(std::string& out, const Record& r);

// Parses one JSON object produced by AppendRecordJson().
// Errors: InvalidArgument "ledger record: <what>" on malformed JSON, a non-object,
// a field of the wrong type, or a missing/empty "id".
core::Result<Record> ParseRecordJson(std::string_view json);

}  // namespace switchyard::ledger
