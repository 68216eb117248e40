#include "api/sse.h"

#include <cstring>
#include <utility>

namespace switchyard::api {

size_t SseEventEnd(std::string_view s) {
  size_t i = 0;
  while (i + 1 < s.size()) {
    // memchr: events are a few hundred bytes with two newlines each.
    const void* nl = std::memchr(s.data() + i, '\n', s.size() - i - 1);
    if (nl == nullptr) break;
    i = static_cast<size_t>(static_cast<const char*>(nl) - s.data());
    if (s[i + 1] == '\n') return i + 2;
    if (s[i + 1] == '\r' && i + 2 < s.size() && s[i + 2] == '\n') return i + 3;
    ++i;
  }
  return std::string_view::npos;
}
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

core::Status SseParser::Fail(core::Status status) {
  error_ = status;
  line_.clear();
  data_.clear();
  return status;
}

core::Status SseParser::Feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (!error_.ok()) return error_;
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    const size_t eol = bytes.find_first_of("\r\n", pos);
    const size_t piece_end = eol == std::string_view::npos ? bytes.size() : eol;
    const std::string_view piece = bytes.substr(pos, piece_end - pos);
    if (line_.size() + piece.size() > max_line_bytes_) {
      return Fail(
          core::Unavailable("SSE line exceeds " + std::to_string(max_line_bytes_) + " bytes"));
    }
    if (eol == std::string_view::npos) {
      line_.append(piece);
      break;
    }
    core::Status status;
    if (line_.empty()) {
      status = ProcessLine(piece, out);
    } else {
      line_.append(piece);
      status = ProcessLine(line_, out);
      line_.clear();
    }
    if (!status.ok()) return Fail(std::move(status));
    skip_lf_ = bytes[eol] == '\r';
    pos = eol + 1;
  }
  return core::Status::Ok();
}

core::Status SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>& out) {
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    if (has_data_) out.push_back(SseEvent{std::move(event_), std::move(data_), last_id_});
    event_.clear();
    data_.clear();
    has_data_ = false;
    return core::Status::Ok();
  }
  if (line.front() == ':') return core::Status::Ok();  // comment

  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      return core::Unavailable("SSE event exceeds " + std::to_string(max_event_bytes_) + " bytes");
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  }
  // "retry" and unknown fields are ignored.
  return core::Status::Ok();
}

}  // namespace switchyard::api
