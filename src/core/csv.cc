#include "core/csv.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_set>

namespace switchyard::core {
namespace {

std::string At(std::string_view name, size_t line) {
  return std::string(name) + ":" + std::to_string(line);
}

}  // namespace

std::optional<size_t> CsvTable::ColumnIndex(std::string_view column) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == column) return i;
  }
  return std::nullopt;
}

Result<size_t> CsvTable::RequireColumn(std::string_view column) const {
  if (auto i = ColumnIndex(column)) return *i;
  return InvalidArgument(name + ": missing column '" + std::string(column) + "'");
}

std::string CsvTable::Where(size_t row) const {
  return At(name, row < row_lines.size() ? row_lines[row] : 0);
}

Result<CsvTable> ParseCsv(std::string_view text, std::string_view name) {
  CsvTable table;
  table.name = std::string(name);
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  const size_t n = text.size();
  size_t pos = 0;
  size_t line = 1;
  bool have_header = false;
  std::vector<std::string> fields;
  while (pos < n) {
    const size_t record_line = line;
    fields.clear();
    bool any_quoted = false;
    while (true) {
      std::string field;
      if (pos < n && text[pos] == '"') {
        any_quoted = true;
        const size_t opened = line;
        ++pos;
        while (true) {
          if (pos >= n) return InvalidArgument(At(name, opened) + ": unterminated quoted field");
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field.push_back('"');
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++pos;
        }
        if (pos < n && text[pos] != ',' && text[pos] != '\n' && text[pos] != '\r') {
          return InvalidArgument(At(name, line) + ": unexpected character after closing quote");
        }
      } else {
        const size_t start = pos;
        while (pos < n && text[pos] != ',' && text[pos] != '\n' && text[pos] != '\r') {
          if (text[pos] == '"') {
            return InvalidArgument(At(name, line) + ": quote inside an unquoted field");
          }
          ++pos;
        }
        field.assign(text.substr(start, pos - start));
      }
      fields.push_back(std::move(field));
      if (pos < n && text[pos] == ',') {
        ++pos;
        continue;
      }
      // End of record: CRLF, LF, lone CR or end of text.
      if (pos < n && text[pos] == '\r') ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
      ++line;
      break;
    }
    if (fields.size() == 1 && fields[0].empty() && !any_quoted) continue;  // blank line
    if (!have_header) {
      std::unordered_set<std::string> seen;
      for (const auto& f : fields) {
        if (!seen.insert(f).second) {
          return InvalidArgument(table.name + ": duplicate column '" + f + "' in the header");
        }
      }
      table.header = std::move(fields);
      fields = {};
      have_header = true;
      continue;
    }
    if (fields.size() != table.header.size()) {
      return InvalidArgument(At(name, record_line) + ": row has " + std::to_string(fields.size()) +
                             " fields, the header has " + std::to_string(table.header.size()));
    }
    table.rows.push_back(std::move(fields));
    fields = {};
    table.row_lines.push_back(record_line);
  }
  if (!have_header) return InvalidArgument(table.name + ": empty file");
  return table;
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgument(path + ": cannot read file (Is a directory)");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return InvalidArgument(path + ": cannot read file (" +
                           (err != 0 ? std::strerror(err) : "unknown error") + ")");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return InvalidArgument(path + ": cannot read file (read error)");
  return std::move(ss).str();
}

Result<CsvTable> ReadCsvFile(const std::string& path) {
  auto text = ReadTextFile(path);
  if (!text.ok()) return text.take_status();
  return ParseCsv(*text, path);
}

void AppendCsvField(std::string& out, std::string_view field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRow(std::string& out, const std::vector<std::string_view>& fields) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendCsvField(out, fields[i]);
  }
  out.push_back('\n');
}

}  // namespace switchyard::core
