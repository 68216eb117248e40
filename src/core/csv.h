// CSV reading and writing (RFC 4180): a header row, named columns, quoted
// fields with embedded commas, newlines and doubled quotes, LF or CRLF line
// ends, an optional UTF-8 byte-order mark. Blank lines are skipped.
//
// The whole file is parsed into memory: the data sets we read (labels, traces,
// outcomes) are megabytes, not gigabytes.
//
// Thread-safety: pure functions; a CsvTable is a plain value.
// Errors (all kInvalidArgument, one line, starting with the source name and,
// where it applies, the 1-based line number):
//   "<name>: empty file"                                  no header row
//   "<name>:<line>: unterminated quoted field"            EOF inside quotes (line where it opened)
//   "<name>:<line>: unexpected character after closing quote"   e.g. "ab"c
//   "<name>:<line>: quote inside an unquoted field"       e.g. ab"c
//   "<name>:<line>: row has <n> fields, the header has <m>"
//   "<name>: duplicate column '<c>' in the header"
//   "<name>: missing column '<c>'"                        from RequireColumn
// ReadTextFile: "<path>: cannot read file (<strerror>)".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::core {

struct CsvTable {
  std::string name;  // source name used in error messages (usually the path)
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each has header.size() fields
  std::vector<size_t> row_lines;               // 1-based line where each row starts

  // Index of the column named `column` (exact match), or nullopt.
  std::optional<size_t> ColumnIndex(std::string_view column) const;
  // As ColumnIndex, but a missing column is an error "<name>: missing column '<c>'".
  Result<size_t> RequireColumn(std::string_view column) const;
  // "<name>:<line>" of row `row`, for messages about a row's content.
  std::string Where(size_t row) const;
};

// Parses a whole CSV text; `name` prefixes error messages.
Result<CsvTable> ParseCsv(std::string_view text, std::string_view name);

// Reads a whole file into memory.
Result<std::string> ReadTextFile(const std::string& path);

// ReadTextFile + ParseCsv with the path as the name.
Result<CsvTable> ReadCsvFile(const std::string& path);

// Appends `field` to `out`, quoted (with doubled quotes) when it contains a
// comma, a quote, CR or LF, or starts or ends with a space.
void AppendCsvField(std::string& out, std::string_view field);

// Appends a whole row: fields joined by commas, then "\n".
void AppendCsvRow(std::string& out, const std::vector<std::string_view>& fields);

}  // namespace switchyard::core
