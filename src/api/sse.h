// SseParser: an incremental Server-Sent-Events decoder (no I/O).
//
// Implements the event-stream parsing rules of the WHATWG HTML spec: lines end
// with \n, \r\n or \r (a \r\n pair may be split across Feed calls); a leading
// UTF-8 BOM is skipped; lines starting with ':' are comments; a line without a
// colon is a field with an empty value; one space after the colon is removed;
// "data" lines are joined with \n; a blank line dispatches the event, but only
// when it carried at least one "data" line; "id" persists across events (the
// spec's last-event-id) and is ignored when it contains NUL; "retry" and unknown
// fields are ignored. An incomplete event at the end of the stream is never
// dispatched.
//
// Ownership: the parser owns its buffers; events are appended to a caller-owned
// vector. Thread-safety: none (one parser per stream, used by one thread).
// Errors: kUnavailable "SSE line exceeds <max_line_bytes> bytes" when a line
// (complete or still being buffered) is longer than the limit, and
// "SSE event exceeds <max_event_bytes> bytes" when the joined data of one event
// grows past its limit. After an error the parser is poisoned: every later Feed
// returns the same error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace switchyard::api {

// Position just past the blank line ("\n\n" or "\n\r\n") that ends the first
// event in `bytes`, or npos when no event is complete yet. For relays that
// forward whole events verbatim without parsing their fields.
size_t SseEventEnd(std::string_view bytes);

struct SseEvent {
  std::string event;  // the "event" field; empty when absent (spec type "message")
  std::string data;   // "data" lines joined with \n
  std::string id;     // last event id seen on the stream so far ("" when none)
};

class SseParser {
 public:
  static constexpr size_t kDefaultMaxLineBytes = size_t{1} << 20;
  static constexpr size_t kDefaultMaxEventBytes = size_t{4} << 20;

  explicit SseParser(size_t max_line_bytes = kDefaultMaxLineBytes,
                     size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_line_bytes_(max_line_bytes), max_event_bytes_(max_event_bytes) {}

  // Consumes `bytes` (any split of the stream) and appends every event
  // completed by them to `out` (which is not cleared).
  core::Status Feed(std::string_view bytes, std::vector<SseEvent>& out);

 private:
  core::Status ProcessLine(std::string_view line, std::vector<SseEvent>& out);
  core::Status Fail(core::Status status);

  size_t max_line_bytes_;
  size_t max_event_bytes_;
  std::string line_;        // partial line carried over between Feed calls
  bool skip_lf_ = false;    // the previous byte was \r: a following \n ends nothing
  bool first_line_ = true;  // the BOM check is still pending
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  std::string last_id_;
  core::Status error_;
};

}  // namespace switchyard::api
