#include "core/sql_text.h"

namespace switchyard::core {

void AppendValuesRows(std::string& sql, int rows, int params_per_row) {
  for (int row = 0; row < rows; ++row) {
    sql += row == 0 ? "(" : ", (";
    for (int p = 1; p <= params_per_row; ++p) {
      if (p > 1) sql += ", ";
      sql += '?';
      sql += std::to_string(row * params_per_row + p);
    }
    sql += ')';
  }
}

}  // namespace switchyard::core
