// Status and Result<T>: the error vocabulary used at every boundary.
//
// A Status is a code plus a human message. Codes are few and canonical; one
// function (api/errors.h) maps them to HTTP statuses and OpenAI error objects.
// Nothing in the data plane throws: third-party exceptions are caught inside the
// adapter that calls the library and converted into a Status here.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace switchyard::core {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed input: 400
  kUnauthenticated,     // missing or bad key: 401
  kPermissionDenied,    // policy forbids: 403
  kNotFound,            // unknown model, route, path: 404
  kMethodNotAllowed,    // wrong HTTP method: 405
  kPayloadTooLarge,     // body over the limit: 413
  kResourceExhausted,   // rate limit, budget, upstream 429: 429
  kCancelled,           // client went away: 499 (never sent)
  kInternal,            // a bug or an impossible state: 500
  kUnavailable,         // upstream failed (connect, reset, 5xx): 502
  kDeadlineExceeded,    // upstream timed out: 504
  kFailedPrecondition,  // e.g. config invalid, store locked
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Optional machine-readable detail for the OpenAI error object ("code" field),
  // e.g. "model_not_found", and the request field at fault ("param").
  const std::string& error_code() const { return error_code_; }
  Status& set_error_code(std::string c) {
    error_code_ = std::move(c);
    return *this;
  }
  const std::string& param() const { return param_; }
  Status& set_param(std::string p) {
    param_ = std::move(p);
    return *this;
  }
  // Upstream detail: the HTTP status the upstream sent (0 when none) and the
  // delay it asked for with Retry-After.
  int upstream_status() const { return upstream_status_; }
  Status& set_upstream_status(int s) {
    upstream_status_ = s;
    return *this;
  }
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }
  Status& set_retry_after(std::chrono::milliseconds d) {
    retry_after_ = d;
    return *this;
  }

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string error_code_;
  std::string param_;
  int upstream_status_ = 0;
  std::optional<std::chrono::milliseconds> retry_after_;
};

inline Status InvalidArgument(std::string msg) {
  return {StatusCode::kInvalidArgument, std::move(msg)};
}
inline Status NotFound(std::string msg) {
  return {StatusCode::kNotFound, std::move(msg)};
}
inline Status Internal(std::string msg) {
  return {StatusCode::kInternal, std::move(msg)};
}
inline Status Unavailable(std::string msg) {
  return {StatusCode::kUnavailable, std::move(msg)};
}
inline Status DeadlineExceeded(std::string msg) {
  return {StatusCode::kDeadlineExceeded, std::move(msg)};
}
inline Status FailedPrecondition(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status Cancelled(std::string msg) {
  return {StatusCode::kCancelled, std::move(msg)};
}

// Result<T>: a value or a non-OK Status. Cannot be silently dropped.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<1>(v_);
  }
  Status take_status() { return ok() ? Status{} : std::move(std::get<1>(v_)); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace switchyard::core
