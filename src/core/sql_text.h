// SQL text shared by the SQLite stores (ledger, egress audit).
#pragma once

#include <string>

namespace switchyard::core {

// Appends the VALUES rows of a multi-row INSERT with numbered parameters:
// rows = 2, params_per_row = 3 appends "(?1, ?2, ?3), (?4, ?5, ?6)". Pure.
void AppendValuesRows(std::string& sql, int rows, int params_per_row);

}  // namespace switchyard::core
